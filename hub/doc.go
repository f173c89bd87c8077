// Package hub broadcasts messages on topics to WebSocket connections:
// per-connection bounded send queues with a slow-consumer policy,
// per-topic ordering, presence, and history with offsets so that a client
// that reconnects gets what it missed. A Broker carries publications
// between hubs; the default is in-process, and github.com/wsup/websocket/hub/redis
// spreads a topic over many servers through Redis.
//
//	h, _ := hub.New(hub.Options{Broker: hub.NewMemoryBroker(100)})
//	handler := upgrader.Handler(func(c *websocket.Conn) {
//		defer h.Leave(c)
//		_ = h.Subscribe(ctx, c, "news")
//		for {
//			if _, _, err := c.ReadMessage(); err != nil {
//				return
//			}
//		}
//	})
//	// elsewhere:
//	h.Publish(ctx, "news", websocket.TextMessage, []byte("hello"))
//
// # Queues and slow consumers
//
// Each connection the hub knows has a queue and a writer goroutine of its
// own: Publish queues a message to every subscriber and never waits for
// one of them to read. The queue is bounded by Options.QueueMessages and
// Options.QueueBytes. When it is full, Options.Policy applies:
// DropConnection (the default) closes the connection with 1008 (or
// Options.SlowCloseCode, such as 1013): the client knows it missed
// messages and reconnects, resuming from its last position; DropOldest
// keeps it connected and discards the oldest queued messages. Both are
// counted in Stats and reported to Hooks.OnSlowConsumer. A write that
// takes longer than Options.WriteTimeout ends the connection.
//
// Each publication is framed once per hub (Options.Frame) and encoded
// once per compression setting (websocket.PreparedMessage), whatever the
// number of subscribers.
//
// # Ordering
//
// The publications of one topic reach each of its subscribers in publish
// order, which is offset order: the broker assigns offsets and delivers a
// topic's publications one at a time, in that order, and the hub queues
// each to every subscriber before the next. Resume and gap filling keep
// it: within an epoch, a subscriber never gets a publication twice, nor one
// out of order (DropOldest may leave holes; they are never reordered).
//
// Across topics, nothing is promised. In practice, with the in-process
// broker, two publications made one after the other (the second Publish
// called after the first returned) reach a subscriber of both topics in
// that order; with hub/redis too (one Redis connection carries all topics
// to a hub), except when one of them comes from a replay (Resume, or a gap
// filled after a broker outage), which jumps ahead of live publications of
// other topics.
//
// Messages queued with Send keep their order with the publications queued
// for the same connection.
//
// # History and recovery
//
// Each publication has a Position: an offset that counts the topic's
// publications from 1, and the epoch of the topic's stream. A broker with
// history keeps the last publications of each topic (NewMemoryBroker's
// historySize; hub/redis's Options.HistorySize). Frame the position into
// the messages (Options.Frame) for clients to remember; a client that
// reconnects sends it back (Position.String and ParsePosition make it a
// token) and the server calls Resume: the client gets the publications
// after its position and then the live ones, each once, in order. When
// some are no longer kept, or the epoch changed (the broker lost its
// history), Resume replays what is kept and returns a *GapError: tell the
// client, which then reloads its state another way.
//
// A hub watches the offsets of the live stream too: when a publication
// skips ahead (the broker's connection was down), it fetches the missing
// ones from the history and delivers them first; what it cannot find it
// reports to Hooks.OnGap.
//
// # Presence
//
// Presence returns a topic's number of subscribers: the hub's own with
// the in-process broker, the sum over every hub with hub/redis.
//
// # Concurrency
//
// Every method of Hub and MemoryBroker is safe for concurrent use. The
// hub writes data messages to a connection from its writer goroutine only
// while the connection is subscribed or has queued messages; the
// application may still write to it (websocket.Conn's writes are safe
// for concurrent use), but only messages sent through Send keep their
// order with the publications. Hooks run on the goroutine where their
// event happens, often the broker's delivery goroutine: they must be
// quick and must not call the hub.
package hub
