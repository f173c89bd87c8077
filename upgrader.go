package websocket

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/wsup/websocket/internal/deflate"
)

// Upgrader upgrades HTTP/1.1 requests to WebSocket connections (the server
// side of the RFC 6455 opening handshake).
//
// The zero value is ready to use: no subprotocols, default buffer sizes, the
// same-origin check, and http.Error responses on failure. An Upgrader's
// methods are safe for concurrent use by multiple goroutines, provided its
// fields are not modified meanwhile; one Upgrader is typically shared by all
// requests of a handler.
type Upgrader struct {
	// HandshakeTimeout bounds writing the 101 Switching Protocols response
	// on the hijacked connection (through a write deadline that is cleared
	// afterwards). Zero means no bound.
	HandshakeTimeout time.Duration

	// ReadBufferSize and WriteBufferSize are the sizes in bytes of the Conn's
	// read and write buffers. Zero (or less) selects a default size, 4096
	// bytes; sizes over 1 MiB (1 << 20) are taken as 1 MiB.
	ReadBufferSize, WriteBufferSize int

	// WriteBufferPool, when non-nil, supplies the Conn's write buffers, so
	// that idle connections hold none.
	WriteBufferPool BufferPool

	// Subprotocols lists the application protocols the server supports, in
	// order of preference. The first of them that the client also requested
	// in Sec-WebSocket-Protocol (exact, case-sensitive match) is selected.
	// When none matches, the response names no subprotocol.
	Subprotocols []string

	// Error, when non-nil, writes the HTTP error response when the handshake
	// is refused before the connection is hijacked. status is the HTTP status
	// code to answer and reason the cause (a value errors.Is matches against
	// the Err... variables). Headers the protocol requires with that status
	// (Allow, Upgrade, Sec-WebSocket-Version) are already set in w.Header().
	// When nil, Upgrade answers like http.Error, with reason's text as body.
	Error func(w http.ResponseWriter, r *http.Request, status int, reason error)

	// CheckOrigin returns true to accept the request's Origin. When it
	// returns false the handshake is refused with 403 Forbidden.
	//
	// Browsers do not apply the same-origin policy to WebSocket connections:
	// any web page can open one to your server, and the browser attaches the
	// user's cookies and HTTP authentication. Without an origin check, a
	// hostile site can therefore talk to your endpoint as the logged-in user
	// (cross-site WebSocket hijacking). Browsers always send the page's
	// Origin, which scripts cannot forge; checking it is the defence.
	//
	// When CheckOrigin is nil, a request without an Origin header is
	// accepted (it does not come from a browser page), and otherwise the
	// host (with port, exactly as sent) of the single Origin header must
	// equal r.Host, ASCII case-insensitively. That default trusts the Host
	// header and ignores the scheme: a page whose name was rebound to the
	// server's address (DNS rebinding) passes it, and so does an http://
	// page for an https:// site. Services that trust their network position
	// (listening on 127.0.0.1 or an internal address) and sites that must
	// refuse plain-HTTP pages should list their exact origins instead; see
	// ExampleUpgrader_checkOriginAllowList and docs/security.md. A
	// CheckOrigin that always returns true disables the protection: do that
	// only when the endpoint does not rely on ambient credentials such as
	// cookies.
	CheckOrigin func(r *http.Request) bool

	// EnableCompression turns on permessage-deflate (RFC 7692): when the
	// client offers it, the first acceptable offer is accepted, with every
	// window size (8 to 15 bits, honoured exactly) and context takeover in
	// both directions unless Compression turns it off. Malformed offers
	// are declined, never answered with an error.
	EnableCompression bool

	// Compression tunes permessage-deflate when EnableCompression is set;
	// nil means the defaults described in CompressionOptions.
	Compression *CompressionOptions

	// PingInterval, when positive, turns keepalive on: a ping is sent when
	// nothing was received from the peer for PingInterval, and a peer that
	// has not answered PongTimeout after the ping (PingInterval when
	// PongTimeout is zero) is closed with 1001; its reads then fail with
	// ErrKeepaliveTimeout. Frames count as soon as they arrive, also while
	// the application is busy and not reading: on Linux, bytes waiting
	// unread in the socket count as an answer (on other systems, and over
	// HTTP/2, only frames read do). Keepalive uses one timer per connection
	// and no goroutine.
	PingInterval time.Duration
	PongTimeout  time.Duration

	// IdleTimeout, when positive, closes (with 1001) a connection on which
	// no data message went either way for that long; its reads then fail
	// with ErrIdleTimeout. Pings and pongs do not count as activity.
	IdleTimeout time.Duration

	// WriteTimeout bounds writes, so that a peer that stops reading cannot
	// hold a writing goroutine, and the message it writes, forever:
	//
	//   - zero (the default): a write fails when the peer takes no byte
	//     for 30 seconds (noticed within 30 to 60 seconds; long messages go
	//     out in 1 MiB pieces, each with a fresh bound, and on Linux bytes
	//     the peer acknowledges count as progress, so a slow but live peer
	//     is not cut off);
	//   - positive: every frame must go out within WriteTimeout, and a
	//     write waiting for another message gives up after it;
	//   - negative: no bound but SetWriteDeadline's (gorilla's behaviour).
	//
	// A write that hits the bound fails the connection (see
	// Conn.WriteMessage): it returns a timeout net.Error, and so do later
	// writes and reads.
	WriteTimeout time.Duration

	// DisableWriteCoalescing makes every data frame go to the network as
	// its own write. By default, when the peer pipelines messages, a small
	// data frame written while the reader already holds the peer's next
	// frame is held back (at most 100µs, and never past the reader's next
	// network read or the next write that is not held) and sent with the
	// following frames in one system call. Order is always kept. This saves
	// CPU on servers with many pipelining clients; a pipelining peer then
	// gets its answers a batch at a time, which a single latency-bound
	// peer may not want.
	DisableWriteCoalescing bool

	// Hooks observe connections and rejected handshakes; unset hooks cost
	// nothing.
	Hooks Hooks
}

// Upgrade performs the server side of the WebSocket opening handshake for
// the request r and returns the new connection.
//
// It checks the request before taking over the connection, and on failure
// answers through w and returns a HandshakeError (see its Status) wrapping
// one of the Err... variables:
//
//   - method other than GET: 405 with "Allow: GET" (ErrBadMethod);
//   - no Upgrade header, or only empty ones (a plain HTTP request, such as a
//     browser opening the URL): 426 Upgrade Required with "Upgrade:
//     websocket" and "Connection: Upgrade" (ErrMissingUpgrade);
//   - Upgrade present without the "websocket" token, or Connection without
//     the "upgrade" token: 400 (ErrMissingUpgrade);
//   - Sec-WebSocket-Version missing or other than "13": 426 with
//     "Sec-WebSocket-Version: 13" (ErrBadVersion);
//   - Sec-WebSocket-Key absent, repeated or invalid: 400 (ErrBadKey);
//   - a request body (Content-Length other than 0, or any
//     Transfer-Encoding), which would otherwise be read as the start of
//     the WebSocket stream: 400 (ErrRequestBody);
//   - origin refused (see CheckOrigin): 403 (ErrOriginDenied);
//   - a 101 response that could not be written safely: 500
//     (ErrBadResponseHeader), see responseHeader below;
//   - w cannot be hijacked: 500 (ErrHijackUnsupported).
//
// responseHeader (may be nil) holds extra headers for the 101 response, such
// as Set-Cookie. A non-empty Sec-WebSocket-Protocol entry in it selects the
// subprotocol, replacing the negotiation with Subprotocols; it must be a
// single token. It must not hold the headers the library writes itself
// (Upgrade, Connection, Sec-WebSocket-Accept, Sec-WebSocket-Extensions), and
// every name must be a token and no value may contain control characters
// such as CR, LF or NUL; otherwise the request is refused with 500 and
// nothing is written.
//
// w is hijacked through http.NewResponseController, so middleware writers
// that implement Unwrap() http.ResponseWriter work. Bytes the client sent
// after its request that net/http already buffered are kept for the Conn.
// After the hijack, Upgrade clears the connection's deadlines, and a failure
// (writing the response) closes the connection and returns an error that is
// not a HandshakeError. If w's connection was already hijacked, Upgrade
// writes nothing and returns an error wrapping http.ErrHijacked. The handler
// must not use w after a successful Upgrade.
func (u *Upgrader) Upgrade(w http.ResponseWriter, r *http.Request, responseHeader http.Header) (*Conn, error) {
	// The hijack runs from this shallow frame, with the checks before and
	// the response after it in functions of their own: net/http's hijack
	// path is deep, and frames above it would make the handler's stack
	// grow to 8 KiB for the connection's lifetime instead of 4 KiB.
	var resp handshakeResponse
	if c, err, done := u.checkRequest(w, r, responseHeader, &resp); done {
		return c, err
	}
	nc, brw, err := http.NewResponseController(w).Hijack()
	return u.respond(w, r, &resp, nc, brw, err)
}

// checkRequest runs every check of the opening handshake and fills resp.
// done is true when the request was answered (refused, or upgraded over
// HTTP/2) with c and err as Upgrade's result.
//
//go:noinline
func (u *Upgrader) checkRequest(w http.ResponseWriter, r *http.Request, responseHeader http.Header, resp *handshakeResponse) (c *Conn, err error, done bool) {
	c, err = u.check(w, r, responseHeader, resp)
	return c, err, c != nil || err != nil
}

// check is checkRequest's body; it returns nil, nil when the request may
// be hijacked.
func (u *Upgrader) check(w http.ResponseWriter, r *http.Request, responseHeader http.Header, out *handshakeResponse) (*Conn, error) {
	if w == nil || r == nil {
		return nil, errors.New("websocket: Upgrade called with a nil ResponseWriter or Request")
	}
	if u.shutDown() {
		return u.reject(w, r, http.StatusServiceUnavailable, ErrShuttingDown)
	}
	if isExtendedConnect(r) {
		return u.upgradeH2(w, r, responseHeader)
	}
	if r.ProtoMajor < 1 || r.ProtoMajor == 1 && r.ProtoMinor < 1 {
		// RFC 6455 section 4.1: the handshake is HTTP/1.1 or later.
		return u.reject(w, r, http.StatusBadRequest, fmt.Errorf("%w: HTTP/1.1 or later required", ErrMissingUpgrade))
	}
	if r.Method != http.MethodGet {
		return u.reject(w, r, http.StatusMethodNotAllowed, ErrBadMethod, "Allow", http.MethodGet)
	}
	if !headerHasAnyElement(r.Header, hdrUpgrade) {
		return u.reject(w, r, http.StatusUpgradeRequired,
			fmt.Errorf("%w: request has no Upgrade header", ErrMissingUpgrade),
			"Upgrade", "websocket", "Connection", "Upgrade")
	}
	if !headerHasToken(r.Header, hdrUpgrade, "websocket") {
		return u.reject(w, r, http.StatusBadRequest,
			fmt.Errorf("%w: Upgrade header does not list websocket", ErrMissingUpgrade))
	}
	if !headerHasToken(r.Header, hdrConnection, "upgrade") {
		return u.reject(w, r, http.StatusBadRequest,
			fmt.Errorf("%w: Connection header does not list upgrade", ErrMissingUpgrade))
	}
	if v := r.Header[hdrWSVersion]; len(v) != 1 || v[0] != "13" {
		return u.reject(w, r, http.StatusUpgradeRequired, ErrBadVersion, "Sec-WebSocket-Version", "13")
	}
	keys := r.Header[hdrWSKey]
	if len(keys) != 1 || !checkClientKey(keys[0]) {
		return u.reject(w, r, http.StatusBadRequest, ErrBadKey)
	}
	if r.ContentLength != 0 || len(r.TransferEncoding) > 0 {
		// net/http has left the body unread in front of the frames; after
		// the hijack it would be parsed as the start of the stream.
		// (ContentLength is -1 when the length is unknown, as when chunked.)
		return u.reject(w, r, http.StatusBadRequest, ErrRequestBody)
	}
	if !u.originAllowed(r) {
		return u.reject(w, r, http.StatusForbidden, ErrOriginDenied)
	}
	resp, err := u.prepareResponse(r, responseHeader)
	if err != nil {
		return u.reject(w, r, http.StatusInternalServerError, err)
	}
	resp.key = keys[0]
	*out = resp
	return nil, nil
}

// reject answers the refused request r with status, the protocol headers
// given as name/value pairs in hdr, and a short text body (or through
// u.Error), and returns the matching HandshakeError.
func (u *Upgrader) reject(w http.ResponseWriter, r *http.Request, status int, reason error, hdr ...string) (*Conn, error) {
	h := w.Header()
	for i := 0; i+1 < len(hdr); i += 2 {
		h.Set(hdr[i], hdr[i+1])
	}
	if u.Hooks.OnReject != nil {
		u.Hooks.OnReject(r, status, reason)
	}
	if u.Error != nil {
		u.Error(w, r, status, reason)
	} else {
		http.Error(w, reason.Error(), status)
	}
	return nil, HandshakeError{Status: status, Err: reason}
}

// originAllowed runs u.CheckOrigin, or the same-origin check when it is nil.
func (u *Upgrader) originAllowed(r *http.Request) bool {
	if u.CheckOrigin != nil {
		return u.CheckOrigin(r)
	}
	return checkSameOrigin(r)
}

// checkSameOrigin is the default CheckOrigin: it accepts a request without
// Origin, and otherwise requires exactly one Origin header whose URL host
// (host:port as sent) equals r.Host under ASCII case folding.
func checkSameOrigin(r *http.Request) bool {
	origins := r.Header[hdrOrigin]
	if len(origins) == 0 {
		return true
	}
	if len(origins) != 1 {
		return false
	}
	o, err := url.Parse(origins[0])
	if err != nil || o.Host == "" {
		return false
	}
	return asciiEqualFold(o.Host, r.Host)
}

// handshakeResponse is what the 101 response carries besides the fixed
// lines. prepareResponse fills it and checks every part before the hijack.
type handshakeResponse struct {
	key         string // the client's Sec-WebSocket-Key
	subprotocol string // "" for none
	extensions  string // Sec-WebSocket-Extensions value, "" for none
	compress    *compressParams
	header      http.Header // caller's extra headers
	headerKeys  []string    // keys of header to write, sorted
}

// reservedResponseHeaders are written by the library; responseHeader must not
// hold them.
var reservedResponseHeaders = [...]string{hdrUpgrade, hdrConnection, hdrWSAccept, hdrWSExtensions}

// prepareResponse selects the subprotocol and extensions for r and checks
// that responseHeader can be written in the 101 response. Errors wrap
// ErrBadResponseHeader.
func (u *Upgrader) prepareResponse(r *http.Request, responseHeader http.Header) (handshakeResponse, error) {
	resp := handshakeResponse{header: responseHeader}
	protocolValues := 0
	for k, vs := range responseHeader {
		if problem := checkHeaderField(k, vs, reservedResponseHeaders[:], "the library"); problem != "" {
			return resp, fmt.Errorf("%w: %s", ErrBadResponseHeader, problem)
		}
		if asciiEqualFold(k, hdrWSProtocol) {
			protocolValues += len(vs)
			if len(vs) > 0 {
				resp.subprotocol = vs[0]
			}
			continue
		}
		if len(vs) > 0 {
			if resp.headerKeys == nil {
				resp.headerKeys = make([]string, 0, len(responseHeader))
			}
			resp.headerKeys = append(resp.headerKeys, k)
		}
	}
	if protocolValues > 1 {
		return resp, fmt.Errorf("%w: more than one Sec-WebSocket-Protocol value", ErrBadResponseHeader)
	}
	if resp.subprotocol == "" {
		resp.subprotocol = u.selectSubprotocol(r)
	}
	if resp.subprotocol != "" && !isToken(resp.subprotocol) {
		return resp, fmt.Errorf("%w: subprotocol %q is not a token", ErrBadResponseHeader, resp.subprotocol)
	}
	resp.extensions, resp.compress = u.negotiateExtensions(r)
	if !isValidHeaderValue(resp.extensions) {
		return resp, fmt.Errorf("%w: invalid Sec-WebSocket-Extensions value", ErrBadResponseHeader)
	}
	return resp, nil
}

// selectSubprotocol returns the first of u.Subprotocols that the client
// listed in Sec-WebSocket-Protocol, or "" when none matches.
func (u *Upgrader) selectSubprotocol(r *http.Request) string {
	for _, p := range u.Subprotocols {
		if headerListsExact(r.Header, hdrWSProtocol, p) {
			return p
		}
	}
	return ""
}

// negotiateExtensions returns the Sec-WebSocket-Extensions response value
// ("" for none) and the permessage-deflate parameters the Conn must use
// (nil for none).
func (u *Upgrader) negotiateExtensions(r *http.Request) (responseValue string, params *compressParams) {
	if !u.EnableCompression {
		return "", nil
	}
	offers := r.Header[hdrWSExtensions]
	if len(offers) == 0 {
		return "", nil
	}
	opts := u.Compression
	if opts == nil {
		opts = &CompressionOptions{}
	}
	p, resp, ok := deflate.Negotiate(offers, deflate.ServerConfig{
		DisableServerContextTakeover: opts.ServerNoContextTakeover,
		DisableClientContextTakeover: opts.ClientNoContextTakeover,
	})
	if !ok {
		return "", nil
	}
	return resp, &compressParams{params: p, level: opts.level(), threshold: opts.threshold()}
}
