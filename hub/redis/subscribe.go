package redis

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// The subscription connection.
//
// One go-redis PubSub carries every topic of the broker. receiveLoop alone
// reads it; Subscribe writes SUBSCRIBE and waits until the loop sees the
// confirmation, so that once Subscribe returns, every later publication
// of the topic reaches the hub. When a read fails, go-redis reconnects on
// the next read and subscribes to every channel again; the loop retries
// with a backoff and reports the outage once. A connection that stays
// silent (no message, no answer to the pings sent every receivePoll of
// quiet) for staleAfter counts as failed: that covers a network partition,
// where nothing closes the connection.

const (
	// receivePoll is how long a read waits before the loop pings Redis.
	receivePoll = time.Second
	// staleAfter is how long the loop waits for any answer (a message, a
	// pong) before it takes the connection for dead.
	staleAfter = 5 * receivePoll
	minBackoff = 100 * time.Millisecond
	maxBackoff = time.Second
)

// Subscribe subscribes the broker to topic's channel and waits for Redis
// to confirm it, until ctx is done. It returns Redis's error, ctx's, or
// hub.ErrClosed after Close.
func (b *Broker) Subscribe(ctx context.Context, topic string) error {
	ch := b.channel(topic)
	confirmed := make(chan struct{})
	b.mu.Lock()
	if b.closed || b.ps == nil {
		b.mu.Unlock()
		return fmt.Errorf("hub/redis: subscribe %q: %w", topic, errNotRunning)
	}
	b.waiters[ch] = append(b.waiters[ch], confirmed)
	b.mu.Unlock()
	defer b.dropWaiter(ch, confirmed)
	if err := b.ps.Subscribe(ctx, ch); err != nil {
		return fmt.Errorf("hub/redis: subscribe %q: %w", topic, err)
	}
	select {
	case <-confirmed:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("hub/redis: subscribe %q: %w", topic, ctx.Err())
	case <-b.ctx.Done():
		return fmt.Errorf("hub/redis: subscribe %q: %w", topic, errNotRunning)
	}
}

var errNotRunning = errors.New("broker not started, or closed")

// dropWaiter forgets confirmed.
func (b *Broker) dropWaiter(ch string, confirmed chan struct{}) {
	b.mu.Lock()
	defer b.mu.Unlock()
	ws := b.waiters[ch]
	for i, w := range ws {
		if w == confirmed {
			ws = append(ws[:i], ws[i+1:]...)
			break
		}
	}
	if len(ws) == 0 {
		delete(b.waiters, ch)
	} else {
		b.waiters[ch] = ws
	}
}

// Unsubscribe unsubscribes the broker from topic's channel. It returns
// Redis's error (go-redis forgets the channel all the same: it is not
// subscribed again on reconnection).
func (b *Broker) Unsubscribe(ctx context.Context, topic string) error {
	b.mu.Lock()
	ps := b.ps
	b.mu.Unlock()
	if ps == nil {
		return nil
	}
	if err := ps.Unsubscribe(ctx, b.channel(topic)); err != nil {
		return fmt.Errorf("hub/redis: unsubscribe %q: %w", topic, err)
	}
	return nil
}

// receiveLoop reads the subscription connection until Close.
func (b *Broker) receiveLoop() {
	defer b.wg.Done()
	down := false
	backoff := minBackoff
	lastHeard := time.Now()
	prefix := b.opts.Prefix + "c:"
	for b.ctx.Err() == nil {
		var msg any
		var err error
		stale := !down && time.Since(lastHeard) > staleAfter
		if stale {
			// Pings went unanswered: the connection is silent without
			// being closed (a network partition). A read that times out
			// without go-redis's allowance for timeouts makes it drop the
			// connection; the next read dials again.
			ctx, cancel := context.WithTimeout(b.ctx, 10*time.Millisecond)
			msg, err = b.ps.ReceiveTimeout(ctx, 0)
			cancel()
			if err != nil {
				err = fmt.Errorf("no answer to pings for %v: %w", staleAfter, err)
			}
		} else {
			msg, err = b.ps.ReceiveTimeout(b.ctx, receivePoll)
		}
		if err != nil {
			if b.ctx.Err() != nil {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !down && !stale {
				// Quiet: check that the connection is alive.
				_ = b.ps.Ping(b.ctx)
				continue
			}
			if !down {
				down = true
				b.report(fmt.Errorf("hub/redis: subscription connection lost: %w", err))
			}
			select {
			case <-b.ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, maxBackoff)
			continue
		}
		backoff = minBackoff
		lastHeard = time.Now()
		switch m := msg.(type) {
		case *goredis.Subscription:
			if m.Kind != "subscribe" {
				continue
			}
			b.confirm(m.Channel)
			if down {
				down = false
				b.rewritePresence()
				if b.opts.OnResubscribed != nil {
					b.opts.OnResubscribed()
				}
			}
		case *goredis.Message:
			topic, ok := strings.CutPrefix(m.Channel, prefix)
			if !ok {
				continue
			}
			p, err := decode(topic, []byte(m.Payload))
			if err != nil {
				b.report(err)
				continue
			}
			b.mu.Lock()
			deliver := b.deliver
			b.mu.Unlock()
			deliver(p)
		}
	}
}

// confirm wakes the Subscribe calls waiting for ch.
func (b *Broker) confirm(ch string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, w := range b.waiters[ch] {
		close(w)
	}
	delete(b.waiters, ch)
}
