package loadgen

import (
	"bufio"
	"bytes"
	"compress/flate"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serverFrame encodes an unmasked server frame.
func serverFrame(fin, rsv1 bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	if rsv1 {
		b0 |= 0x40
	}
	f := appendClientFrame(nil, 0, false, payload, [4]byte{})
	// appendClientFrame sets the mask bit and a zero key: drop both.
	f[0] = b0
	f[1] &^= 0x80
	hdr := 2
	switch f[1] {
	case 126:
		hdr = 4
	case 127:
		hdr = 10
	}
	return append(f[:hdr], f[hdr+4:]...)
}

// deflated compresses p for one message without context takeover.
func deflated(t testing.TB, p []byte) []byte {
	b, err := wirePayload(p, true)
	require.NoError(t, err)
	return append([]byte(nil), b...)
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

var (
	vText    = []byte("hello, websocket echo verifier!!")
	vFlipped = func() []byte { b := append([]byte(nil), vText...); b[7] ^= 1; return b }()
)

type verifyCase struct {
	name    string
	deflate bool
	stream  []byte
	matched bool
	wantErr string
}

func verifyCases(t testing.TB) []verifyCase {
	z := deflated(t, vText)
	return []verifyCase{
		{name: "exact", stream: serverFrame(true, false, opText, vText), matched: true},
		{name: "fragmented", stream: cat(
			serverFrame(false, false, opText, vText[:5]),
			serverFrame(false, false, opContinuation, vText[5:20]),
			serverFrame(true, false, opContinuation, vText[20:])), matched: true},
		{name: "ping between fragments", stream: cat(
			serverFrame(false, false, opText, vText[:5]),
			serverFrame(true, false, opPing, []byte("p")),
			serverFrame(true, false, opContinuation, vText[5:])), matched: true},
		{name: "pong first", stream: cat(serverFrame(true, false, opPong, nil), serverFrame(true, false, opText, vText)), matched: true},
		{name: "flipped byte", stream: serverFrame(true, false, opText, vFlipped)},
		{name: "short", stream: serverFrame(true, false, opText, vText[:len(vText)-1])},
		{name: "long", stream: serverFrame(true, false, opText, append(append([]byte(nil), vText...), 'x'))},
		{name: "wrong opcode", stream: serverFrame(true, false, opBinary, vText)},
		{name: "deflate", deflate: true, stream: serverFrame(true, true, opText, z), matched: true},
		{name: "deflate fragmented", deflate: true, stream: cat(
			serverFrame(false, true, opText, z[:3]),
			serverFrame(true, false, opContinuation, z[3:])), matched: true},
		{name: "deflate wrong content", deflate: true, stream: serverFrame(true, true, opText, deflated(t, vFlipped))},
		{name: "deflate garbage", deflate: true, stream: serverFrame(true, true, opText, []byte{0xff, 0xff, 0xff})},
		{name: "uncompressed under deflate", deflate: true, stream: serverFrame(true, false, opText, vText), matched: true},
		{name: "close", stream: serverFrame(true, false, opClose, []byte{0x03, 0xe8}), wantErr: "close frame"},
		{name: "rsv1 not negotiated", stream: serverFrame(true, true, opText, z), wantErr: "not negotiated"},
		{name: "continuation first", stream: serverFrame(true, false, opContinuation, vText), wantErr: "without a message"},
		{name: "new message inside fragments", stream: cat(
			serverFrame(false, false, opText, vText[:5]),
			serverFrame(true, false, opText, vText[5:])), wantErr: "inside a fragmented"},
		{name: "rsv1 on continuation", deflate: true, stream: cat(
			serverFrame(false, true, opText, z[:3]),
			serverFrame(true, true, opContinuation, z[3:])), wantErr: "continuation"},
		{name: "truncated", stream: serverFrame(true, false, opText, vText)[:10], wantErr: "EOF"},
	}
}

func newVerifier(stream []byte, deflate bool) *echoVerifier {
	return &echoVerifier{
		br:       bufio.NewReaderSize(bytes.NewReader(stream), 16),
		expected: vText, opcode: opText, deflate: deflate,
	}
}

func TestEchoVerifier(t *testing.T) {
	for _, tc := range verifyCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			res, err := newVerifier(tc.stream, tc.deflate).next()
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.matched, res.matched)
			if tc.matched {
				assert.Equal(t, len(vText), res.bytes)
			}
		})
	}
}

func TestEchoVerifierContextTakeover(t *testing.T) {
	// A server keeping its compression context encodes the second identical
	// message as a back-reference into the first.
	var buf bytes.Buffer
	fw, err := flate.NewWriter(&buf, flate.BestCompression)
	require.NoError(t, err)
	var stream []byte
	for range 2 {
		_, err := fw.Write(vText)
		require.NoError(t, err)
		require.NoError(t, fw.Flush())
		z, ok := bytes.CutSuffix(buf.Bytes(), flateTail)
		require.True(t, ok)
		stream = append(stream, serverFrame(true, true, opText, z)...)
		buf.Reset()
	}
	for _, tc := range []struct {
		takeover    bool
		wantSecond  bool
		description string
	}{
		{true, true, "history used as dictionary"},
		{false, false, "without history the back-reference cannot resolve"},
	} {
		t.Run(tc.description, func(t *testing.T) {
			v := newVerifier(stream, true)
			v.serverTakeover = tc.takeover
			first, err := v.next()
			require.NoError(t, err)
			assert.True(t, first.matched)
			second, err := v.next()
			require.NoError(t, err)
			assert.Equal(t, tc.wantSecond, second.matched)
		})
	}
}

func TestEchoVerifierSequence(t *testing.T) {
	// Several messages back to back through a small buffer.
	var stream []byte
	for range 50 {
		stream = append(stream, serverFrame(true, false, opText, vText)...)
	}
	v := newVerifier(stream, false)
	for i := range 50 {
		res, err := v.next()
		require.NoError(t, err, "message %d", i)
		require.True(t, res.matched, "message %d", i)
	}
	_, err := v.next()
	assert.Error(t, err)
}

func FuzzEchoVerifier(f *testing.F) {
	for _, tc := range verifyCases(f) {
		f.Add(tc.stream, tc.deflate, false)
	}
	f.Fuzz(func(t *testing.T, stream []byte, deflate, takeover bool) {
		v := newVerifier(stream, deflate)
		v.serverTakeover = takeover
		for range 8 {
			res, err := v.next()
			if err != nil {
				return
			}
			if res.matched && res.bytes != len(vText) {
				t.Fatalf("matched with %d bytes", res.bytes)
			}
		}
	})
}
