package utf8x

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// completions extend any completable prefix to valid UTF-8: the first
// continuation byte must fall in one of the ranges 80-8F (after F4), 80-9F
// (after ED), 90-BF (after F0), A0-BF (after E0) or 80-BF, and every one
// of those contains 0x80, 0x90 or 0xA0; later ones accept 0x80.
var completions = func() []string {
	out := []string{""}
	for _, c := range []string{"\x80", "\x90", "\xa0"} {
		out = append(out, c, c+"\x80", c+"\x80\x80")
	}
	return out
}()

// completable is the reference for fail-fast: p can be extended to valid
// UTF-8.
func completable(p []byte) bool {
	for _, c := range completions {
		if utf8.Valid(append(append([]byte{}, p...), c...)) {
			return true
		}
	}
	return false
}

// firstFailure returns the length of the shortest non-completable prefix
// of p, or -1 if every prefix is completable.
func firstFailure(p []byte) int {
	for k := 1; k <= len(p); k++ {
		if !completable(p[:k]) {
			return k
		}
	}
	return -1
}

var cases = []struct {
	name  string
	in    string
	valid bool
	// failAt is the 1-based position of the byte at which a byte-by-byte
	// Write must first return false (0 when it never does).
	failAt int
}{
	{"empty", "", true, 0},
	{"ascii", "hello, world", true, 0},
	{"ascii long", strings.Repeat("0123456789abcdef", 5), true, 0},
	{"2-byte", "é", true, 0},
	{"3-byte", "世界", true, 0},
	{"4-byte", "🌍", true, 0},
	{"mixed", "a é 世 🌍 z, and then some ASCII to pass the fast path", true, 0},
	{"max 2-byte", "\u07ff", true, 0},
	{"min 3-byte", "\u0800", true, 0},
	{"before surrogates", "\ud7ff", true, 0},
	{"after surrogates", "\ue000", true, 0},
	{"max BMP", "\uffff", true, 0},
	{"min 4-byte", "\U00010000", true, 0},
	{"max code point", "\U0010ffff", true, 0},
	{"lone continuation", "\x80", false, 1},
	{"ascii then continuation", "abcdefghij\xbf", false, 11},
	{"C0", "\xc0\x80", false, 1},
	{"C1", "\xc1\xbf", false, 1},
	{"F5", "\xf5\x80\x80\x80", false, 1},
	{"FF", "ab\xff", false, 3},
	{"overlong 3-byte", "\xe0\x80\x80", false, 2},
	{"overlong 3-byte 9F", "\xe0\x9f\xbf", false, 2},
	{"overlong 4-byte", "\xf0\x80\x80\x80", false, 2},
	{"overlong 4-byte 8F", "\xf0\x8f\xbf\xbf", false, 2},
	{"surrogate low", "\xed\xa0\x80", false, 2},
	{"surrogate high", "\xed\xbf\xbf", false, 2},
	{"above max", "\xf4\x90\x80\x80", false, 2},
	{"truncated 2-byte", "\xc3", false, 0},
	{"truncated 3-byte", "\xe4\xb8", false, 0},
	{"truncated 4-byte", "\xf0\x9f\x8c", false, 0},
	{"truncated then ascii", "\xe4\xb8a", false, 3},
	{"lead then lead", "\xc3\xc3", false, 2},
	{"4-byte bad third", "\xf0\x9f\x41\x8d", false, 3},
	{"4-byte bad fourth", "\xf0\x9f\x8c\xc0", false, 4},
	{"invalid after long ascii", strings.Repeat("x", 37) + "\xed\xa0\x80", false, 39},
	{"autobahn 6.4.1", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xf4\x90\x80\x80\x65\x64\x69\x74\x65\x64", false, 13},
}

func TestValid(t *testing.T) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			require.Equal(t, tt.valid, utf8.Valid(in), "test case disagrees with utf8.Valid")
			assert.Equal(t, tt.valid, Valid(in))
		})
	}
}

func TestValidatorByteByByte(t *testing.T) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			want := tt.failAt
			if want == 0 {
				want = -1
			}
			require.Equal(t, want, firstFailure(in), "test case disagrees with reference")
			var v Validator
			failed := -1
			for i := range in {
				ok := v.Write(in[i : i+1])
				if !ok && failed < 0 {
					failed = i + 1
				}
				if failed >= 0 {
					assert.False(t, ok, "Write must stay false after failing")
				}
			}
			assert.Equal(t, want, failed, "fail-fast position")
			assert.Equal(t, tt.valid, v.Complete())
			// Empty writes change nothing.
			assert.Equal(t, failed < 0, v.Write(nil))
		})
	}
}

func TestValidatorTwoPieces(t *testing.T) {
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			in := []byte(tt.in)
			for split := 0; split <= len(in); split++ {
				var v Validator
				ok1 := v.Write(in[:split])
				ok2 := v.Write(in[split:])
				assert.Equal(t, tt.failAt == 0 || tt.failAt > split, ok1, "split %d first", split)
				assert.Equal(t, tt.failAt == 0, ok2, "split %d second", split)
				assert.Equal(t, tt.valid, ok1 && ok2 && v.Complete(), "split %d", split)
			}
		})
	}
}

func TestValidatorReset(t *testing.T) {
	var v Validator
	assert.False(t, v.Write([]byte{0xff}))
	assert.False(t, v.Complete())
	v.Reset()
	assert.True(t, v.Complete())
	assert.True(t, v.Write([]byte("\xe4")))
	assert.False(t, v.Complete())
	v.Reset()
	assert.True(t, v.Write([]byte("ok")))
	assert.True(t, v.Complete())
}

func TestValidDifferentialExhaustiveShort(t *testing.T) {
	// Every 1- and 2-byte input, and every 3-byte input whose first byte
	// is a lead byte of a multi-byte sequence or ASCII, against the
	// standard library.
	var b [3]byte
	for x := 0; x < 256; x++ {
		b[0] = byte(x)
		require.Equal(t, utf8.Valid(b[:1]), Valid(b[:1]), "%x", b[:1])
		for y := 0; y < 256; y++ {
			b[1] = byte(y)
			require.Equal(t, utf8.Valid(b[:2]), Valid(b[:2]), "%x", b[:2])
		}
	}
	for _, x := range []byte{'a', 0xe0, 0xe1, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf4} {
		b[0] = x
		for y := 0; y < 256; y++ {
			b[1] = byte(y)
			for z := 0; z < 256; z++ {
				b[2] = byte(z)
				require.Equal(t, utf8.Valid(b[:3]), Valid(b[:3]), "%x", b[:3])
			}
		}
	}
}

func TestValidDifferentialAllPositions(t *testing.T) {
	// Place each case at every offset inside ASCII padding so that it
	// meets the 8-byte fast path at every alignment.
	for _, tt := range cases {
		for pad := 0; pad <= 17; pad++ {
			in := []byte(strings.Repeat("p", pad) + tt.in + strings.Repeat("s", 17-pad))
			assert.Equal(t, utf8.Valid(in), Valid(in), "%q pad %d", tt.name, pad)
		}
	}
}

func TestZeroAllocs(t *testing.T) {
	in := []byte(strings.Repeat("mixed é 世 🌍 text ", 20))
	var v Validator
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		v.Reset()
		v.Write(in[:33])
		v.Write(in[33:])
		_ = v.Complete()
	}), "Validator")
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		_ = Valid(in)
	}), "Valid")
}

func FuzzValidator(f *testing.F) {
	for _, tt := range cases {
		f.Add([]byte(tt.in), uint8(0), uint8(1))
		f.Add([]byte(tt.in), uint8(len(tt.in)/2), uint8(3))
	}
	f.Fuzz(func(t *testing.T, in []byte, first, step uint8) {
		if len(in) > 4096 {
			in = in[:4096]
		}
		require.Equal(t, utf8.Valid(in), Valid(in))

		// Split into a first piece of length first, then pieces of length
		// step (at least 1).
		failAt := firstFailure(in)
		var v Validator
		write := func(start, end int) bool {
			ok := v.Write(in[start:end])
			wantOK := failAt < 0 || failAt > end
			require.Equal(t, wantOK, ok, "piece [%d:%d] failAt %d", start, end, failAt)
			return ok
		}
		end := min(len(in), int(first))
		ok := write(0, end)
		for end < len(in) {
			start := end
			end = min(len(in), start+max(int(step), 1))
			ok = write(start, end)
		}
		require.Equal(t, utf8.Valid(in), ok && v.Complete())
	})
}
