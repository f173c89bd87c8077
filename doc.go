// Package websocket implements the WebSocket protocol (RFC 6455) for
// net/http servers, with permessage-deflate compression (RFC 7692).
//
// A handler on any http.ServeMux calls Upgrader.Upgrade; the Upgrader checks
// the opening handshake, takes over the connection and returns a *Conn that
// reads and writes messages. The common API is that of
// github.com/gorilla/websocket: moving from it is an import-path change.
//
//	var upgrader websocket.Upgrader // the zero value is ready to use
//
//	func echo(w http.ResponseWriter, r *http.Request) {
//		c, err := upgrader.Upgrade(w, r, nil)
//		if err != nil {
//			return // Upgrade already answered with the right HTTP status
//		}
//		defer c.Close()
//		for {
//			mt, p, err := c.ReadMessage()
//			if err != nil {
//				return
//			}
//			if err := c.WriteMessage(mt, p); err != nil {
//				return
//			}
//		}
//	}
//
// Upgrader.Handler wraps that pattern: mux.Handle("/ws", upgrader.Handler(serve)).
// Over HTTP/1.1 it runs serve on a goroutine of its own and returns from
// net/http's handler once the connection is upgraded, which frees
// net/http's goroutine, request and buffers: an idle connection costs
// 7 to 8 KiB instead of about 12 KiB. Upgrader.HandlerWithRequest runs
// serve the same way for a function that needs the request (the
// authenticated user in its context, r.PathValue, the query).
//
// # Handshake
//
// Upgrade refuses a bad handshake before taking over the connection, with
// the status RFC 6455 calls for: 405 for a method other than GET, 426 for a
// plain HTTP request or a Sec-WebSocket-Version other than 13, 400 for a
// missing Upgrade/Connection token or a malformed Sec-WebSocket-Key, 403
// when the origin check fails, 503 after Shutdown. The returned
// HandshakeError wraps a sentinel (ErrBadMethod, ErrBadVersion, ...) for
// errors.Is.
//
// # Security defaults
//
// CheckOrigin defaults to a same-origin check, because browsers let any page
// open a WebSocket to any server with the user's cookies (cross-site
// WebSocket hijacking). Messages are limited to DefaultReadLimit (32 MiB;
// SetReadLimit changes it), also after decompression. Text messages and
// close reasons are validated as UTF-8, incrementally, failing at the first
// invalid byte. Every framing violation closes the connection with the
// status code RFC 6455 prescribes (1002, 1007, 1009).
//
// # Concurrency
//
// All write methods (WriteMessage, WriteMessageContext, WriteControl,
// NextWriter, WriteJSON, WritePreparedMessage, Ping, Close) may be called
// from many goroutines at once: each data message is written whole, never
// interleaved with another, and control frames may go out between the
// fragments of a NextWriter message. A writer waits while another message
// is being written; that wait ends with Close, the write deadline, or
// Upgrader.WriteTimeout, and a write to a peer that takes no byte for 30
// seconds fails (Upgrader.WriteTimeout changes that bound).
//
// Reads (NextReader, ReadMessage, ReadMessageContext, ReadJSON) must come
// from one goroutine at a time. Ping and pong handlers and the close
// handler run on that goroutine, and control frames (pings, pongs, close)
// are only processed while it reads: a connection should always have a
// reader.
//
// Write coalescing: when the peer pipelines messages, a small data frame
// written while the reader already holds the peer's next frame is held
// (at most 100µs, and never past the reader's next network read or the
// next write that is not held) and sent with the frames that follow in one
// system call. Order is kept. Upgrader.DisableWriteCoalescing turns it off.
//
// # Closing
//
// Close performs the closing handshake: it sends a close frame (1000), waits
// up to 5 seconds for the peer's, and closes the connection. When the peer
// closes first, the read returns a *CloseError with its code and the close
// frame is echoed; IsCloseError and IsUnexpectedCloseError match it through
// wrapped errors.
//
// # Compression
//
// With Upgrader.EnableCompression, permessage-deflate is negotiated when the
// client offers it, with context takeover in both directions and any window
// size from 8 to 15 bits, honoured exactly. CompressionOptions sets the
// level, the size under which messages go uncompressed (512 bytes by
// default) and turns context takeover off per direction to save memory.
// PreparedMessage compresses a broadcast once for all connections that share
// the same parameters.
//
// # Keepalive and shutdown
//
// Upgrader.PingInterval pings quiet peers and closes those that stop
// answering; Upgrader.IdleTimeout closes connections without data. Both run
// on one timer per connection. Upgrader.Shutdown closes every connection
// with 1001 (going away) and waits for the closing handshakes; start it from
// http.Server.RegisterOnShutdown, so that it runs as soon as
// http.Server.Shutdown begins (which waits for HTTP/2 WebSocket streams but
// not for hijacked HTTP/1.1 connections).
// Ping(ctx) waits for the pong that answers it.
//
// # HTTP/2
//
// Upgrade also accepts WebSockets over HTTP/2 (RFC 8441, extended CONNECT)
// on the same route, with the same checks. Go's HTTP/2 server offers
// extended CONNECT only when the process starts with
// GODEBUG=http2xconnect=1 in its environment. Such requests have the method
// CONNECT: a route registered as "GET /ws" does not receive them; register
// "/ws". Over HTTP/2 the connection lives as long as the handler: return
// only after Close (Upgrader.Handler does that).
//
// # Client
//
// Dialer opens client connections over ws:// and wss://, through HTTP
// CONNECT proxies, with permessage-deflate when EnableCompression is set.
// Client frames are masked with keys from crypto/rand.
package websocket
