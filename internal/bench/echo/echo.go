// Package echo holds one idiomatic WebSocket echo server per library compared
// by the wsup benchmarks: wsup itself, gorilla/websocket, coder/websocket,
// lxzan/gws and gobwas/ws, plus "limit", the least work any Go echo must do.
// Each server reads a message and writes it back with the same message type,
// and optionally negotiates permessage-deflate. BroadcastHandler holds the
// same libraries' broadcast servers.
package echo

import (
	"fmt"
	"net/http"
	"slices"
)

// Impls lists the implementation names accepted by Handler, in the order the
// benchmark tables use (gorilla first: it is the baseline). "wsup-upgrade"
// is wsup with Upgrade inside a handler that keeps running instead of
// Upgrader.Handler; "limit" is not a library but the floor (see
// limitHandler). It must not be modified.
var Impls = []string{"gorilla", "wsup", "wsup-upgrade", "coder", "gws", "gobwas", "limit"}

// DefaultMaxMessage is the read limit applied when Options.MaxMessage is 0.
const DefaultMaxMessage = 16 << 20

// Options configures an echo server.
type Options struct {
	// Compress enables permessage-deflate negotiation where the library
	// supports it.
	Compress bool
	// MaxMessage bounds the size of a received message in bytes (default
	// DefaultMaxMessage). Libraries without a limit knob enforce it per frame.
	MaxMessage int64
}

// Handler returns the echo server of impl as an http.Handler serving every
// path. It returns an error for an unknown impl or when the wsup server
// was built without the root package (see server_wsup_stub.go). The handler
// is safe for concurrent use.
func Handler(impl string, opts Options) (http.Handler, error) {
	if opts.MaxMessage <= 0 {
		opts.MaxMessage = DefaultMaxMessage
	}
	switch impl {
	case "gorilla":
		return gorillaHandler(opts), nil
	case "wsup":
		return wsupHandler(opts)
	case "wsup-upgrade":
		return wsupUpgradeHandler(opts)
	case "coder":
		return coderHandler(opts), nil
	case "gws":
		return gwsHandler(opts), nil
	case "gobwas":
		return gobwasHandler(opts), nil
	case "limit":
		return limitHandler(opts), nil
	}
	if !slices.Contains(Impls, impl) {
		return nil, fmt.Errorf("echo: unknown impl %q (have %v)", impl, Impls)
	}
	return nil, fmt.Errorf("echo: impl %q not wired", impl)
}
