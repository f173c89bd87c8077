package websocket

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// isExtendedConnect reports whether r is an RFC 8441 WebSocket request: an
// HTTP/2 CONNECT with the :protocol pseudo-header "websocket".
//
// Go's HTTP/2 server (Go 1.24 to 1.26) accepts extended CONNECT only when
// the process starts with GODEBUG=http2xconnect=1 in its environment (the
// variable is read once, at start-up; a //go:debug directive does not set
// it). It then advertises SETTINGS_ENABLE_CONNECT_PROTOCOL and hands the
// handler r.Method "CONNECT", r.ProtoMajor 2 and r.Header[":protocol"].
func isExtendedConnect(r *http.Request) bool {
	return r.ProtoMajor == 2 && r.Method == http.MethodConnect && r.Header.Get(":protocol") == "websocket"
}

// upgradeH2 performs the RFC 8441 handshake: the same checks as over
// HTTP/1.1 where they apply (no Sec-WebSocket-Key exists on HTTP/2), then a
// 200 response, and a Conn over the request body and the response writer.
func (u *Upgrader) upgradeH2(w http.ResponseWriter, r *http.Request, responseHeader http.Header) (*Conn, error) {
	if v := r.Header[hdrWSVersion]; len(v) != 1 || v[0] != "13" {
		return u.reject(w, r, http.StatusBadRequest, ErrBadVersion, "Sec-WebSocket-Version", "13")
	}
	if !u.originAllowed(r) {
		return u.reject(w, r, http.StatusForbidden, ErrOriginDenied)
	}
	resp, err := u.prepareResponse(r, responseHeader)
	if err != nil {
		return u.reject(w, r, http.StatusInternalServerError, err)
	}
	h := w.Header()
	for _, k := range resp.headerKeys {
		h[k] = resp.header[k]
	}
	if resp.subprotocol != "" {
		h.Set("Sec-WebSocket-Protocol", resp.subprotocol)
	}
	if resp.extensions != "" {
		h.Set("Sec-WebSocket-Extensions", resp.extensions)
	}
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return nil, fmt.Errorf("websocket: flushing the HTTP/2 response: %w", err)
	}
	// The server's deadlines would cut the stream; clearing them is ours
	// to do, as after a hijack. An error means the writer cannot set
	// deadlines, which is no reason to fail.
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	nc := newStreamConn(r, w, rc)
	return u.serverConn(nc, &resp, nil)
}

// streamConn is a net.Conn over an HTTP/2 stream: reads from the request
// body, writes to the response (flushed after each write).
//
// The stream ends when the handler returns, and net/http panics on writes
// after that; streamConn refuses writes once the request's context is done
// (net/http cancels it before retiring the writer) and once it is closed.
//
// A write can block for good: HTTP/2 flow control holds it while the peer's
// window is 0, that is while the peer does not read. Close therefore never
// waits for the write lock; it aborts a write in progress instead (abort).
type streamConn struct {
	body   io.ReadCloser
	w      http.ResponseWriter
	rc     *http.ResponseController
	ctx    context.Context
	local  net.Addr
	remote net.Addr

	// writeMu serializes writes: a ResponseWriter is not safe for
	// concurrent use. It is held across net/http's Write and Flush, so
	// Close does not take it.
	writeMu sync.Mutex

	mu      sync.Mutex    // guards the fields below; never held across I/O
	closed  bool          // Close was called
	writing bool          // a write is inside net/http
	drained chan struct{} // non-nil after Close found a write in progress; closed when it returns
}

// abortWait bounds how long Close waits for a write it aborted to come
// back from net/http (see Close).
const abortWait = time.Second

func newStreamConn(r *http.Request, w http.ResponseWriter, rc *http.ResponseController) *streamConn {
	c := &streamConn{body: r.Body, w: w, rc: rc, ctx: r.Context(), remote: stringAddr(r.RemoteAddr)}
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		c.local = a
	} else {
		c.local = stringAddr("")
	}
	return c
}

func (c *streamConn) Read(p []byte) (int, error) {
	n, err := c.body.Read(p)
	if err != nil && c.isClosed() {
		err = net.ErrClosed
	}
	return n, err
}

func (c *streamConn) Write(p []byte) (n int, err error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if !c.beginWrite() {
		return 0, net.ErrClosed
	}
	defer func() {
		// The handler returned between the check and the write: net/http
		// panics rather than erring.
		if recover() != nil {
			n, err = 0, net.ErrClosed
		}
		if c.endWrite() && err != nil {
			// Close aborted the write.
			err = net.ErrClosed
		}
	}()
	n, err = c.w.Write(p)
	if err == nil {
		err = c.rc.Flush()
	}
	return n, err
}

// beginWrite reports whether a write may go to net/http, and marks one in
// progress if so.
func (c *streamConn) beginWrite() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.ctx.Err() != nil {
		return false
	}
	c.writing = true
	return true
}

// endWrite marks the write done, wakes a Close waiting for it, and reports
// whether the conn was closed meanwhile.
func (c *streamConn) endWrite() (closed bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writing = false
	if c.drained != nil {
		close(c.drained)
		c.drained = nil
	}
	return c.closed
}

func (c *streamConn) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Close stops reads and writes; the stream itself ends when the handler
// returns. It does not wait for a write in progress to finish on its own:
// it aborts it (abort), then waits at most abortWait for net/http to give
// it back. That wait matters because the handler returns right after Close
// (Upgrader.Handler, or any well-behaved handler), and net/http recycles
// the response writer's state when the handler returns: a write still
// running inside it would race with the next request using that state.
// When the writer cannot be aborted (no write deadline support), Close
// does not wait at all.
func (c *streamConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return net.ErrClosed
	}
	c.closed = true
	var drained chan struct{}
	if c.writing {
		drained = make(chan struct{})
		c.drained = drained
	}
	c.mu.Unlock()
	err := c.body.Close()
	if drained == nil {
		return err
	}
	select {
	case <-drained:
		return err // the write ended meanwhile: no reset needed
	default:
	}
	if c.abort() {
		t := time.NewTimer(abortWait)
		defer t.Stop()
		select {
		case <-drained:
		case <-t.C:
		}
	}
	return err
}

// abort makes a write in progress return, and reports whether it will. A
// write deadline in the past makes net/http's HTTP/2 server (Go 1.24 to
// 1.26, and x/net/http2's) reset the stream at once (RST_STREAM), which
// ends a write waiting for flow control. When the request's context is
// done, the stream is closed already (or the handler returned, after
// which the writer must not be touched) and the write is ending anyway.
func (c *streamConn) abort() (ok bool) {
	if c.ctx.Err() != nil {
		return true
	}
	defer func() {
		if recover() != nil {
			ok = false // the handler returned meanwhile
		}
	}()
	return c.rc.SetWriteDeadline(aLongTimeAgo) == nil
}

func (c *streamConn) LocalAddr() net.Addr  { return c.local }
func (c *streamConn) RemoteAddr() net.Addr { return c.remote }

func (c *streamConn) SetDeadline(t time.Time) error {
	if err := c.rc.SetReadDeadline(t); err != nil {
		return err
	}
	return c.rc.SetWriteDeadline(t)
}
func (c *streamConn) SetReadDeadline(t time.Time) error  { return c.rc.SetReadDeadline(t) }
func (c *streamConn) SetWriteDeadline(t time.Time) error { return c.rc.SetWriteDeadline(t) }

// stringAddr is a net.Addr known only by its string form.
type stringAddr string

func (a stringAddr) Network() string { return "tcp" }
func (a stringAddr) String() string  { return string(a) }
