package websocket

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"time"

	"github.com/wsup/websocket/internal/deflate"
)

var (
	// errMalformedURL is wrapped by errors for URLs DialContext cannot use.
	errMalformedURL = errors.New("websocket: malformed URL")
	// errBadRequestHeader is wrapped by errors for a requestHeader (or
	// Dialer.Subprotocols) that cannot be sent.
	errBadRequestHeader = errors.New("websocket: invalid request header")
	// errResponseTooLarge is returned when a handshake response head (the
	// server's or the proxy's) exceeds maxResponseHeadBytes.
	errResponseTooLarge = errors.New("websocket: handshake response header too large")
)

const (
	// maxResponseHeadBytes bounds the bytes read while parsing a handshake
	// response head, so a hostile server cannot make the client buffer an
	// endless header.
	maxResponseHeadBytes = 64 << 10
	// maxErrorBodyBytes is how much of the body of a refused handshake is
	// kept in the returned *http.Response.
	maxErrorBodyBytes = 1 << 10
	// defaultHandshakeTimeout is DefaultDialer's HandshakeTimeout.
	defaultHandshakeTimeout = 45 * time.Second
)

// Dialer opens client WebSocket connections (the client side of the RFC 6455
// opening handshake). Its fields and behaviour follow gorilla/websocket's
// Dialer.
//
// The zero value dials directly (no proxy), with no timeout but the
// context's, default buffer sizes and no subprotocol. A Dialer's methods are
// safe for concurrent use by multiple goroutines, provided its fields are
// not modified meanwhile.
type Dialer struct {
	// NetDial opens the TCP connection (to the server, or to the proxy)
	// when NetDialContext is nil (and, for wss, NetDialTLSContext too). It
	// gets no context: the dial itself is bounded only by NetDial, and
	// HandshakeTimeout and the context bound what follows. It is kept
	// from gorilla/websocket; prefer NetDialContext. When NetDial,
	// NetDialContext and NetDialTLSContext are all nil, a zero
	// net.Dialer's DialContext is used.
	NetDial func(network, addr string) (net.Conn, error)

	// NetDialContext opens the TCP connection (to the server, or to the
	// proxy); it takes precedence over NetDial. The network is "tcp", the
	// address host:port. It must honour ctx (the dial's context, bounded
	// by HandshakeTimeout), may be called concurrently by concurrent
	// dials, and must return a nil error only with a non-nil net.Conn.
	NetDialContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// NetDialTLSContext, when non-nil, opens the connection for wss://
	// URLs instead of NetDialContext and NetDial, and the Dialer then does
	// no TLS itself: the returned net.Conn is used as is (typically a
	// *tls.Conn the function dialed and configured), and TLSClientConfig is
	// ignored. As in gorilla/websocket, this also holds behind a proxy:
	// NetDialTLSContext then dials the proxy's address, and the tunnel it
	// carries is used without TLS to the server. It is not used for ws://
	// URLs. Its contract is NetDialContext's.
	NetDialTLSContext func(ctx context.Context, network, addr string) (net.Conn, error)

	// Proxy returns the URL of the proxy for a request, or nil for a direct
	// connection; http.ProxyFromEnvironment is the usual choice (it reads
	// HTTP_PROXY for ws:// and HTTPS_PROXY for wss://, and NO_PROXY; not
	// ALL_PROXY). The request it gets has an http or https URL (ws and wss
	// are mapped). When Proxy is nil or returns nil, no proxy is used; when
	// it returns an error, the dial fails with it. Supported proxies:
	//
	//   - http://host[:port] (port 80 by default), reached with an HTTP
	//     CONNECT tunnel, authenticated with Basic Proxy-Authorization when
	//     the URL holds a user name and password;
	//   - socks5://host[:port] or socks5h://host[:port] (port 1080 by
	//     default), a SOCKS5 proxy (RFC 1928) asked to CONNECT to the
	//     server's host name (resolved by the proxy) or IP literal. It is
	//     offered no authentication and, when the URL holds a user name
	//     (1 to 255 bytes) and password (at most 255 bytes), also
	//     username/password authentication (RFC 1929).
	//
	// Other schemes, https:// proxies included, make the dial fail. The
	// proxy's address is dialed like the server's would be (NetDialContext
	// and so on); a refused tunnel fails the dial with an error naming the
	// proxy's status or SOCKS5 reply, and no *http.Response.
	Proxy func(*http.Request) (*url.URL, error)

	// TLSClientConfig configures TLS for wss:// URLs, unless
	// NetDialTLSContext is set (it is then ignored). It is cloned for each
	// dial, never modified. When nil, a zero tls.Config is used. When its
	// ServerName is empty, the URL's host name is used. ALPN is restricted
	// to "http/1.1" (a WebSocket handshake cannot run over HTTP/2).
	TLSClientConfig *tls.Config

	// HandshakeTimeout bounds the whole dial: the TCP connection, the proxy
	// handshake, the TLS handshake and the WebSocket handshake. Zero means
	// no bound other than the context's. As with gorilla/websocket, a
	// negative value is a bound already passed: the dial fails at once,
	// before any network activity, with an error wrapping
	// context.DeadlineExceeded (a net.Error whose Timeout method reports
	// true).
	HandshakeTimeout time.Duration

	// ReadBufferSize and WriteBufferSize are the sizes in bytes of the Conn's
	// read and write buffers. Zero (or less) selects a default size, 4096
	// bytes; sizes over 1 MiB (1 << 20) are taken as 1 MiB.
	ReadBufferSize, WriteBufferSize int

	// WriteBufferPool, when non-nil, supplies the Conn's write buffers, so
	// that idle connections hold none.
	WriteBufferPool BufferPool

	// Subprotocols lists the application protocols the client requests in
	// Sec-WebSocket-Protocol, in order of preference. Each must be a token
	// (RFC 9110: letters, digits and !#$%&'*+-.^_`|~).
	Subprotocols []string

	// EnableCompression offers permessage-deflate (RFC 7692). When the
	// server accepts, messages of at least 512 bytes are compressed with
	// flate.BestSpeed and the window and context takeover the server
	// answered; Conn.EnableWriteCompression and SetCompressionLevel adjust
	// that per connection.
	EnableCompression bool

	// DisableWriteCoalescing makes every data frame go to the network as
	// its own write, as Upgrader.DisableWriteCoalescing does for servers.
	DisableWriteCoalescing bool

	// PingInterval, PongTimeout, IdleTimeout and WriteTimeout bound the
	// connection's liveness and writes exactly as the Upgrader's fields of
	// the same names do for servers: keepalive pings and the idle timeout
	// are off when zero; WriteTimeout zero means the default 30-second
	// write stall bound, negative means none.
	PingInterval time.Duration
	PongTimeout  time.Duration
	IdleTimeout  time.Duration
	WriteTimeout time.Duration

	// Jar, when non-nil, supplies the cookies sent with the handshake
	// request and stores the cookies the response sets (also when the
	// handshake is refused).
	Jar http.CookieJar
}

// DefaultDialer is a Dialer that uses the proxy from the environment
// (HTTP_PROXY, HTTPS_PROXY, NO_PROXY) and a 45-second handshake timeout.
var DefaultDialer = &Dialer{
	Proxy:            http.ProxyFromEnvironment,
	HandshakeTimeout: defaultHandshakeTimeout,
}

// nilDialer is what a nil *Dialer dials with: DefaultDialer's settings.
var nilDialer = *DefaultDialer

// Dial is DialContext with context.Background(). It is safe for concurrent
// use.
func (d *Dialer) Dial(urlStr string, requestHeader http.Header) (*Conn, *http.Response, error) {
	return d.DialContext(context.Background(), urlStr, requestHeader)
}

// DialContext opens a WebSocket connection to urlStr (ws:// or wss://;
// http:// and https:// are accepted and mean the same; the default ports are
// 80 and 443) and performs the opening handshake. A nil *Dialer behaves like
// DefaultDialer.
//
// requestHeader (may be nil) holds extra request headers, such as Origin,
// Cookie or Authorization. A "Host" entry replaces the Host header (the TLS
// server name still comes from the URL). It may hold Sec-WebSocket-Protocol
// (comma-separated tokens) to request subprotocols, but only when
// d.Subprotocols is empty. It must not hold the headers the handshake sets
// (Upgrade, Connection, Sec-WebSocket-Key, Sec-WebSocket-Version,
// Sec-WebSocket-Extensions), and every name must be a token and no value
// may hold control characters such as CR, LF or NUL; otherwise DialContext
// fails before any network activity.
//
// ctx and d.HandshakeTimeout both bound the whole dial (a negative
// HandshakeTimeout has already passed); when either ends first, the error
// wraps ctx's error (context.Canceled or context.DeadlineExceeded). The returned Conn has no deadline set and does
// not depend on ctx afterwards.
//
// When the server answers, its *http.Response is returned, also with an
// error. A response that is not an acceptable 101 gives ErrBadHandshake
// itself (not wrapped, so both err == ErrBadHandshake and errors.Is hold,
// as with gorilla/websocket); BadHandshakeReason(resp) tells which check
// failed. resp.Body then holds the first KiB of the server's body (read
// within the same time bound), and may be read after the connection is
// closed. On every error the network connection is closed.
//
// The hooks of the net/http/httptrace.ClientTrace in ctx, if any, are
// called as gorilla/websocket calls them: GetConn (with the server's
// host:port, also behind a proxy) before dialing; GotConn once connected
// (behind a proxy, once the tunnel is open); TLSHandshakeStart and
// TLSHandshakeDone around the TLS handshake (not when NetDialTLSContext did
// it); WroteHeaderField, WroteHeaders and WroteRequest while writing the
// handshake request; GotFirstResponseByte when the response starts. The
// hooks run on the calling goroutine.
//
// Bytes the server sent right after the 101 response (its first frames) are
// kept for the Conn. No goroutine started by DialContext outlives it: a
// canceled ctx only runs a short one that sets a past deadline on the
// connection. DialContext is safe for concurrent use.
func (d *Dialer) DialContext(ctx context.Context, urlStr string, requestHeader http.Header) (*Conn, *http.Response, error) {
	if d == nil {
		d = &nilDialer
	}
	if ctx == nil {
		return nil, nil, errors.New("websocket: DialContext called with a nil Context")
	}
	cr, err := newClientRequest(urlStr, requestHeader, d.Subprotocols)
	if err != nil {
		return nil, nil, err
	}
	if d.EnableCompression {
		cr.offerDeflate = true
		cr.req.Header["Sec-WebSocket-Extensions"] = []string{deflate.ClientOffer}
	}
	if d.HandshakeTimeout != 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.HandshakeTimeout)
		defer cancel()
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("websocket: dial %s: %w", cr.addr, err)
	}
	// Request.Write calls the WroteHeaderField, WroteHeaders and
	// WroteRequest hooks of the request context's ClientTrace.
	cr.req = cr.req.WithContext(ctx)
	trace := httptrace.ContextClientTrace(ctx)
	if d.Jar != nil {
		for _, c := range d.Jar.Cookies(cr.req.URL) {
			cr.req.AddCookie(c)
		}
	}

	dialAddr := cr.addr
	var proxyURL *url.URL
	if d.Proxy != nil {
		if proxyURL, err = d.Proxy(cr.req); err != nil {
			return nil, nil, fmt.Errorf("websocket: selecting proxy: %w", err)
		}
		if proxyURL != nil {
			if dialAddr, err = proxyAddr(proxyURL); err != nil {
				return nil, nil, err
			}
		}
	}

	if trace != nil && trace.GetConn != nil {
		trace.GetConn(cr.addr)
	}
	nc, err := d.netDial(ctx, dialAddr, cr.secure)
	if err != nil {
		return nil, nil, withContextErr(ctx, fmt.Errorf("websocket: dial %s: %w", dialAddr, err))
	}
	// The handshake runs under the context's deadline, and a cancellation
	// interrupts blocked I/O by setting a past deadline.
	if deadline, ok := ctx.Deadline(); ok {
		if err := nc.SetDeadline(deadline); err != nil {
			nc.Close()
			return nil, nil, fmt.Errorf("websocket: setting handshake deadline: %w", err)
		}
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.SetDeadline(aLongTimeAgo) })

	conn, br, subprotocol, resp, err := d.handshake(nc, cr, proxyURL, trace)
	var compress *compressParams
	if err == nil && cr.offerDeflate && headerHasAnyElement(resp.Header, hdrWSExtensions) {
		p, perr := deflate.ParseResponse(resp.Header[hdrWSExtensions])
		if perr != nil {
			err = fmt.Errorf("%w: %w", ErrBadHandshake, perr)
		} else {
			compress = &compressParams{params: p, level: defaultCompressionLevel, threshold: defaultCompressionThreshold}
		}
	}
	if !stop() && err == nil {
		// The AfterFunc ran or is running: the connection's deadline is
		// (or is about to be) in the past.
		err = fmt.Errorf("websocket: handshake with %s: %w", cr.addr, ctx.Err())
	}
	if err == nil {
		if err = nc.SetDeadline(time.Time{}); err != nil {
			err = fmt.Errorf("websocket: clearing handshake deadline: %w", err)
		}
	}
	if err != nil {
		nc.Close()
		if errors.Is(err, ErrBadHandshake) && resp != nil {
			// gorilla/websocket programs compare with ==: the detail
			// stays reachable through BadHandshakeReason(resp).
			if rb, ok := resp.Body.(*refusedBody); ok {
				rb.reason = err
			} else {
				resp.Body = &refusedBody{Reader: bytes.NewReader(nil), reason: err}
			}
			return nil, resp, ErrBadHandshake
		}
		return nil, resp, withContextErr(ctx, err)
	}
	c := newConn(conn, connConfig{
		isServer:        false,
		subprotocol:     subprotocol,
		readBufferSize:  d.ReadBufferSize,
		writeBufferSize: d.WriteBufferSize,
		writeBufferPool: d.WriteBufferPool,
		br:              br,
		compress:        compress,
		noCoalesce:      d.DisableWriteCoalescing,
	})
	c.writeTimeout = d.WriteTimeout
	c.startKeepalive(d.PingInterval, d.PongTimeout, d.IdleTimeout)
	return c, resp, nil
}

// netDial opens the connection to addr with the dial function that applies
// (secure is set for wss): NetDialTLSContext for wss, then NetDialContext,
// then NetDial, then a zero net.Dialer.
func (d *Dialer) netDial(ctx context.Context, addr string, secure bool) (net.Conn, error) {
	var (
		nc   net.Conn
		err  error
		name string
	)
	switch {
	case secure && d.NetDialTLSContext != nil:
		name = "NetDialTLSContext"
		nc, err = d.NetDialTLSContext(ctx, "tcp", addr)
	case d.NetDialContext != nil:
		name = "NetDialContext"
		nc, err = d.NetDialContext(ctx, "tcp", addr)
	case d.NetDial != nil:
		name = "NetDial"
		nc, err = d.NetDial("tcp", addr)
	default:
		var nd net.Dialer
		nc, err = nd.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		if nc != nil {
			nc.Close()
		}
		return nil, err
	}
	if nc == nil {
		return nil, fmt.Errorf("%s returned a nil net.Conn and no error", name)
	}
	return nc, nil
}

// withContextErr makes err also wrap ctx's error when ctx has ended, since
// the failure (typically an I/O timeout) is then due to it. A refused
// handshake keeps its own error.
func withContextErr(ctx context.Context, err error) error {
	cerr := ctx.Err()
	if cerr == nil {
		// The connection's deadline is the context's, and its timeout may
		// be reported before the context's own timer fires.
		if deadline, ok := ctx.Deadline(); ok && !time.Now().Before(deadline) {
			cerr = context.DeadlineExceeded
		}
	}
	if cerr == nil || errors.Is(err, cerr) || errors.Is(err, ErrBadHandshake) {
		return err
	}
	return fmt.Errorf("%w: %w", cerr, err)
}

// handshake runs, on the connected nc, the proxy handshake (when proxyURL
// is set), the TLS handshake (for wss, unless NetDialTLSContext did it) and
// the WebSocket handshake, calling trace's hooks (trace may be nil) where
// gorilla/websocket does. It returns the connection to build the Conn on,
// the reader holding any bytes read past the response, and the negotiated
// subprotocol. It does not close nc.
func (d *Dialer) handshake(nc net.Conn, cr *clientRequest, proxyURL *url.URL, trace *httptrace.ClientTrace) (conn net.Conn, br *bufio.Reader, subprotocol string, resp *http.Response, err error) {
	conn = nc
	if proxyURL != nil {
		if conn, err = proxyTunnel(conn, proxyURL, cr.addr); err != nil {
			return nil, nil, "", nil, err
		}
	}
	if trace != nil && trace.GotConn != nil {
		trace.GotConn(httptrace.GotConnInfo{Conn: conn})
	}
	if cr.secure && d.NetDialTLSContext == nil {
		if conn, err = d.tlsHandshake(conn, cr.serverName, trace); err != nil {
			return nil, nil, "", nil, err
		}
	}
	if err := cr.req.Write(conn); err != nil {
		return nil, nil, "", nil, fmt.Errorf("websocket: writing handshake request: %w", err)
	}

	size := clampBufferSize(d.ReadBufferSize, defaultReadBufferSize)
	head := &headLimitReader{r: conn, n: maxResponseHeadBytes}
	br = bufio.NewReaderSize(head, size)
	if trace != nil && trace.GotFirstResponseByte != nil {
		if _, err := br.Peek(1); err == nil {
			trace.GotFirstResponseByte()
		}
	}
	resp, err = http.ReadResponse(br, cr.req)
	if err != nil {
		return nil, nil, "", nil, fmt.Errorf("websocket: reading handshake response: %w", err)
	}
	if d.Jar != nil {
		if rc := resp.Cookies(); len(rc) > 0 {
			d.Jar.SetCookies(cr.req.URL, rc)
		}
	}
	subprotocol, err = checkResponse(resp, cr)
	if err != nil {
		keepErrorBody(resp)
		return nil, nil, "", resp, err
	}
	head.n = -1 // the Conn reads frames through br without a limit
	return conn, br, subprotocol, resp, nil
}

// tlsHandshake runs the TLS client handshake on conn, between trace's
// TLSHandshakeStart and TLSHandshakeDone hooks (trace may be nil). It is
// bounded by the deadline set on the underlying connection.
func (d *Dialer) tlsHandshake(conn net.Conn, serverName string, trace *httptrace.ClientTrace) (net.Conn, error) {
	var cfg *tls.Config
	if d.TLSClientConfig != nil {
		cfg = d.TLSClientConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = serverName
	}
	// Offering h2 could make the server select it, and the WebSocket
	// handshake below is HTTP/1.1.
	if slices.Contains(cfg.NextProtos, "http/1.1") {
		cfg.NextProtos = []string{"http/1.1"}
	} else {
		cfg.NextProtos = nil
	}
	tc := tls.Client(conn, cfg)
	if trace != nil && trace.TLSHandshakeStart != nil {
		trace.TLSHandshakeStart()
	}
	err := tc.Handshake()
	if trace != nil && trace.TLSHandshakeDone != nil {
		trace.TLSHandshakeDone(tc.ConnectionState(), err)
	}
	if err != nil {
		return nil, fmt.Errorf("websocket: TLS handshake with %s: %w", serverName, err)
	}
	return tc, nil
}

// keepErrorBody replaces resp.Body with its first maxErrorBodyBytes, so
// that it stays readable once the connection is closed.
func keepErrorBody(resp *http.Response) {
	buf := make([]byte, maxErrorBodyBytes)
	n, _ := io.ReadFull(resp.Body, buf)
	resp.Body = &refusedBody{Reader: bytes.NewReader(buf[:n])}
}
