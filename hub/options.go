package hub

import (
	"time"

	"github.com/wsup/websocket"
)

// SlowPolicy says what a Hub does with a connection whose send queue is
// full.
type SlowPolicy int

const (
	// DropConnection closes the connection with Options.SlowCloseCode once
	// its queue is full: the client learns it missed messages and can
	// reconnect and resume. The default.
	DropConnection SlowPolicy = iota
	// DropOldest discards the oldest queued messages to make room: the
	// client stays connected but misses messages, silently unless the
	// application frames offsets (Options.Frame) for it to notice.
	DropOldest
)

// Defaults of Options.
const (
	DefaultQueueMessages = 256
	DefaultQueueBytes    = 1 << 20
	DefaultWriteTimeout  = 10 * time.Second
	DefaultMaxRecover    = 1000
)

// Options configure a Hub. The zero value is usable: an in-process broker
// without history, the defaults below, and frames that are the published
// data.
type Options struct {
	// Broker carries publications between hubs. nil: a MemoryBroker
	// without history.
	Broker Broker
	// QueueMessages and QueueBytes bound each connection's send queue, in
	// messages and in bytes (0: DefaultQueueMessages, DefaultQueueBytes).
	// A message larger than QueueBytes alone is still queued when the
	// queue is empty.
	QueueMessages int
	QueueBytes    int
	// Policy is what happens when a queue is full.
	Policy SlowPolicy
	// SlowCloseCode is the close code DropConnection sends: 0 selects
	// websocket.ClosePolicyViolation (1008); websocket.CloseTryAgainLater
	// (1013) is the other usual choice.
	SlowCloseCode int
	// WriteTimeout bounds each write to a connection (0:
	// DefaultWriteTimeout). A write that times out ends the connection.
	WriteTimeout time.Duration
	// MaxRecover bounds how many publications Resume replays (0:
	// DefaultMaxRecover).
	MaxRecover int
	// Frame returns the message sent to subscribers for a publication:
	// the place to wrap the data with its topic and position for clients
	// that resume. nil sends p.Data as it is. It is called once per
	// publication and hub, and must not keep p.Data.
	Frame func(p Publication) []byte
	// Hooks observe the hub.
	Hooks Hooks
}

// Hooks are callbacks of a Hub; each may be nil. They run on the goroutine
// where the event happens (often the broker's delivery goroutine), so they
// must be quick and must not call the Hub.
type Hooks struct {
	// OnSlowConsumer is called when a connection's queue overflowed:
	// dropped is how many messages it lost (DropOldest), or closed is true
	// when the connection is being closed (DropConnection).
	OnSlowConsumer func(conn *websocket.Conn, dropped int, closed bool)
	// OnGap is called when a topic's live stream skipped publications the
	// broker's history could not supply (a broker outage, an epoch
	// change). The subscribers missed them.
	OnGap func(err *GapError)
	// OnError is called with errors that no caller receives: a broker
	// unsubscribe that failed when a connection left, a history fetch
	// that failed while filling a gap.
	OnError func(err error)
}

// Stats are counters of a Hub since New.
type Stats struct {
	Connections     int    // connections with a subscription or a queue now
	Topics          int    // topics with local subscribers now
	Delivered       uint64 // messages queued to connections
	Written         uint64 // messages written to connections
	SlowDisconnects uint64 // connections closed by DropConnection
	Dropped         uint64 // messages dropped by DropOldest
	Gaps            uint64 // gaps reported to Hooks.OnGap
	Refilled        uint64 // publications recovered from history to fill gaps
}

// withDefaults returns o with zero fields set to their defaults.
func (o Options) withDefaults() Options {
	if o.Broker == nil {
		o.Broker = NewMemoryBroker(0)
	}
	if o.QueueMessages <= 0 {
		o.QueueMessages = DefaultQueueMessages
	}
	if o.QueueBytes <= 0 {
		o.QueueBytes = DefaultQueueBytes
	}
	if o.SlowCloseCode == 0 {
		o.SlowCloseCode = websocket.ClosePolicyViolation
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.MaxRecover <= 0 {
		o.MaxRecover = DefaultMaxRecover
	}
	if o.Frame == nil {
		o.Frame = func(p Publication) []byte { return p.Data }
	}
	return o
}
