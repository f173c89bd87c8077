package echo

import (
	"net/http"

	"github.com/lxzan/gws"
)

// gwsEcho is the lxzan/gws event handler: OnMessage writes the message back.
type gwsEcho struct {
	gws.BuiltinEventHandler
}

// OnPing answers pings, which BuiltinEventHandler ignores.
func (gwsEcho) OnPing(c *gws.Conn, payload []byte) { _ = c.WritePong(payload) }

// OnMessage echoes m with its opcode and returns its buffer to the pool.
func (gwsEcho) OnMessage(c *gws.Conn, m *gws.Message) {
	defer func() { _ = m.Close() }()
	_ = c.WriteMessage(m.Opcode, m.Bytes())
}

// gwsHandler upgrades with gws.Upgrader and runs the connection's ReadLoop.
func gwsHandler(opts Options) http.Handler { return gwsServe(gwsEcho{}, opts) }

// gwsServe upgrades with a gws.Upgrader calling events and runs each
// connection's ReadLoop: the echo and the broadcast server differ only in
// their event handler.
func gwsServe(events gws.Event, opts Options) http.Handler {
	up := gws.NewUpgrader(events, &gws.ServerOption{
		ReadMaxPayloadSize: int(opts.MaxMessage),
		PermessageDeflate:  gws.PermessageDeflate{Enabled: opts.Compress},
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r)
		if err != nil {
			return
		}
		c.ReadLoop()
	})
}
