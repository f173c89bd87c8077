package hub_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket"
	"github.com/wsup/websocket/hub"
)

// offsets returns the offsets of messages framed by frameOffset.
func offsets(t *testing.T, msgs []string) []int {
	t.Helper()
	var out []int
	for _, m := range msgs {
		if m == "gap" {
			out = append(out, -1)
			continue
		}
		var topic string
		var off int
		var data string
		_, err := fmtSscan(m, &topic, &off, &data)
		require.NoError(t, err, "message %q", m)
		out = append(out, off)
	}
	return out
}

func seq(from, to int) []int {
	var out []int
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

// TestResume reconnects clients from various positions to a topic whose
// broker keeps the last 10 publications of 20, and checks what each
// receives before its "ready", and that the live stream follows on.
func TestResume(t *testing.T) {
	s := newServer(t, hub.Options{Broker: hub.NewMemoryBroker(10)})
	var last hub.Position
	for i := 1; i <= 20; i++ {
		last = publish(t, s.h, "t", strconv.Itoa(i))
	}
	epoch := last.Epoch
	cases := []struct {
		name    string
		since   string
		want    []int // offsets before "ready"; -1 is the "gap" notice
		wantGap bool
	}{
		{"up to date", hub.Position{Epoch: epoch, Offset: 20}.String(), nil, false},
		{"missed 3", hub.Position{Epoch: epoch, Offset: 17}.String(), seq(18, 20), false},
		{"missed exactly what is kept", hub.Position{Epoch: epoch, Offset: 10}.String(), seq(11, 20), false},
		{"missed more than is kept", hub.Position{Epoch: epoch, Offset: 5}.String(), append(seq(11, 20), -1), true},
		{"nothing seen", "", seq(11, 20), false},
		{"another epoch", "old:15", append(seq(11, 20), -1), true},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, before := s.dial(t, "topic=t&since="+tc.since)
			assert.Equal(t, tc.want, offsets(t, before))
			s.mu.Lock()
			err := s.resumeEr[i]
			s.mu.Unlock()
			if tc.wantGap {
				var gap *hub.GapError
				require.ErrorAs(t, err, &gap)
				assert.Equal(t, "t", gap.Topic)
				assert.Equal(t, uint64(20), gap.Current.Offset)
				assert.ErrorIs(t, err, hub.ErrGap)
			} else {
				assert.NoError(t, err)
			}
			require.NoError(t, c.Close())
		})
	}
}

// TestResumeWhilePublishing resumes a client while publications go on: it
// gets each once, in order, from its position on.
func TestResumeWhilePublishing(t *testing.T) {
	s := newServer(t, hub.Options{Broker: hub.NewMemoryBroker(1000)})
	var last hub.Position
	for i := 1; i <= 20; i++ {
		last = publish(t, s.h, "t", strconv.Itoa(i))
	}
	epoch := last.Epoch
	var wg sync.WaitGroup
	wg.Add(1)
	var stop atomic.Bool
	go func() {
		defer wg.Done()
		for i := 21; i <= 200 && !stop.Load(); i++ {
			publish(t, s.h, "t", strconv.Itoa(i))
		}
	}()
	c, before := s.dial(t, "topic=t&since="+hub.Position{Epoch: epoch, Offset: 18}.String())
	got := offsets(t, before)
	for len(got) == 0 || got[len(got)-1] < 200 {
		got = append(got, offsets(t, []string{read(t, c)})...)
	}
	wg.Wait()
	assert.Equal(t, seq(19, 200), got)
}

// lossyBroker is a MemoryBroker whose deliveries of a topic can be cut,
// as a broker connection that is down: publications still go to the
// history.
type lossyBroker struct {
	*hub.MemoryBroker
	cut atomic.Bool
}

func (b *lossyBroker) Start(deliver func(hub.Publication)) error {
	return b.MemoryBroker.Start(func(p hub.Publication) {
		if !b.cut.Load() {
			deliver(p)
		}
	})
}

// TestGapFilled cuts the live stream for a while: the hub fills the hole
// from the history when the stream comes back, and reports to OnGap what
// the history no longer holds.
func TestGapFilled(t *testing.T) {
	cases := []struct {
		name     string
		history  int
		missed   int
		wantGaps uint64
		want     []int // offsets received after the first one
	}{
		{"filled", 10, 5, 0, seq(2, 8)},
		{"history too short", 3, 5, 1, seq(5, 8)}, // 5, 6, 7 kept when 7 comes
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := &lossyBroker{MemoryBroker: hub.NewMemoryBroker(tc.history)}
			var gaps []*hub.GapError
			var mu sync.Mutex
			s := newServer(t, hub.Options{Broker: b, Hooks: hub.Hooks{OnGap: func(err *hub.GapError) {
				mu.Lock()
				gaps = append(gaps, err)
				mu.Unlock()
			}}})
			c, _ := s.dial(t, "topic=t")
			publish(t, s.h, "t", "1")
			assert.Equal(t, []int{1}, offsets(t, []string{read(t, c)}))
			b.cut.Store(true)
			for i := 2; i < 2+tc.missed; i++ {
				publish(t, s.h, "t", strconv.Itoa(i))
			}
			b.cut.Store(false)
			publish(t, s.h, "t", "7")
			publish(t, s.h, "t", "8")
			var got []int
			for len(got) == 0 || got[len(got)-1] < 8 {
				got = append(got, offsets(t, []string{read(t, c)})...)
			}
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.wantGaps, s.h.Stats().Gaps)
			mu.Lock()
			defer mu.Unlock()
			require.Len(t, gaps, int(tc.wantGaps))
			if tc.wantGaps > 0 {
				assert.Equal(t, uint64(1), gaps[0].Since.Offset)
				assert.Equal(t, uint64(7), gaps[0].Current.Offset)
				assert.Equal(t, uint64(5), gaps[0].Oldest.Offset)
			}
		})
	}
}

// brokenHistory is a MemoryBroker whose History fails.
type brokenHistory struct{ *hub.MemoryBroker }

var errHistory = errors.New("history unavailable")

func (brokenHistory) History(context.Context, string, hub.Position, int) ([]hub.Publication, hub.Position, error) {
	return nil, hub.Position{}, errHistory
}

// TestResumeBrokerError checks that a Resume whose history fetch fails
// returns the error, leaves conn unsubscribed and keeps no topic.
func TestResumeBrokerError(t *testing.T) {
	s := newServer(t, hub.Options{Broker: brokenHistory{hub.NewMemoryBroker(10)}})
	s.dial(t, "topic=other") // another topic stays
	s.mu.Lock()
	s.resumeEr = nil
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, "ws"+strings.TrimPrefix(s.URL, "http")+"/?topic=t&since=", nil)
	require.NoError(t, err)
	defer conn.Close()
	_, _, err = conn.ReadMessage() // the handler gives up: the connection ends
	require.Error(t, err)
	s.mu.Lock()
	require.Len(t, s.resumeEr, 1)
	assert.ErrorIs(t, s.resumeEr[0], errHistory)
	s.mu.Unlock()
	require.Eventually(t, func() bool { return s.h.Stats().Topics == 1 }, 5*time.Second, time.Millisecond, "topics: %d", s.h.Stats().Topics)
}
