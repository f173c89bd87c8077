package redis_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket"
	"github.com/wsup/websocket/hub"
	"github.com/wsup/websocket/hub/redis"
)

// The tests run hubs in other processes by running this test binary again
// with WSUP_HUB_NODE set to a Redis address: TestMain then serves a hub
// over that Redis (newNodeHandler) on a loopback port, prints
// "listening ADDR" and serves until its standard input closes.
const nodeEnv = "WSUP_HUB_NODE"

func TestMain(m *testing.M) {
	if addr := os.Getenv(nodeEnv); addr != "" {
		if err := runNode(addr); err != nil {
			fmt.Fprintln(os.Stderr, "node:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// frame frames a publication as "EPOCH:OFFSET DATA".
func frame(p hub.Publication) []byte {
	return fmt.Appendf(nil, "%s %s", p.Position, p.Data)
}

// runNode serves a hub over the Redis at addr until stdin closes.
func runNode(addr string) error {
	rdb := goredis.NewClient(&goredis.Options{Addr: addr, DialTimeout: time.Second})
	defer rdb.Close()
	b, err := redis.New(rdb, redis.Options{HistorySize: 100, Prefix: "test:"})
	if err != nil {
		return err
	}
	defer b.Close()
	h, err := hub.New(hub.Options{Broker: b, Frame: frame})
	if err != nil {
		return err
	}
	defer h.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: newNodeHandler(h), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	fmt.Printf("listening %s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin)
	return srv.Close()
}

// newNodeHandler serves h: a client names its topic (?topic=T) and, to
// resume, its position (?since=EPOCH:N). The server answers "gap" when
// Resume reports one, then "ready". Each message the client sends is
// published on its topic.
func newNodeHandler(h *hub.Hub) http.Handler {
	var up websocket.Upgrader
	return up.HandlerWithRequest(func(c *websocket.Conn, r *http.Request) {
		defer h.Leave(c)
		topic := r.URL.Query().Get("topic")
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		if since, ok := r.URL.Query()["since"]; ok {
			pos, err := hub.ParsePosition(since[0])
			if err != nil {
				return
			}
			if err := h.Resume(ctx, c, topic, pos); err != nil {
				if !strings.Contains(err.Error(), "lost") {
					return
				}
				_ = h.Send(c, websocket.TextMessage, []byte("gap"))
			}
		} else if err := h.Subscribe(ctx, c, topic); err != nil {
			return
		}
		_ = h.Send(c, websocket.TextMessage, []byte("ready"))
		for {
			typ, p, err := c.ReadMessage()
			if err != nil {
				return
			}
			pctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err = h.Publish(pctx, topic, typ, p)
			cancel()
			if err != nil {
				_ = h.Send(c, websocket.TextMessage, []byte("publish failed"))
			}
		}
	})
}

// startNode runs a node process over the Redis at addr and returns the
// base ws:// URL it serves. The test's cleanup stops it.
func startNode(t *testing.T, addr string) string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), nodeEnv+"="+addr)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	require.NoError(t, cmd.Start())
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = stdin.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
			t.Errorf("node %d did not stop when its stdin closed", cmd.Process.Pid)
		}
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- s
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case s := <-line:
		a, ok := strings.CutPrefix(strings.TrimSpace(s), "listening ")
		require.True(t, ok, "node printed %q", s)
		return "ws://" + a
	case <-time.After(30 * time.Second):
		t.Fatal("node did not start listening within 30 s")
		return ""
	}
}
