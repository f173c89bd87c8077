package websocket

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// registries tracks the live connections of each Upgrader, for Shutdown.
// It lives outside the Upgrader so that Upgrader values stay plain data
// that may be copied (a copy is a different Upgrader). An entry exists while
// the Upgrader has live connections, and forever after Shutdown, so that it
// keeps refusing handshakes.
var registries struct {
	mu sync.Mutex
	m  map[*Upgrader]*registry // guarded by mu
}

// registry is one Upgrader's connections; guarded by registries.mu.
type registry struct {
	conns    map[*Conn]struct{}
	shutdown bool
}

// shutDown reports whether Shutdown was called on u.
func (u *Upgrader) shutDown() bool {
	registries.mu.Lock()
	defer registries.mu.Unlock()
	r := registries.m[u]
	return r != nil && r.shutdown
}

// track registers a new connection, arms keepalive and the hooks, and
// returns it. A connection upgraded while Shutdown runs is closed with 1001
// at once.
func (u *Upgrader) track(c *Conn) (*Conn, error) {
	c.writeTimeout = u.WriteTimeout
	c.owner = u
	if u.Hooks.OnClose != nil {
		now := time.Now()
		c.openedAt = &now
	}
	registries.mu.Lock()
	r := u.registryLocked()
	if r.shutdown {
		// The handshake finished while Shutdown ran: close this one the
		// same way, without making the handler wait.
		registries.mu.Unlock()
		go c.shutdown(time.Now().Add(closeTimeout.get()))
		return nil, ErrShuttingDown
	}
	r.conns[c] = struct{}{}
	registries.mu.Unlock()
	c.startKeepalive(u.PingInterval, u.PongTimeout, u.IdleTimeout)
	if u.Hooks.OnOpen != nil {
		u.Hooks.OnOpen(c)
	}
	return c, nil
}

// untrack forgets a closed connection and runs the OnClose hook.
func (u *Upgrader) untrack(c *Conn) {
	registries.mu.Lock()
	if r := registries.m[u]; r != nil {
		delete(r.conns, c)
		if len(r.conns) == 0 && !r.shutdown {
			delete(registries.m, u)
		}
	}
	registries.mu.Unlock()
	if u.Hooks.OnClose != nil && c.openedAt != nil {
		u.Hooks.OnClose(c, c.closeCode(), time.Since(*c.openedAt))
	}
}

// Shutdown closes every connection this Upgrader upgraded, gracefully: it
// refuses new handshakes (503 Service Unavailable), sends each connection a
// close frame with 1001 (going away), waits for the peers' close frames
// until ctx ends (at most 5 seconds per connection when ctx has no
// deadline), then closes what is left. A connection whose handshake
// completes while Shutdown runs is closed the same way, on its own. Reads on those connections fail with
// ErrShuttingDown. It returns nil when every peer answered, else ctx.Err(),
// or context.DeadlineExceeded when ctx had no deadline and a peer did not
// answer within 5 seconds.
//
// Call it from http.Server.RegisterOnShutdown, which runs it as soon as
// http.Server.Shutdown begins. WebSockets over HTTP/2 are streams that keep
// their connection active, so http.Server.Shutdown waits for them: called
// after it, Shutdown runs only once that wait ran into its deadline.
// http.Server.Shutdown does not wait for hijacked (HTTP/1.1) connections,
// so wait for the hook's Shutdown to return before exiting
// (docs/keepalive-and-shutdown.md). Shutdown is safe for concurrent use;
// the Upgrader accepts no connections afterwards.
func (u *Upgrader) Shutdown(ctx context.Context) error {
	registries.mu.Lock()
	r := u.registryLocked()
	r.shutdown = true
	conns := make([]*Conn, 0, len(r.conns))
	for c := range r.conns {
		conns = append(conns, c)
	}
	registries.mu.Unlock()

	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(closeTimeout.get())
	}
	var wg sync.WaitGroup
	var forced atomic.Bool
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !c.shutdown(deadline) {
				forced.Store(true)
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		if forced.Load() {
			// Some peer did not answer by the deadline.
			if err := ctx.Err(); err != nil {
				return err
			}
			return context.DeadlineExceeded
		}
		return nil
	case <-ctx.Done():
		for _, c := range conns {
			_ = c.closeNetConn()
		}
		<-done
		return ctx.Err()
	}
}

// shutdown runs the closing handshake with 1001 and closes the connection.
// It reports whether the peer's close frame arrived.
func (c *Conn) shutdown(deadline time.Time) bool {
	_, _ = c.closeConn(closeReq{code: CloseGoingAway, reason: "server shutting down", cause: ErrShuttingDown, deadline: deadline, await: true})
	return c.peerCloseCode.Load() != 0
}

// registryLocked returns u's registry, made on first use. The caller holds
// registries.mu.
func (u *Upgrader) registryLocked() *registry {
	if registries.m == nil {
		registries.m = make(map[*Upgrader]*registry)
	}
	r := registries.m[u]
	if r == nil {
		r = &registry{conns: make(map[*Conn]struct{})}
		registries.m[u] = r
	}
	return r
}
