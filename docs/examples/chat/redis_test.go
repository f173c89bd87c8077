package main

import (
	"context"
	"net"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket"
	redisbroker "github.com/wsup/websocket/hub/redis"
)

// startRedis starts a redis-server on a free loopback port, without
// persistence, in a temporary directory, waits (up to 10 s) until it
// answers, and kills it at the end of the test. It returns its address.
func startRedis(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed: install Debian's redis-server (scripts/test.sh does)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	dir := t.TempDir()
	cmd := exec.Command("redis-server", "--port", strconv.Itoa(ln.Addr().(*net.TCPAddr).Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("redis-server (pid %d) did not exit", cmd.Process.Pid)
		}
	})
	rdb := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1})
	defer rdb.Close()
	require.Eventually(t, func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return rdb.Ping(ctx).Err() == nil
	}, 10*time.Second, 20*time.Millisecond, "redis-server does not answer")
	return addr
}

// startInstance runs a chat server sharing the room through the Redis at
// addr, as main does with -redis, and returns its base URL.
func startInstance(t *testing.T, addr string) string {
	t.Helper()
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	b, err := redisbroker.New(rdb, redisbroker.Options{HistorySize: historySize})
	require.NoError(t, err)
	h, err := newHubWith(b, writeWait)
	require.NoError(t, err)
	srv := httptest.NewServer(newMux(h))
	t.Cleanup(func() {
		srv.Close()
		_ = h.h.Close()
		_ = b.Close()
		_ = rdb.Close()
	})
	return srv.URL
}

// resume connects a page that had last seen the message id, as the page's
// script does after a reload (id "") or a reconnection.
func resume(t *testing.T, base, id string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.DefaultDialer.DialContext(ctx, wsURL(base)+"?since="+url.QueryEscape(id), nil)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	return conn
}

// TestTwoInstances runs two chat servers over one Redis, as two
// `chat -redis ADDR` processes would: tabs on either see each other's
// messages, in one order, a tab that reloads on the other server gets the
// history, and a tab that reconnects gets what it missed.
func TestTwoInstances(t *testing.T) {
	addr := startRedis(t)
	a, b := startInstance(t, addr), startInstance(t, addr)

	alice := resume(t, a, "")
	bob := resume(t, b, "")
	// Each joins; the first message each receives is its own "joined",
	// or the other's: read until both saw both.
	send(t, alice, "alice", "joined")
	assert.Equal(t, "alice", receive(t, alice).Name)
	assert.Equal(t, "alice", receive(t, bob).Name)
	send(t, bob, "bob", "joined")
	assert.Equal(t, "bob", receive(t, alice).Name)
	assert.Equal(t, "bob", receive(t, bob).Name)

	lines := []struct{ from, text string }{{"alice", "hi bob"}, {"bob", "hi alice"}, {"alice", "how is server b?"}}
	var lastSeen string
	for _, l := range lines {
		if l.from == "alice" {
			send(t, alice, l.from, l.text)
		} else {
			send(t, bob, l.from, l.text)
		}
		for _, c := range []*websocket.Conn{alice, bob} {
			msg := receive(t, c)
			assert.Equal(t, l.from, msg.Name)
			assert.Equal(t, l.text, msg.Text)
			assert.NotEmpty(t, msg.ID)
			lastSeen = msg.ID
		}
	}

	// Carol opens the page on server b: she gets the whole history.
	carol := resume(t, b, "")
	var history []string
	for range 2 + len(lines) {
		history = append(history, receive(t, carol).Text)
	}
	assert.Equal(t, []string{"joined", "joined", "hi bob", "hi alice", "how is server b?"}, history)

	// Bob's tab loses its connection; alice talks; bob comes back on
	// server a with the id of the last message he had.
	require.NoError(t, bob.Close())
	send(t, alice, "alice", "bob, are you there?")
	assert.Equal(t, "bob, are you there?", receive(t, alice).Text)
	bob = resume(t, a, lastSeen)
	got := receive(t, bob)
	assert.Equal(t, "bob, are you there?", got.Text)
	send(t, bob, "bob", "back")
	for _, c := range []*websocket.Conn{alice, bob, carol} {
		msg := receive(t, c)
		if msg.Text == "bob, are you there?" { // carol's copy of the previous one
			msg = receive(t, c)
		}
		assert.Equal(t, "back", msg.Text)
	}

	// A page whose id is from an unknown epoch gets the history and the
	// notice that some messages were lost.
	dave := resume(t, a, "someoldepoch:3")
	var texts []string
	for range 2 + len(lines) + 2 + 1 {
		texts = append(texts, receive(t, dave).Text)
	}
	assert.Equal(t, "some messages were lost while you were away", texts[len(texts)-1])
}
