package websocket

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/wsup/websocket/frame"
)

// scriptConn is a net.Conn whose reads return data in chunks of the given
// sizes (cycling; 0 counts as 1) and then io.EOF, and whose writes are
// discarded.
type scriptConn struct {
	data   []byte
	chunks []byte
	i      int
}

func (c *scriptConn) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := len(p)
	if len(c.chunks) > 0 {
		n = min(n, max(int(c.chunks[c.i%len(c.chunks)]), 1))
		c.i++
	}
	n = copy(p[:n], c.data)
	c.data = c.data[n:]
	return n, nil
}

func (c *scriptConn) Write(p []byte) (int, error)      { return len(p), nil }
func (c *scriptConn) Close() error                     { return nil }
func (c *scriptConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *scriptConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }

// readTranscript reads messages from a server Conn over stream until the
// first error and describes what it read: with ReadMessage, or with
// NextReader and reads of readSize bytes.
func readTranscript(stream, chunks []byte, readSize int) string {
	c := newConn(&scriptConn{data: stream, chunks: chunks}, connConfig{isServer: true, compress: noTakeover()})
	c.SetReadLimit(1 << 20)
	var out bytes.Buffer
	for i := 0; i < 1000; i++ {
		var mt int
		var p []byte
		var err error
		if readSize == 0 {
			mt, p, err = c.ReadMessage()
		} else {
			var r io.Reader
			mt, r, err = c.NextReader()
			if err == nil {
				p, err = io.ReadAll(&sizedReader{r: r, n: readSize})
			}
		}
		if err != nil {
			fmt.Fprintf(&out, "error: %v\n", err)
			return out.String()
		}
		fmt.Fprintf(&out, "%d %q\n", mt, p)
	}
	return out.String()
}

// splitTranscript separates a transcript's messages from its final error
// line ("" when there is none).
func splitTranscript(s string) (messages, errLine string) {
	lines := strings.SplitAfter(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "error: ") {
			return strings.Join(lines[:i], ""), strings.Join(lines[i:], "")
		}
	}
	return s, ""
}

// sizedReader reads at most n bytes per Read from r.
type sizedReader struct {
	r io.Reader
	n int
}

func (s *sizedReader) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), s.n)]) }

// FuzzConnRead feeds arbitrary client bytes to a server Conn. Whatever the
// bytes, reading ends with an error (no panic, no hang), and the messages
// read before it do not depend on how the bytes are split into reads or on
// the read API used. The error itself may: a message that is both broken
// (invalid UTF-8, corrupt deflate data) and cut short fails with whichever
// problem the reads reach first.
func FuzzConnRead(f *testing.F) {
	frames := func(fs ...rawFrame) []byte {
		var b []byte
		for _, fr := range fs {
			b = append(b, fr.encode()...)
		}
		return b
	}
	f.Add(frames(rawFrame{fin: true, op: frame.OpText, payload: []byte("hello")}), []byte{1, 2, 3}, uint8(1))
	f.Add(frames(
		rawFrame{op: frame.OpBinary, payload: bytes.Repeat([]byte("ab"), 200)},
		rawFrame{fin: true, op: frame.OpPing, payload: []byte("ping")},
		rawFrame{fin: true, op: frame.OpContinuation, payload: []byte("end")},
		rawFrame{fin: true, op: frame.OpClose, payload: closePayload(1000, "bye")},
	), []byte{7, 200}, uint8(3))
	f.Add(frames(rawFrame{fin: true, rsv: 0x40, op: frame.OpText, payload: deflateRaw(f, []byte("compressed text, compressed text"))}), []byte{}, uint8(0))
	f.Add(frames(rawFrame{fin: true, op: frame.OpText, payload: []byte{0xff, 0xfe}}), []byte{1}, uint8(2))
	f.Add([]byte{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0}, []byte{3}, uint8(1))
	// Compressed text cut short: invalid UTF-8 or the early end, depending
	// on the reads.
	f.Add([]byte("A\xa6\xb9\x0eQ\x9c0.QCF00000000000000000000000000000000"), []byte{}, uint8(2))
	f.Fuzz(func(t *testing.T, stream, chunks []byte, readSize uint8) {
		whole, wholeErr := splitTranscript(readTranscript(stream, nil, 0))
		split, splitErr := splitTranscript(readTranscript(stream, chunks, int(readSize)%64+1))
		if whole != split {
			t.Fatalf("messages differ:\nReadMessage, whole reads:\n%s\nNextReader, split reads:\n%s", whole, split)
		}
		if wholeErr == "" || splitErr == "" {
			t.Fatalf("reading did not end with an error: %q, %q", wholeErr, splitErr)
		}
	})
}
