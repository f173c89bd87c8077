package hub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
)

// ErrClosed is returned by the methods of a closed Hub or Broker.
var ErrClosed = errors.New("hub: closed")

// MemoryBroker is the in-process Broker, the default of a Hub: it delivers
// what the hub publishes to the same hub, and keeps the last publications
// of each topic in memory. Its epoch is random, new for each MemoryBroker:
// positions from before a restart of the process are reported as gaps.
// It is safe for concurrent use.
type MemoryBroker struct {
	historySize int
	epoch       string

	mu      sync.Mutex // guards deliver, topics, closed
	deliver func(Publication)
	topics  map[string]*memTopic
	closed  bool
}

// memTopic is a topic of a MemoryBroker.
type memTopic struct {
	// pub serializes publications of the topic, their offsets and their
	// delivery; it is taken before MemoryBroker.mu, never after.
	pub sync.Mutex

	// Guarded by MemoryBroker.mu:
	offset     uint64        // last offset assigned
	ring       []Publication // the last historySize publications, oldest at head
	head       int
	subscribed bool
	presence   int
}

// NewMemoryBroker returns an in-process broker that keeps the last
// historySize publications of each topic (none when historySize <= 0).
// A topic's history lives as long as the broker: publishing on many
// short-lived topics with history grows memory.
func NewMemoryBroker(historySize int) *MemoryBroker {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return &MemoryBroker{historySize: max(historySize, 0), epoch: hex.EncodeToString(b[:]), topics: make(map[string]*memTopic)}
}

// Start records deliver. It returns an error when called twice.
func (b *MemoryBroker) Start(deliver func(Publication)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.deliver != nil {
		return errors.New("hub: MemoryBroker started twice")
	}
	b.deliver = deliver
	return nil
}

// topicLocked returns the topic named name, creating it.
func (b *MemoryBroker) topicLocked(name string) *memTopic {
	t := b.topics[name]
	if t == nil {
		t = &memTopic{}
		b.topics[name] = t
	}
	return t
}

// Publish assigns the next offset, keeps the publication in the topic's
// history and delivers it to the hub when the hub subscribed to topic,
// before returning. It returns ErrClosed after Close.
func (b *MemoryBroker) Publish(ctx context.Context, topic string, messageType int, data []byte) (Position, error) {
	if err := ctx.Err(); err != nil {
		return Position{}, err
	}
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return Position{}, ErrClosed
	}
	t := b.topicLocked(topic)
	b.mu.Unlock()

	t.pub.Lock()
	defer t.pub.Unlock()
	b.mu.Lock()
	t.offset++
	p := Publication{Topic: topic, Position: Position{Epoch: b.epoch, Offset: t.offset}, Type: messageType, Data: append([]byte(nil), data...)}
	if b.historySize > 0 {
		if len(t.ring) < b.historySize {
			t.ring = append(t.ring, p)
		} else {
			t.ring[t.head] = p
			t.head = (t.head + 1) % len(t.ring)
		}
	}
	deliver, subscribed := b.deliver, t.subscribed && !b.closed
	b.mu.Unlock()
	if subscribed && deliver != nil {
		deliver(p)
	}
	return p.Position, nil
}

// Subscribe starts delivering topic's publications. It returns ErrClosed
// after Close.
func (b *MemoryBroker) Subscribe(_ context.Context, topic string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	b.topicLocked(topic).subscribed = true
	return nil
}

// Unsubscribe stops delivering topic's publications. A topic without
// history nor subscription is forgotten.
func (b *MemoryBroker) Unsubscribe(_ context.Context, topic string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t := b.topics[topic]; t != nil {
		t.subscribed = false
		if len(t.ring) == 0 && t.presence == 0 && t.offset == 0 {
			delete(b.topics, topic)
		}
	}
	return nil
}

// History returns the oldest kept publications after since, at most
// limit, and the topic's position, as Broker.History says.
func (b *MemoryBroker) History(ctx context.Context, topic string, since Position, limit int) ([]Publication, Position, error) {
	if err := ctx.Err(); err != nil {
		return nil, Position{}, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.topics[topic]
	if t == nil {
		return nil, Position{Epoch: b.epoch}, nil
	}
	cur := Position{Epoch: b.epoch, Offset: t.offset}
	after := since.Offset
	if since.Epoch != b.epoch {
		after = 0
	}
	var out []Publication
	for i := range t.ring {
		p := t.ring[(t.head+i)%len(t.ring)]
		if p.Position.Offset > after && len(out) < limit {
			out = append(out, p)
		}
	}
	return out, cur, nil
}

// SetPresence records the hub's number of subscribers on topic.
func (b *MemoryBroker) SetPresence(topic string, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t := b.topics[topic]; t != nil || n > 0 {
		b.topicLocked(topic).presence = n
	}
}

// Presence returns the number recorded by SetPresence.
func (b *MemoryBroker) Presence(_ context.Context, topic string) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t := b.topics[topic]; t != nil {
		return t.presence, nil
	}
	return 0, nil
}

// Close stops deliveries; later calls to Publish and Subscribe return
// ErrClosed. It returns nil.
func (b *MemoryBroker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	return nil
}
