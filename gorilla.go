package websocket

import (
	"io"
	"net"
	"net/http"
)

// Names kept for programs written for gorilla/websocket v1.5.3, with its
// signatures and behaviour, so that moving over is an import-path change.
// gorilla marks all but JoinMessages as deprecated, and so does this
// package; new code uses the replacements named in each comment.

// Upgrade upgrades the HTTP server connection to the WebSocket protocol,
// with read and write buffers of readBufSize and writeBufSize bytes (zero
// or less: 4096; over 1 MiB: 1 MiB). responseHeader is as for
// Upgrader.Upgrade: extra headers for the 101 response, such as Set-Cookie,
// and the selected subprotocol in Sec-WebSocket-Protocol (no subprotocol
// is negotiated otherwise; see Subprotocols for the client's list).
//
// Like gorilla's, Upgrade does no origin check: it accepts every Origin,
// so the caller must check it (see Upgrader.CheckOrigin for why this
// matters). Also like gorilla's, it writes no response when it refuses the
// request: it returns a HandshakeError whose Status is the status to
// answer (its Err tells why, for errors.Is), and the caller replies, for
// example with http.Error(w, err.Error(), he.Status). The protocol headers
// that go with that status (Allow, Upgrade, Sec-WebSocket-Version) are
// already set in w.Header(). Other failures are as for Upgrader.Upgrade.
// It is safe for concurrent use.
//
// Deprecated: Use an Upgrader, which checks the origin and answers refused
// requests itself.
func Upgrade(w http.ResponseWriter, r *http.Request, responseHeader http.Header, readBufSize, writeBufSize int) (*Conn, error) {
	u := Upgrader{
		ReadBufferSize:  readBufSize,
		WriteBufferSize: writeBufSize,
		CheckOrigin:     func(*http.Request) bool { return true },
		Error:           func(http.ResponseWriter, *http.Request, int, error) {},
	}
	return u.Upgrade(w, r, responseHeader)
}

// ReadJSON reads the next message from c and decodes it as JSON into v: it
// is c.ReadJSON(v), with the same errors, and must not be called
// concurrently with another read of c.
//
// Deprecated: Use c.ReadJSON.
func ReadJSON(c *Conn, v any) error { return c.ReadJSON(v) }

// WriteJSON writes the JSON encoding of v to c as one text message: it is
// c.WriteJSON(v), with the same errors, and is safe for concurrent use.
//
// Deprecated: Use c.WriteJSON.
func WriteJSON(c *Conn, v any) error { return c.WriteJSON(v) }

// UnderlyingConn returns the network connection: it is NetConn, which
// first sends the frames write coalescing holds back and turns coalescing
// off for c. It is safe for concurrent use.
//
// Deprecated: Use NetConn.
func (c *Conn) UnderlyingConn() net.Conn { return c.NetConn() }

// JoinMessages returns a reader of the data messages c receives, one after
// the other, with term after each of them (nothing when term is empty): a
// stream of newline-separated JSON values sent one per message reads as
// json.NewDecoder(JoinMessages(c, "\n")). The reader never returns io.EOF:
// once no message can come (the peer closed, a read failed) its Read
// returns the read error of c, a *CloseError when the peer closed. Reads
// through it are reads of c: the reader is for one goroutine, and no other
// read of c may run meanwhile.
func JoinMessages(c *Conn, term string) io.Reader {
	return &joinReader{c: c, term: term}
}

// joinReader is JoinMessages' reader.
type joinReader struct {
	c    *Conn
	term string
	msg  io.Reader // the message being read; nil between messages
	tail string    // what is left of term after the last message
}

// Read reads from the current message, then its terminator, then the next
// message.
func (j *joinReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for {
		if j.tail != "" {
			n := copy(p, j.tail)
			j.tail = j.tail[n:]
			return n, nil
		}
		if j.msg == nil {
			_, r, err := j.c.NextReader()
			if err != nil {
				return 0, err
			}
			j.msg = r
		}
		n, err := j.msg.Read(p)
		if err == io.EOF {
			j.msg, j.tail, err = nil, j.term, nil
			if n == 0 {
				// An empty message, or its end seen alone: go on to the
				// terminator or the next message.
				continue
			}
		}
		return n, err
	}
}
