package echo

import (
	"net/http"

	"github.com/lxzan/gws"
)

// gwsBroadcaster is the lxzan/gws event handler of the broadcast server.
type gwsBroadcaster struct {
	gws.BuiltinEventHandler
	clients *hub[*gws.Conn]
}

// OnOpen registers c.
func (b gwsBroadcaster) OnOpen(c *gws.Conn) { b.clients.add(c) }

// OnClose unregisters c.
func (b gwsBroadcaster) OnClose(c *gws.Conn, _ error) { b.clients.remove(c) }

// OnPing answers pings, which BuiltinEventHandler ignores.
func (gwsBroadcaster) OnPing(c *gws.Conn, payload []byte) { _ = c.WritePong(payload) }

// OnMessage sends m to every client through one gws.Broadcaster, which
// frames (and compresses) it once and queues it on each connection's
// writer. The payload is copied because the queued writes outlive m.
func (b gwsBroadcaster) OnMessage(_ *gws.Conn, m *gws.Message) {
	p := append([]byte(nil), m.Bytes()...)
	op := m.Opcode
	_ = m.Close()
	bc := gws.NewBroadcaster(op, p)
	defer func() { _ = bc.Close() }()
	for _, to := range b.clients.snapshot(nil) {
		_ = bc.Broadcast(to)
	}
}

// gwsBroadcast upgrades with gws.Upgrader and runs each connection's
// ReadLoop.
func gwsBroadcast(opts Options) http.Handler {
	return gwsServe(gwsBroadcaster{clients: &hub[*gws.Conn]{}}, opts)
}
