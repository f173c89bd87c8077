package loadgen

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var headerCases = []struct {
	name    string
	in      []byte
	want    header
	n       int
	wantErr string // substring; "short" means errShortHeader
}{
	{name: "empty", in: nil, wantErr: "short"},
	{name: "one byte", in: []byte{0x81}, wantErr: "short"},
	{name: "text 5", in: []byte{0x81, 5}, want: header{fin: true, opcode: opText, length: 5}, n: 2},
	{name: "binary rsv1 no fin", in: []byte{0x42, 0}, want: header{rsv1: true, opcode: opBinary}, n: 2},
	{name: "continuation", in: []byte{0x80, 125}, want: header{fin: true, opcode: opContinuation, length: 125}, n: 2},
	{name: "len16", in: []byte{0x82, 126, 0x01, 0x00}, want: header{fin: true, opcode: opBinary, length: 256}, n: 4},
	{name: "len16 short", in: []byte{0x82, 126, 0x01}, wantErr: "short"},
	{name: "len64", in: []byte{0x82, 127, 0, 0, 0, 0, 0, 0x10, 0, 0}, want: header{fin: true, opcode: opBinary, length: 1 << 20}, n: 10},
	{name: "len64 short", in: []byte{0x82, 127, 0, 0, 0}, wantErr: "short"},
	{name: "len64 too big", in: []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, wantErr: "exceeds"},
	{name: "ping", in: []byte{0x89, 3}, want: header{fin: true, opcode: opPing, length: 3}, n: 2},
	{name: "masked", in: []byte{0x81, 0x85}, wantErr: "masked"},
	{name: "rsv2", in: []byte{0xA1, 0}, wantErr: "RSV2"},
	{name: "opcode 3", in: []byte{0x83, 0}, wantErr: "opcode"},
	{name: "fragmented ping", in: []byte{0x09, 0}, wantErr: "fragmented control"},
	{name: "long close", in: []byte{0x88, 126, 0, 126}, wantErr: "control frame payload"},
	{name: "rsv1 pong", in: []byte{0xCA, 0}, wantErr: "RSV1"},
}

func TestParseHeader(t *testing.T) {
	for _, tc := range headerCases {
		t.Run(tc.name, func(t *testing.T) {
			h, n, err := parseHeader(tc.in)
			switch tc.wantErr {
			case "":
				require.NoError(t, err)
				assert.Equal(t, tc.want, h)
				assert.Equal(t, tc.n, n)
			case "short":
				assert.ErrorIs(t, err, errShortHeader)
			default:
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
			}
		})
	}
}

func FuzzParseHeader(f *testing.F) {
	for _, tc := range headerCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := parseHeader(b)
		if err != nil {
			return
		}
		if n < 2 || n > len(b) || h.length < 0 || h.length > maxFrameLen {
			t.Fatalf("parseHeader(%x) = %+v, %d", b, h, n)
		}
	})
}

// unmaskClientFrame decodes a frame produced by appendClientFrame.
func unmaskClientFrame(t *testing.T, f []byte) (b0 byte, payload []byte) {
	t.Helper()
	require.GreaterOrEqual(t, len(f), 6)
	require.NotZero(t, f[1]&0x80, "client frame must be masked")
	n, off := int(f[1]&0x7F), 2
	switch n {
	case 126:
		n, off = int(f[2])<<8|int(f[3]), 4
	case 127:
		n = 0
		for _, c := range f[2:10] {
			n = n<<8 | int(c)
		}
		off = 10
	}
	key := f[off : off+4]
	require.Len(t, f[off+4:], n)
	p := make([]byte, n)
	copy(p, f[off+4:])
	for i := range p {
		p[i] ^= key[i&3]
	}
	return f[0], p
}

func TestAppendClientFrame(t *testing.T) {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	for _, tc := range []struct {
		name   string
		size   int
		opcode byte
		rsv1   bool
		wantB0 byte
	}{
		{"empty text", 0, opText, false, 0x81},
		{"125 binary", 125, opBinary, false, 0x82},
		{"126 compressed", 126, opText, true, 0xC1},
		{"65535", 0xFFFF, opBinary, false, 0x82},
		{"65536", 0x10000, opBinary, true, 0xC2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			payload := makePayload(PayloadBinary, tc.size)[:tc.size]
			prefix := []byte("keep")
			f := appendClientFrame(append([]byte(nil), prefix...), tc.opcode, tc.rsv1, payload, key)
			require.Equal(t, prefix, f[:4], "existing bytes preserved")
			b0, got := unmaskClientFrame(t, f[4:])
			assert.Equal(t, tc.wantB0, b0)
			assert.Equal(t, payload, got)
		})
	}
}
