package websocket

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/frame"
)

func closePayload(code int, reason string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(code))
	return append(b, reason...)
}

func textFrame(p string) rawFrame   { return rawFrame{fin: true, op: frame.OpText, payload: []byte(p)} }
func binaryFrame(p []byte) rawFrame { return rawFrame{fin: true, op: frame.OpBinary, payload: p} }

// TestConformanceViolations sends frames that break RFC 6455 and checks the
// close code the server answers with, that nothing of the bad message is
// echoed, that the TCP connection is closed, and the error the server's
// read returns.
func TestConformanceViolations(t *testing.T) {
	long := bytes.Repeat([]byte("a"), 126)
	cases := []struct {
		name    string
		frames  []rawFrame
		raw     []byte // sent after frames
		code    int
		wantErr error
		echoes  []string // text messages echoed before the close
	}{
		{name: "unmasked client frame", frames: []rawFrame{{fin: true, op: frame.OpText, payload: []byte("hi"), unmasked: true}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "rsv1 without extension", frames: []rawFrame{{fin: true, rsv: 0x40, op: frame.OpText, payload: []byte("hi")}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "rsv2", frames: []rawFrame{{fin: true, rsv: 0x20, op: frame.OpText, payload: []byte("hi")}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "rsv3", frames: []rawFrame{{fin: true, rsv: 0x10, op: frame.OpBinary}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "rsv on ping", frames: []rawFrame{{fin: true, rsv: 0x70, op: frame.OpPing}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "rsv after valid message", frames: []rawFrame{textFrame("ok"), {fin: true, rsv: 0x20, op: frame.OpText, payload: []byte("x")}}, code: CloseProtocolError, wantErr: ErrProtocol, echoes: []string{"ok"}},
		{name: "opcode 3", frames: []rawFrame{{fin: true, op: 3}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "opcode 4", frames: []rawFrame{{fin: true, op: 4, payload: []byte("x")}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "opcode 5", frames: []rawFrame{{fin: true, op: 5}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "opcode 6", frames: []rawFrame{{fin: true, op: 6}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "opcode 7", frames: []rawFrame{{fin: true, op: 7}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "opcode 11", frames: []rawFrame{{fin: true, op: 11}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "opcode 12", frames: []rawFrame{{fin: true, op: 12}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "opcode 13", frames: []rawFrame{{fin: true, op: 13}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "opcode 14", frames: []rawFrame{{fin: true, op: 14}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "opcode 15", frames: []rawFrame{{fin: true, op: 15, payload: []byte("x")}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "reserved opcode after message", frames: []rawFrame{textFrame("a"), {fin: true, op: 5}, textFrame("b")}, code: CloseProtocolError, wantErr: ErrProtocol, echoes: []string{"a"}},
		{name: "ping over 125 bytes", frames: []rawFrame{{fin: true, op: frame.OpPing, payload: long}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "close over 125 bytes", frames: []rawFrame{{fin: true, op: frame.OpClose, payload: append(closePayload(1000, ""), long...)}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "fragmented ping", frames: []rawFrame{{op: frame.OpPing, payload: []byte("a")}, {fin: true, op: frame.OpContinuation, payload: []byte("b")}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "continuation without start", frames: []rawFrame{{fin: true, op: frame.OpContinuation, payload: []byte("x")}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "non-final continuation without start", frames: []rawFrame{{op: frame.OpContinuation, payload: []byte("x")}, textFrame("y")}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "text inside fragmented message", frames: []rawFrame{{op: frame.OpText, payload: []byte("a")}, textFrame("b")}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "binary inside fragmented message", frames: []rawFrame{{op: frame.OpBinary, payload: []byte("a")}, {op: frame.OpBinary, payload: []byte("b")}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "64-bit length with top bit", raw: []byte{0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "invalid utf8 text", frames: []rawFrame{{fin: true, op: frame.OpText, payload: []byte{0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64}}}, code: CloseInvalidFramePayloadData, wantErr: ErrInvalidUTF8},
		{name: "truncated utf8 at end of text", frames: []rawFrame{{fin: true, op: frame.OpText, payload: []byte{'a', 0xe2, 0x82}}}, code: CloseInvalidFramePayloadData, wantErr: ErrInvalidUTF8},
		{name: "truncated utf8 across fragments", frames: []rawFrame{{op: frame.OpText, payload: []byte{'a', 0xe2}}, {fin: true, op: frame.OpContinuation, payload: []byte{0x82}}}, code: CloseInvalidFramePayloadData, wantErr: ErrInvalidUTF8},
		{name: "overlong utf8", frames: []rawFrame{{fin: true, op: frame.OpText, payload: []byte{0xc0, 0xaf}}}, code: CloseInvalidFramePayloadData, wantErr: ErrInvalidUTF8},
		{name: "code point above U+10FFFF", frames: []rawFrame{{fin: true, op: frame.OpText, payload: []byte{0xf4, 0x90, 0x80, 0x80}}}, code: CloseInvalidFramePayloadData, wantErr: ErrInvalidUTF8},
		{name: "close 1-byte payload", frames: []rawFrame{{fin: true, op: frame.OpClose, payload: []byte{0x03}}}, code: CloseProtocolError, wantErr: ErrProtocol},
		{name: "close reason invalid utf8", frames: []rawFrame{{fin: true, op: frame.OpClose, payload: append(closePayload(1000, ""), 0xff, 0xfe)}}, code: CloseInvalidFramePayloadData, wantErr: ErrInvalidUTF8},
		{name: "fragmented close", frames: []rawFrame{{op: frame.OpClose, payload: closePayload(1000, "")}}, code: CloseProtocolError, wantErr: ErrProtocol},
	}
	for _, code := range []int{0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		cases = append(cases, struct {
			name    string
			frames  []rawFrame
			raw     []byte
			code    int
			wantErr error
			echoes  []string
		}{name: "close code " + strconv.Itoa(code), frames: []rawFrame{{fin: true, op: frame.OpClose, payload: closePayload(code, "")}}, code: CloseProtocolError, wantErr: ErrProtocol})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := tcpPair(t)
			done := echoServer(newConn(s, connConfig{isServer: true}))
			rc := newRawClient(t, c)
			if len(tc.frames) > 0 {
				rc.send(tc.frames...)
			}
			if len(tc.raw) > 0 {
				rc.sendBytes(tc.raw)
			}
			code, before := rc.expectClose()
			assert.Equal(t, tc.code, code)
			var echoed []string
			for _, f := range before {
				echoed = append(echoed, string(f.payload))
			}
			assert.Equal(t, tc.echoes, echoed)
			rc.expectEOF()
			assert.ErrorIs(t, waitErr(t, done), tc.wantErr)
		})
	}
}

// TestFailFastUTF8 checks that invalid UTF-8 in the first fragment of a
// text message closes the connection before the message ends.
func TestFailFastUTF8(t *testing.T) {
	for _, bad := range [][]byte{{0xf4, 0x90}, {0xed, 0xa0}, {0xc0}, {0xff}, {'o', 'k', 0xe0, 0x80}} {
		s, c := tcpPair(t)
		done := echoServer(newConn(s, connConfig{isServer: true}))
		rc := newRawClient(t, c)
		// First fragment only: the message never completes.
		rc.send(rawFrame{op: frame.OpText, payload: bad})
		code, before := rc.expectClose()
		assert.Equal(t, CloseInvalidFramePayloadData, code, "% x", bad)
		assert.Empty(t, before)
		assert.ErrorIs(t, waitErr(t, done), ErrInvalidUTF8)
	}
}

// TestConformanceValid sends valid traffic and checks the echoes.
func TestConformanceValid(t *testing.T) {
	utf8Text := "κόσμε Hello-µ@ßöäüàá-UTF-8!! 𝄞"
	cases := []struct {
		name   string
		frames []rawFrame
		want   []gotFrame // expected frames from the server, in order (payload and opcode)
	}{
		{name: "empty text", frames: []rawFrame{textFrame("")}, want: []gotFrame{{h: frame.Header{Opcode: frame.OpText}, payload: []byte{}}}},
		{name: "text", frames: []rawFrame{textFrame("hello")}, want: []gotFrame{{h: frame.Header{Opcode: frame.OpText}, payload: []byte("hello")}}},
		{name: "binary 125", frames: []rawFrame{binaryFrame(bytes.Repeat([]byte{0xfe}, 125))}, want: []gotFrame{{h: frame.Header{Opcode: frame.OpBinary}, payload: bytes.Repeat([]byte{0xfe}, 125)}}},
		{name: "binary 126", frames: []rawFrame{binaryFrame(bytes.Repeat([]byte{0xfe}, 126))}, want: []gotFrame{{h: frame.Header{Opcode: frame.OpBinary}, payload: bytes.Repeat([]byte{0xfe}, 126)}}},
		{name: "binary 65535", frames: []rawFrame{binaryFrame(bytes.Repeat([]byte{0xfe}, 65535))}, want: []gotFrame{{h: frame.Header{Opcode: frame.OpBinary}, payload: bytes.Repeat([]byte{0xfe}, 65535)}}},
		{name: "binary 65536", frames: []rawFrame{binaryFrame(bytes.Repeat([]byte{0xfe}, 65536))}, want: []gotFrame{{h: frame.Header{Opcode: frame.OpBinary}, payload: bytes.Repeat([]byte{0xfe}, 65536)}}},
		{name: "ping echo", frames: []rawFrame{{fin: true, op: frame.OpPing, payload: []byte("ping!")}}, want: []gotFrame{{h: frame.Header{Opcode: frame.OpPong}, payload: []byte("ping!")}}},
		{name: "ping 125 bytes", frames: []rawFrame{{fin: true, op: frame.OpPing, payload: bytes.Repeat([]byte{0xfe}, 125)}}, want: []gotFrame{{h: frame.Header{Opcode: frame.OpPong}, payload: bytes.Repeat([]byte{0xfe}, 125)}}},
		{name: "empty ping", frames: []rawFrame{{fin: true, op: frame.OpPing}}, want: []gotFrame{{h: frame.Header{Opcode: frame.OpPong}, payload: []byte{}}}},
		{name: "unsolicited pong ignored", frames: []rawFrame{{fin: true, op: frame.OpPong, payload: []byte("x")}, textFrame("after")}, want: []gotFrame{{h: frame.Header{Opcode: frame.OpText}, payload: []byte("after")}}},
		{name: "fragmented text", frames: []rawFrame{{op: frame.OpText, payload: []byte("fra")}, {op: frame.OpContinuation, payload: []byte("gmen")}, {fin: true, op: frame.OpContinuation, payload: []byte("ts")}}, want: []gotFrame{{h: frame.Header{Opcode: frame.OpText}, payload: []byte("fragments")}}},
		{name: "empty fragments", frames: []rawFrame{{op: frame.OpText}, {op: frame.OpContinuation}, {fin: true, op: frame.OpContinuation}}, want: []gotFrame{{h: frame.Header{Opcode: frame.OpText}, payload: []byte{}}}},
		{name: "ping between fragments", frames: []rawFrame{{op: frame.OpText, payload: []byte("a")}, {fin: true, op: frame.OpPing, payload: []byte("p")}, {fin: true, op: frame.OpContinuation, payload: []byte("b")}}, want: []gotFrame{{h: frame.Header{Opcode: frame.OpPong}, payload: []byte("p")}, {h: frame.Header{Opcode: frame.OpText}, payload: []byte("ab")}}},
		{name: "pong between fragments", frames: []rawFrame{{op: frame.OpBinary, payload: []byte("a")}, {fin: true, op: frame.OpPong}, {fin: true, op: frame.OpContinuation, payload: []byte("b")}}, want: []gotFrame{{h: frame.Header{Opcode: frame.OpBinary}, payload: []byte("ab")}}},
		{name: "valid utf8", frames: []rawFrame{textFrame(utf8Text)}, want: []gotFrame{{h: frame.Header{Opcode: frame.OpText}, payload: []byte(utf8Text)}}},
	}
	// Valid UTF-8 split at every byte.
	for i := 1; i < len(utf8Text); i++ {
		cases = append(cases, struct {
			name   string
			frames []rawFrame
			want   []gotFrame
		}{
			name:   "utf8 split at " + strconv.Itoa(i),
			frames: []rawFrame{{op: frame.OpText, payload: []byte(utf8Text[:i])}, {fin: true, op: frame.OpContinuation, payload: []byte(utf8Text[i:])}},
			want:   []gotFrame{{h: frame.Header{Opcode: frame.OpText}, payload: []byte(utf8Text)}},
		})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, c := tcpPair(t)
			done := echoServer(newConn(s, connConfig{isServer: true}))
			rc := newRawClient(t, c)
			rc.send(tc.frames...)
			for _, w := range tc.want {
				f, err := rc.read()
				require.NoError(t, err)
				assert.True(t, f.h.Fin)
				assert.False(t, f.h.Masked)
				assert.Equal(t, w.h.Opcode, f.h.Opcode)
				assert.Equal(t, w.payload, f.payload)
			}
			rc.send(rawFrame{fin: true, op: frame.OpClose, payload: closePayload(CloseNormalClosure, "bye")})
			code, before := rc.expectClose()
			assert.Empty(t, before)
			assert.Equal(t, CloseNormalClosure, code)
			rc.expectEOF()
			err := waitErr(t, done)
			require.True(t, IsCloseError(err, CloseNormalClosure), "got %v", err)
			var ce *CloseError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "bye", ce.Text)
		})
	}
}

// TestCloseCodesEchoed checks that every valid close code is echoed.
func TestCloseCodesEchoed(t *testing.T) {
	for _, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999} {
		s, c := tcpPair(t)
		done := echoServer(newConn(s, connConfig{isServer: true}))
		rc := newRawClient(t, c)
		rc.send(rawFrame{fin: true, op: frame.OpClose, payload: closePayload(code, "reason")})
		got, before := rc.expectClose()
		assert.Empty(t, before)
		assert.Equal(t, code, got)
		rc.expectEOF()
		assert.True(t, IsCloseError(waitErr(t, done), code))
	}
	// An empty close frame is answered with an empty one.
	s, c := tcpPair(t)
	done := echoServer(newConn(s, connConfig{isServer: true}))
	rc := newRawClient(t, c)
	rc.send(rawFrame{fin: true, op: frame.OpClose})
	got, _ := rc.expectClose()
	assert.Equal(t, CloseNoStatusReceived, got)
	assert.True(t, IsCloseError(waitErr(t, done), CloseNoStatusReceived))
}

// TestReadLimit checks the 1009 close and ErrReadLimit, for a single frame
// and for fragments adding up past the limit.
func TestReadLimit(t *testing.T) {
	for _, frames := range [][]rawFrame{
		{binaryFrame(make([]byte, 101))},
		{{op: frame.OpBinary, payload: make([]byte, 60)}, {fin: true, op: frame.OpContinuation, payload: make([]byte, 60)}},
	} {
		s, c := tcpPair(t)
		sc := newConn(s, connConfig{isServer: true})
		sc.SetReadLimit(100)
		done := echoServer(sc)
		rc := newRawClient(t, c)
		rc.send(binaryFrame(make([]byte, 100)))
		rc.send(frames...)
		code, before := rc.expectClose()
		assert.Equal(t, CloseMessageTooBig, code)
		require.Len(t, before, 1, "the message at the limit is echoed")
		assert.Len(t, before[0].payload, 100)
		assert.ErrorIs(t, waitErr(t, done), ErrReadLimit)
	}
}
