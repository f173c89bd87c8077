package hub

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/wsup/websocket"
)

// Hub delivers publications on topics to the WebSocket connections
// subscribed to them, through a Broker that carries them between hubs.
// Create one with New. It is safe for concurrent use.
type Hub struct {
	opts   Options
	broker Broker

	mu      sync.Mutex // guards topics, clients, closed, and each client's topics and gone
	topics  map[string]*topic
	clients map[*websocket.Conn]*client
	closed  bool

	stats struct {
		delivered, written, slow, dropped, gaps, refilled atomic.Uint64
	}
}

// New returns a hub configured by opts, and starts its broker's delivery
// to it. It returns the error of Broker.Start.
func New(opts Options) (*Hub, error) {
	opts = opts.withDefaults()
	h := &Hub{opts: opts, broker: opts.Broker, topics: make(map[string]*topic), clients: make(map[*websocket.Conn]*client)}
	if err := h.broker.Start(h.deliver); err != nil {
		return nil, err
	}
	return h, nil
}

// Broker returns the hub's broker.
func (h *Hub) Broker() Broker { return h.broker }

// Publish sends data as one message of messageType (websocket.TextMessage
// or websocket.BinaryMessage) to every subscriber of topic, on every hub of
// the broker. It returns the position the broker assigned, or an error:
// ErrBadTopic, ErrBadMessage for another message type or a text message
// that is not UTF-8, ErrClosed after Close, or the broker's (then the publication was
// not sent). The publication is delivered to local subscribers before
// Publish returns with the in-process broker, asynchronously otherwise.
func (h *Hub) Publish(ctx context.Context, topic string, messageType int, data []byte) (Position, error) {
	if err := checkTopic(topic); err != nil {
		return Position{}, err
	}
	if err := checkMessage(messageType, data); err != nil {
		return Position{}, err
	}
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return Position{}, ErrClosed
	}
	return h.broker.Publish(ctx, topic, messageType, data)
}

// MaxTopicLen bounds the length of a topic name, in bytes.
const MaxTopicLen = 256

// ErrBadTopic is returned for a topic name that is empty, longer than
// MaxTopicLen, not UTF-8, or holds a control character.
var ErrBadTopic = errors.New("hub: bad topic name")

func checkTopic(topic string) error {
	if topic == "" || len(topic) > MaxTopicLen || !utf8.ValidString(topic) {
		return fmt.Errorf("%w: %.40q", ErrBadTopic, topic)
	}
	for _, r := range topic {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("%w: %.40q", ErrBadTopic, topic)
		}
	}
	return nil
}

// ErrBadMessage is returned for a message type other than text or binary,
// or a text message that is not valid UTF-8.
var ErrBadMessage = errors.New("hub: not a valid text or binary message")

func checkMessage(messageType int, data []byte) error {
	switch messageType {
	case websocket.TextMessage:
		if !utf8.Valid(data) {
			return fmt.Errorf("%w: text is not UTF-8", ErrBadMessage)
		}
	case websocket.BinaryMessage:
	default:
		return fmt.Errorf("%w: message type %d", ErrBadMessage, messageType)
	}
	return nil
}

// Send queues one message for conn alone, behind what the hub already
// queued for it, under the same slow-consumer policy: the way to answer a
// client in order with its publications (a resume result, an error). It
// returns ErrBadMessage as Publish does, and ErrClosed after Close or
// once conn left.
func (h *Hub) Send(conn *websocket.Conn, messageType int, data []byte) error {
	if err := checkMessage(messageType, data); err != nil {
		return err
	}
	pm, err := websocket.NewPreparedMessage(messageType, data)
	if err != nil {
		return err
	}
	c, err := h.client(conn)
	if err != nil {
		return err
	}
	c.enqueue(pm, len(data))
	return nil
}

// client returns conn's client, creating it and its writer.
func (h *Hub) client(conn *websocket.Conn) (*client, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, ErrClosed
	}
	c := h.clients[conn]
	if c == nil {
		c = newClient(h, conn)
		h.clients[conn] = c
	}
	return c, nil
}

// join checks topic and returns conn's client and the topic, acquired,
// with the broker's subscription to it made; the caller releases t.
func (h *Hub) join(ctx context.Context, conn *websocket.Conn, topic string) (*client, *topic, error) {
	if err := checkTopic(topic); err != nil {
		return nil, nil, err
	}
	c, err := h.client(conn)
	if err != nil {
		return nil, nil, err
	}
	t := h.acquire(topic)
	if err := h.ensureBrokerLocked(ctx, t); err != nil {
		h.release(t)
		return nil, nil, err
	}
	return c, t, nil
}

// Subscribe subscribes conn to topic: it receives the publications made
// from now on. Subscribing twice is not an error. It returns ErrBadTopic,
// the broker's error (the subscription is then not made) or ErrClosed.
func (h *Hub) Subscribe(ctx context.Context, conn *websocket.Conn, topic string) error {
	c, t, err := h.join(ctx, conn, topic)
	if err != nil {
		return err
	}
	defer h.release(t)
	t.mu.Lock()
	if _, ok := t.subs[c]; !ok {
		t.subs[c] = &sub{after: t.lastOffsetLocked()}
	}
	n := len(t.subs)
	t.mu.Unlock()
	h.attach(c, topic)
	h.broker.SetPresence(topic, n)
	return nil
}

// Resume subscribes conn to topic as Subscribe does, after queueing the
// publications after since that the broker's history keeps (at most
// Options.MaxRecover): conn receives every publication after since once,
// in order, without a hole between the replayed ones and the live ones.
// since is a Position the client received (see Options.Frame); the zero
// Position replays all the history kept.
//
// When some publications after since are lost (the history no longer
// holds them, more than MaxRecover are missing, or the topic started a
// new epoch) Resume still replays what is kept and subscribes, and returns
// a *GapError (errors.Is ErrGap). Other errors are ErrBadTopic, ErrClosed
// and the broker's, and then conn is not subscribed.
func (h *Hub) Resume(ctx context.Context, conn *websocket.Conn, topic string, since Position) error {
	c, t, err := h.join(ctx, conn, topic)
	if err != nil {
		return err
	}
	defer h.release(t)
	// t.mu is held across the history fetch: no live publication of the
	// topic is queued meanwhile, so the replay and the live stream meet.
	t.mu.Lock()
	pubs, cur, err := h.recover(ctx, topic, since)
	var gap *GapError
	if err != nil && !errors.As(err, &gap) {
		empty := len(t.subs) == 0
		t.mu.Unlock()
		if empty {
			// Do not keep a broker subscription nobody uses.
			t.brokerSubscribed = false
			h.reportErr(h.broker.Unsubscribe(ctx, topic))
		}
		return err
	}
	s := &sub{after: since.Offset}
	if since.Epoch != cur.Epoch {
		s.after = 0
	}
	if old, ok := t.subs[c]; ok {
		s = old
	}
	if len(t.subs) == 0 {
		// The first subscriber: the live stream goes on from cur. (With
		// others, it goes on from what they had.)
		t.advanceLocked(cur)
	}
	t.subs[c] = s
	for _, p := range pubs {
		if p.Position.Epoch == cur.Epoch && p.Position.Offset > s.after {
			s.after = p.Position.Offset
			c.enqueue(h.prepare(p))
		}
	}
	n := len(t.subs)
	t.mu.Unlock()
	h.attach(c, topic)
	h.broker.SetPresence(topic, n)
	return err
}

// recover fetches what Resume replays, and the gap if any.
func (h *Hub) recover(ctx context.Context, topic string, since Position) ([]Publication, Position, error) {
	limit := h.opts.MaxRecover
	pubs, cur, err := h.broker.History(ctx, topic, since, limit)
	if err != nil {
		return nil, cur, err
	}
	sameEpoch := since.Epoch == cur.Epoch
	from := since.Offset
	if !sameEpoch {
		from = 0
	}
	if len(pubs) == limit && pubs[len(pubs)-1].Position.Offset < cur.Offset {
		// More than MaxRecover are missing: replay the last ones.
		pubs, cur, err = h.broker.History(ctx, topic, Position{Epoch: cur.Epoch, Offset: cur.Offset - uint64(limit)}, limit)
		if err != nil {
			return nil, cur, err
		}
	}
	var oldest Position
	first := cur.Offset + 1 // offset of the first replayed publication
	if len(pubs) > 0 {
		oldest, first = pubs[0].Position, pubs[0].Position.Offset
	}
	lost := !since.IsZero() && (!sameEpoch || first > from+1 && cur.Offset > from)
	if lost {
		return pubs, cur, &GapError{Topic: topic, Since: since, Oldest: oldest, Current: cur}
	}
	return pubs, cur, nil
}

// Unsubscribe ends conn's subscription to topic; queued publications are
// still sent. It returns ErrClosed after Close; unsubscribing a topic
// conn is not subscribed to does nothing.
func (h *Hub) Unsubscribe(ctx context.Context, conn *websocket.Conn, topic string) error {
	h.mu.Lock()
	c := h.clients[conn]
	closed := h.closed
	h.mu.Unlock()
	if closed {
		return ErrClosed
	}
	if c == nil {
		return nil
	}
	return h.unsubscribe(ctx, c, topic)
}

func (h *Hub) unsubscribe(ctx context.Context, c *client, topic string) error {
	h.mu.Lock()
	_, ok := c.topics[topic]
	delete(c.topics, topic)
	h.mu.Unlock()
	if !ok {
		return nil
	}
	return h.unsubscribeTopic(ctx, c, topic)
}

// unsubscribeTopic removes c from topic's subscribers, and the hub from
// the broker's when c was the last.
func (h *Hub) unsubscribeTopic(ctx context.Context, c *client, topic string) error {
	t := h.acquire(topic)
	defer h.release(t)
	t.mu.Lock()
	delete(t.subs, c)
	n := len(t.subs)
	t.mu.Unlock()
	h.broker.SetPresence(topic, n)
	if n == 0 && t.brokerSubscribed {
		t.brokerSubscribed = false
		return h.broker.Unsubscribe(ctx, topic)
	}
	return nil
}

// attach records topic in c's topics; when c left meanwhile, it undoes
// the subscription.
func (h *Hub) attach(c *client, topic string) {
	h.mu.Lock()
	gone := c.gone
	if !gone {
		c.topics[topic] = struct{}{}
	}
	h.mu.Unlock()
	if gone {
		ctx, cancel := context.WithTimeout(context.Background(), h.opts.WriteTimeout)
		defer cancel()
		h.reportErr(h.unsubscribeTopic(ctx, c, topic))
	}
}

// Leave forgets conn: it unsubscribes it from every topic and ends its
// writer, discarding what is still queued. It does not close conn. Call it
// when the connection's read loop ends; it may wait for the broker (an
// unsubscribe over the network), within WriteTimeout.
// The hub calls it itself when a write fails, a slow consumer is dropped,
// or conn was closed (Conn.Done), so a connection the application forgot
// to Leave is forgotten once it is closed. Leaving twice, or a conn the
// hub does not know, does nothing.
func (h *Hub) Leave(conn *websocket.Conn) {
	h.mu.Lock()
	c := h.clients[conn]
	h.mu.Unlock()
	if c != nil {
		c.stop()
		h.remove(c)
	}
}

// remove unsubscribes c from all its topics and forgets it.
func (h *Hub) remove(c *client) {
	h.mu.Lock()
	if c.gone {
		h.mu.Unlock()
		return
	}
	c.gone = true
	delete(h.clients, c.conn)
	topics := make([]string, 0, len(c.topics))
	for t := range c.topics {
		topics = append(topics, t)
	}
	clear(c.topics)
	h.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), h.opts.WriteTimeout)
	defer cancel()
	for _, t := range topics {
		h.reportErr(h.unsubscribeTopic(ctx, c, t))
	}
}

func (h *Hub) reportErr(err error) {
	if err != nil && h.opts.Hooks.OnError != nil {
		h.opts.Hooks.OnError(err)
	}
}

// Presence returns the number of subscribers of topic on every hub of the
// broker (with hub/redis, as last recorded by each hub), or the broker's
// error.
func (h *Hub) Presence(ctx context.Context, topic string) (int, error) {
	return h.broker.Presence(ctx, topic)
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	s := Stats{Connections: len(h.clients), Topics: len(h.topics)}
	h.mu.Unlock()
	s.Delivered = h.stats.delivered.Load()
	s.Written = h.stats.written.Load()
	s.SlowDisconnects = h.stats.slow.Load()
	s.Dropped = h.stats.dropped.Load()
	s.Gaps = h.stats.gaps.Load()
	s.Refilled = h.stats.refilled.Load()
	return s
}

// Close closes every connection the hub knows with close 1001 (going
// away), after what is queued for it, and waits (within WriteTimeout per
// write) until those close frames are written; each connection is closed
// once its peer answers, within 5 seconds (as websocket.Conn.Close). Later calls to the hub return
// ErrClosed. It does not close the broker: close it after the hub. It
// returns nil; closing twice does nothing.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil
	}
	h.closed = true
	clients := make([]*client, 0, len(h.clients))
	for _, c := range h.clients {
		clients = append(clients, c)
	}
	h.mu.Unlock()
	for _, c := range clients {
		c.closeAfterQueue(websocket.CloseGoingAway, "server closing")
	}
	for _, c := range clients {
		<-c.flushed
	}
	return nil
}
