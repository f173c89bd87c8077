package echo

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
)

// BroadcastImpls lists the implementations accepted by BroadcastHandler, in
// table order. It must not be modified.
var BroadcastImpls = []string{"gorilla", "wsup", "coder", "gws", "gobwas"}

// BroadcastHandler returns impl's broadcast server as an http.Handler
// serving every path: every data message a client sends is sent to every
// connected client, the sender included, with the same message type, the
// library's fastest idiomatic way (gorilla and wsup: one PreparedMessage
// written to each connection; gws: one Broadcaster; gobwas: one compiled
// frame written to each connection; coder: one Write per connection). With
// opts.Compress the message is compressed where permessage-deflate was
// negotiated. It returns an error for an impl not in BroadcastImpls or when
// wsup was built without the root package. The handler is safe for
// concurrent use.
func BroadcastHandler(impl string, opts Options) (http.Handler, error) {
	if opts.MaxMessage <= 0 {
		opts.MaxMessage = DefaultMaxMessage
	}
	switch impl {
	case "gorilla":
		return gorillaBroadcast(opts), nil
	case "wsup":
		return wsupBroadcast(opts)
	case "coder":
		return coderBroadcast(opts), nil
	case "gws":
		return gwsBroadcast(opts), nil
	case "gobwas":
		return gobwasBroadcast(opts), nil
	}
	return nil, fmt.Errorf("echo: no broadcast server for %q (have %v)", impl, BroadcastImpls)
}

// hub is the set of connected clients of a broadcast server. Its methods
// are safe for concurrent use.
type hub[C comparable] struct {
	mu    sync.Mutex
	conns map[C]struct{} // guarded by mu
}

// add registers c.
func (h *hub[C]) add(c C) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.conns == nil {
		h.conns = make(map[C]struct{})
	}
	h.conns[c] = struct{}{}
}

// remove unregisters c.
func (h *hub[C]) remove(c C) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.conns, c)
}

// snapshot appends every registered client to dst and returns it, so that
// the sends happen without the lock held.
func (h *hub[C]) snapshot(dst []C) []C {
	h.mu.Lock()
	defer h.mu.Unlock()
	dst = slices.Grow(dst[:0], len(h.conns))
	for c := range h.conns {
		dst = append(dst, c)
	}
	return dst
}
