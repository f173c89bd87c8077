package redis

import (
	"context"
	"fmt"
	"strconv"
	"time"
)

// Presence.
//
// Each node writes its own subscriber count of each topic in the topic's
// count hash (field: its node ID) and keeps a liveness key with a TTL;
// Presence sums the counts of the nodes whose key is alive, so that a
// node that died without Close stops counting after PresenceTTL.

// SetPresence records this node's count for topic and wakes the presence
// loop, which writes it to Redis. It does not block.
func (b *Broker) SetPresence(topic string, n int) {
	b.mu.Lock()
	if n > 0 {
		b.presence[topic] = n
	} else {
		delete(b.presence, topic)
	}
	b.dirty[topic] = struct{}{}
	b.mu.Unlock()
	select {
	case b.flush <- struct{}{}:
	default:
	}
}

// Presence returns the sum of the counts of topic of every live node, or
// Redis's error.
func (b *Broker) Presence(ctx context.Context, topic string) (int, error) {
	counts, err := b.rdb.HGetAll(ctx, b.countKey(topic)).Result()
	if err != nil {
		return 0, fmt.Errorf("hub/redis: presence of %q: %w", topic, err)
	}
	if len(counts) == 0 {
		return 0, nil
	}
	nodes := make([]string, 0, len(counts))
	for node := range counts {
		nodes = append(nodes, node)
	}
	pipe := b.rdb.Pipeline()
	alive := make([]interface{ Val() int64 }, len(nodes))
	for i, node := range nodes {
		alive[i] = pipe.Exists(ctx, b.nodeKey(node))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return 0, fmt.Errorf("hub/redis: presence of %q: %w", topic, err)
	}
	total := 0
	for i, node := range nodes {
		if alive[i].Val() == 1 {
			n, _ := strconv.Atoi(counts[node])
			total += max(n, 0)
		}
	}
	return total, nil
}

// pingTimeout bounds the presence loop's writes.
const pingTimeout = 2 * time.Second

// presenceLoop writes the dirty counts, and all of them with the node's
// liveness key every PresenceTTL/3, until Close.
func (b *Broker) presenceLoop() {
	defer b.wg.Done()
	tick := time.NewTicker(b.opts.PresenceTTL / 3)
	defer tick.Stop()
	b.writePresence(true)
	for {
		select {
		case <-b.ctx.Done():
			return
		case <-b.flush:
			b.writePresence(false)
		case <-tick.C:
			b.writePresence(true)
		}
	}
}

// rewritePresence marks every count dirty (after Redis came back).
func (b *Broker) rewritePresence() {
	b.mu.Lock()
	for t := range b.presence {
		b.dirty[t] = struct{}{}
	}
	b.mu.Unlock()
	select {
	case b.flush <- struct{}{}:
	default:
	}
}

// writePresence writes the dirty counts (all when all is true) and
// refreshes the liveness key. A failure is reported and the counts stay
// dirty.
func (b *Broker) writePresence(all bool) {
	b.mu.Lock()
	write := make(map[string]int, len(b.dirty))
	for t := range b.dirty {
		write[t] = b.presence[t]
	}
	if all {
		for t, n := range b.presence {
			write[t] = n
		}
	}
	clear(b.dirty)
	b.mu.Unlock()

	ctx, cancel := context.WithTimeout(b.ctx, pingTimeout)
	defer cancel()
	pipe := b.rdb.Pipeline()
	pipe.Set(ctx, b.nodeKey(b.opts.NodeID), 1, b.opts.PresenceTTL)
	for t, n := range write {
		if n > 0 {
			pipe.HSet(ctx, b.countKey(t), b.opts.NodeID, n)
			pipe.Expire(ctx, b.countKey(t), b.opts.HistoryTTL)
		} else {
			pipe.HDel(ctx, b.countKey(t), b.opts.NodeID)
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		if b.ctx.Err() != nil {
			return
		}
		b.mu.Lock()
		for t := range write {
			b.dirty[t] = struct{}{}
		}
		b.mu.Unlock()
		b.report(fmt.Errorf("hub/redis: presence: %w", err))
	}
}
