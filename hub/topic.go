package hub

import (
	"context"
	"sync"
	"time"

	"github.com/wsup/websocket"
)

// Delivery of a topic's publications.
//
// A topic's publications are queued to its subscribers under topic.mu, one
// publication at a time, in the order the broker delivers them (offset
// order): every subscriber's queue holds them in publish order. Each
// subscriber has the offset up to which it has the topic's publications
// (sub.after), so that a replay (Resume, a gap filled) and the live stream
// never give it one twice. The hub tracks the highest position delivered
// (last); a publication whose offset skips ahead reveals a gap (the broker's subscription was down), which
// the hub fills from the broker's history before delivering it, or
// reports to Hooks.OnGap.

// topic is a topic with local subscribers.
type topic struct {
	name string

	// ctl serializes subscribing and unsubscribing (the broker calls
	// included); it is taken before mu.
	ctl              sync.Mutex
	brokerSubscribed bool // guarded by ctl

	mu   sync.Mutex       // guards subs, last; held while queueing a publication
	subs map[*client]*sub // local subscribers
	last Position         // the last position delivered

	refs int // guarded by Hub.mu: goroutines holding the topic through acquire
}

// sub is one subscriber's state on a topic.
type sub struct {
	after uint64 // offset (in the topic's current epoch) up to which it has its publications
}

// acquire returns topic name (created when missing) with its ctl held.
func (h *Hub) acquire(name string) *topic {
	h.mu.Lock()
	t := h.topics[name]
	if t == nil {
		t = &topic{name: name, subs: make(map[*client]*sub)}
		h.topics[name] = t
	}
	t.refs++
	h.mu.Unlock()
	t.ctl.Lock()
	return t
}

// release unlocks t.ctl and forgets t when nobody uses it any more.
func (h *Hub) release(t *topic) {
	t.ctl.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	t.refs--
	if t.refs == 0 && !t.brokerSubscribed {
		t.mu.Lock()
		empty := len(t.subs) == 0
		t.mu.Unlock()
		if empty {
			delete(h.topics, t.name)
		}
	}
}

// ensureBrokerLocked subscribes the hub to t on the broker; t.ctl is held.
func (h *Hub) ensureBrokerLocked(ctx context.Context, t *topic) error {
	if t.brokerSubscribed {
		return nil
	}
	if err := h.broker.Subscribe(ctx, t.name); err != nil {
		return err
	}
	t.brokerSubscribed = true
	return nil
}

// lastOffsetLocked is the offset a new subscriber starts after.
func (t *topic) lastOffsetLocked() uint64 { return t.last.Offset }

// advanceLocked moves last to p when p is ahead of it (or of a new
// epoch, whose offsets restart: subscribers' offsets are reset).
func (t *topic) advanceLocked(p Position) {
	if p.Epoch != t.last.Epoch {
		for _, s := range t.subs {
			s.after = 0
		}
		t.last = p
		return
	}
	if p.Offset > t.last.Offset {
		t.last = p
	}
}

// prepare returns the message for p and its size.
func (h *Hub) prepare(p Publication) (*websocket.PreparedMessage, int) {
	data := h.opts.Frame(p)
	pm, err := websocket.NewPreparedMessage(p.Type, data)
	if err != nil {
		// Publish checked the type; a broker handing another is broken.
		h.reportErr(err)
		return nil, 0
	}
	return pm, len(data)
}

// deliver is the broker's delivery function: it queues p to the topic's
// local subscribers, after filling a gap before it when there is one.
func (h *Hub) deliver(p Publication) {
	h.mu.Lock()
	t := h.topics[p.Topic]
	h.mu.Unlock()
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	last := t.last
	switch {
	case last.Epoch == "":
	case p.Position.Epoch != last.Epoch:
		h.gap(&GapError{Topic: p.Topic, Since: last, Current: p.Position})
	case p.Position.Offset > last.Offset+1:
		h.fillLocked(t, p)
	}
	t.advanceLocked(p.Position)
	h.queueLocked(t, p)
}

// queueLocked queues p to every subscriber of t that does not have it.
func (h *Hub) queueLocked(t *topic, p Publication) {
	if len(t.subs) == 0 {
		return
	}
	pm, size := h.prepare(p)
	if pm == nil {
		return
	}
	for c, s := range t.subs {
		if p.Position.Offset > s.after {
			s.after = p.Position.Offset
			c.enqueue(pm, size)
		}
	}
}

// gapFillTimeout bounds the history fetch that fills a gap.
const gapFillTimeout = 5 * time.Second

// fillLocked queues, from the broker's history, the publications between
// t.last and p; when the history starts after t.last, it reports the
// publications lost and queues those kept.
func (h *Hub) fillLocked(t *topic, p Publication) {
	ctx, cancel := context.WithTimeout(context.Background(), gapFillTimeout)
	defer cancel()
	want := p.Position.Offset - t.last.Offset - 1
	limit := int(min(want, uint64(h.opts.MaxRecover)))
	pubs, _, err := h.broker.History(ctx, p.Topic, t.last, limit)
	if err != nil {
		h.reportErr(err)
	}
	for _, q := range pubs {
		if q.Position.Epoch != t.last.Epoch || q.Position.Offset <= t.last.Offset || q.Position.Offset >= p.Position.Offset {
			continue
		}
		if q.Position.Offset > t.last.Offset+1 {
			h.gap(&GapError{Topic: p.Topic, Since: t.last, Oldest: q.Position, Current: p.Position})
		}
		t.advanceLocked(q.Position)
		h.queueLocked(t, q)
		h.stats.refilled.Add(1)
	}
	if t.last.Offset+1 < p.Position.Offset {
		h.gap(&GapError{Topic: p.Topic, Since: t.last, Current: p.Position})
	}
}

func (h *Hub) gap(err *GapError) {
	h.stats.gaps.Add(1)
	if h.opts.Hooks.OnGap != nil {
		h.opts.Hooks.OnGap(err)
	}
}
