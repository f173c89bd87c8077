// Package redis is a hub.Broker over Redis: pub/sub carries publications
// between the hubs of many servers, a Stream per topic keeps its history
// with offsets, so that a client that reconnects to any server resumes
// where it was, and a hash per topic counts its subscribers across
// servers.
//
//	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
//	b, err := redis.New(rdb, redis.Options{HistorySize: 100})
//	h, err := hub.New(hub.Options{Broker: b})
//
// # Redis outages
//
// While Redis is unreachable, Publish fails (the caller knows the message
// was not sent), and the subscription connection is retried (every
// 100 ms to 1 s) until Redis answers again (a connection that stays
// silent, as in a network partition, counts as lost after 5 s without an
// answer to the pings the broker sends every second of quiet); the broker then subscribes to
// every topic again by itself. Options.OnError reports the loss of the
// connection, Options.OnResubscribed its return. Publications made by
// other servers meanwhile (Redis up, this server's connection down) are
// not lost when the topics keep history: the hub notices the jump in
// offsets at the topic's next publication and fetches them from the
// stream. When Redis itself lost its data (restarted without
// persistence), the topics start new epochs: the hubs report the gap
// (hub.Hooks.OnGap) and clients resuming from an old position get a
// *hub.GapError. Presence counts are written again within
// Options.PresenceTTL/3.
//
// # Concurrency
//
// A Broker is safe for concurrent use. It delivers to its hub from one
// goroutine, in the order Redis sent the messages.
package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/wsup/websocket/hub"
)

// Options configure a Broker. The zero value keeps no history.
type Options struct {
	// Prefix starts every Redis key and channel of the broker (default
	// "wsup:"): hubs share topics when they share it.
	Prefix string
	// HistorySize is how many publications each topic's stream keeps
	// (0: none; offsets and epochs are kept all the same).
	HistorySize int
	// HistoryTTL is how long a topic's history and offset live after its
	// last publication (0: 24 hours). After it, the topic starts a new
	// epoch.
	HistoryTTL time.Duration
	// NodeID names this server in presence counts (default: random).
	NodeID string
	// PresenceTTL is how long a server's presence counts outlive it when
	// it stops without Close (default 30 s).
	PresenceTTL time.Duration
	// OnError is called with errors no caller receives: a lost
	// subscription connection (once per outage), a presence update that
	// failed, a malformed message. It must not block.
	OnError func(error)
	// OnResubscribed is called when the subscription connection is back
	// after an outage, every topic subscribed again. It must not block.
	OnResubscribed func()
}

// Broker is a hub.Broker over Redis. Create one with New.
type Broker struct {
	rdb  *goredis.Client
	opts Options
	ps   *goredis.PubSub

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // the receive and presence loops

	mu       sync.Mutex // guards deliver, waiters, presence, dirty, closed
	deliver  func(hub.Publication)
	waiters  map[string][]chan struct{} // channels awaiting a subscribe confirmation
	presence map[string]int             // this node's counts
	dirty    map[string]struct{}        // counts to write
	closed   bool
	flush    chan struct{} // capacity 1: dirty is not empty
}

// New returns a broker over rdb, which the caller keeps and closes after
// the broker. It returns an error for a Prefix or NodeID with spaces or
// braces. New does not contact Redis: Start does.
func New(rdb *goredis.Client, opts Options) (*Broker, error) {
	if opts.Prefix == "" {
		opts.Prefix = "wsup:"
	}
	if opts.NodeID == "" {
		opts.NodeID = randomID()
	}
	if strings.ContainsAny(opts.Prefix, " {}") || strings.ContainsAny(opts.NodeID, " {}") {
		return nil, errors.New("hub/redis: Prefix and NodeID must not hold spaces or braces")
	}
	if opts.HistoryTTL <= 0 {
		opts.HistoryTTL = 24 * time.Hour
	}
	if opts.PresenceTTL <= 0 {
		opts.PresenceTTL = 30 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Broker{
		rdb: rdb, opts: opts, ctx: ctx, cancel: cancel,
		waiters: make(map[string][]chan struct{}), presence: make(map[string]int),
		dirty: make(map[string]struct{}), flush: make(chan struct{}, 1),
	}, nil
}

// randomID returns 16 random hex digits.
func randomID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return hex.EncodeToString(b[:])
}

func (b *Broker) metaKey(topic string) string   { return b.opts.Prefix + "{" + topic + "}:m" }
func (b *Broker) streamKey(topic string) string { return b.opts.Prefix + "{" + topic + "}:s" }
func (b *Broker) countKey(topic string) string  { return b.opts.Prefix + "{" + topic + "}:p" }
func (b *Broker) channel(topic string) string   { return b.opts.Prefix + "c:" + topic }
func (b *Broker) nodeKey(node string) string    { return b.opts.Prefix + "n:" + node }

// Start records deliver and starts the subscription and presence loops.
// It returns an error when called twice or after Close.
func (b *Broker) Start(deliver func(hub.Publication)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.deliver != nil || b.closed {
		return errors.New("hub/redis: Start called twice or after Close")
	}
	b.deliver = deliver
	b.ps = b.rdb.Subscribe(b.ctx) // no channel yet: connects on the first Subscribe
	b.wg.Add(2)
	go b.receiveLoop()
	go b.presenceLoop()
	return nil
}

func (b *Broker) report(err error) {
	if err != nil && b.opts.OnError != nil {
		b.opts.OnError(err)
	}
}

// Publish runs the publish script: the next offset, the stream entry and
// the pub/sub message, atomically. It returns the position, or Redis's
// error (the publication was then not sent, or its fate is unknown when
// the connection broke after sending it).
func (b *Broker) Publish(ctx context.Context, topic string, messageType int, data []byte) (hub.Position, error) {
	keys := []string{b.metaKey(topic), b.streamKey(topic)}
	ttl := int64(b.opts.HistoryTTL / time.Second)
	res, err := publishScript.Run(ctx, b.rdb, keys, data, messageType, b.opts.HistorySize, ttl, randomID(), b.channel(topic)).StringSlice()
	if err != nil {
		return hub.Position{}, fmt.Errorf("hub/redis: publish on %q: %w", topic, err)
	}
	if len(res) != 2 {
		return hub.Position{}, fmt.Errorf("hub/redis: publish on %q: script returned %d values", topic, len(res))
	}
	off, err := strconv.ParseUint(res[1], 10, 64)
	if err != nil {
		return hub.Position{}, fmt.Errorf("hub/redis: publish on %q: offset %q", topic, res[1])
	}
	return hub.Position{Epoch: res[0], Offset: off}, nil
}

// History reads the topic's stream after since (the whole stream when
// since is of another epoch), at most limit entries, and the topic's
// position, as hub.Broker says. It returns Redis's error, or one for a
// malformed entry.
func (b *Broker) History(ctx context.Context, topic string, since hub.Position, limit int) ([]hub.Publication, hub.Position, error) {
	keys := []string{b.metaKey(topic), b.streamKey(topic)}
	v, err := historyScript.Run(ctx, b.rdb, keys, since.Epoch, since.Offset, max(limit, 1)).Slice()
	if err != nil {
		return nil, hub.Position{}, fmt.Errorf("hub/redis: history of %q: %w", topic, err)
	}
	if len(v) != 3 {
		return nil, hub.Position{}, fmt.Errorf("hub/redis: history of %q: script returned %d values", topic, len(v))
	}
	epoch, _ := v[0].(string)
	offStr, _ := v[1].(string)
	off, err := strconv.ParseUint(offStr, 10, 64)
	if err != nil {
		return nil, hub.Position{}, fmt.Errorf("hub/redis: history of %q: offset %q", topic, offStr)
	}
	cur := hub.Position{Epoch: epoch, Offset: off}
	entries, _ := v[2].([]any)
	pubs := make([]hub.Publication, 0, len(entries))
	for _, e := range entries {
		p, err := parseEntry(topic, epoch, e)
		if err != nil {
			return nil, cur, err
		}
		pubs = append(pubs, p)
	}
	return pubs, cur, nil
}

// parseEntry reads one XRANGE entry: ["0-OFFSET", ["t", TYPE, "d", DATA]].
func parseEntry(topic, epoch string, e any) (hub.Publication, error) {
	bad := fmt.Errorf("hub/redis: history of %q: malformed entry %v", topic, e)
	pair, ok := e.([]any)
	if !ok || len(pair) != 2 {
		return hub.Publication{}, bad
	}
	id, _ := pair[0].(string)
	seq, ok := strings.CutPrefix(id, "0-")
	if !ok {
		return hub.Publication{}, bad
	}
	off, err := strconv.ParseUint(seq, 10, 64)
	if err != nil {
		return hub.Publication{}, bad
	}
	fields, _ := pair[1].([]any)
	p := hub.Publication{Topic: topic, Position: hub.Position{Epoch: epoch, Offset: off}}
	for i := 0; i+1 < len(fields); i += 2 {
		k, _ := fields[i].(string)
		val, _ := fields[i+1].(string)
		switch k {
		case "t":
			p.Type, err = strconv.Atoi(val)
			if err != nil {
				return hub.Publication{}, bad
			}
		case "d":
			p.Data = []byte(val)
		}
	}
	if p.Type == 0 {
		return hub.Publication{}, bad
	}
	return p, nil
}

// Close stops the loops, closes the subscription connection and removes
// this node's presence counts (within 2 seconds). It does not close the
// Redis client. It returns nil; later calls do nothing.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	topics := make([]string, 0, len(b.presence))
	for t := range b.presence {
		topics = append(topics, t)
	}
	ps := b.ps
	b.mu.Unlock()
	b.cancel()
	if ps != nil {
		_ = ps.Close()
	}
	b.wg.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	pipe := b.rdb.Pipeline()
	for _, t := range topics {
		pipe.HDel(ctx, b.countKey(t), b.opts.NodeID)
	}
	pipe.Del(ctx, b.nodeKey(b.opts.NodeID))
	_, _ = pipe.Exec(ctx) // best effort: the TTL ends them otherwise
	return nil
}
