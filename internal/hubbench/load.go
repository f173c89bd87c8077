package hubbench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wsup/websocket"
)

// The subscribers' process.
//
// RunLoad connects n subscribers spread over the URLs, prints "ready",
// and then, for each publication every subscriber received, "done SEQ".
// On "stats" from its input it prints "stats P50NS P99NS COUNT" about the
// deliveries since the previous "stats"; when its input ends it returns.

// maxSeq bounds the sequence numbers a load process counts.
const maxSeq = 1 << 16

// dialParallel is how many subscribers connect at once.
const dialParallel = 64

// subscriber is one client connection and the latencies it measured.
type subscriber struct {
	conn *websocket.Conn
	mu   sync.Mutex
	lat  []int64 // guarded by mu: nanoseconds, one per delivery
}

// RunLoad runs the subscribers' process (see above) with proto ("wsup" or
// "centrifuge"), reading commands from in and writing to out. It returns
// the first error of a connection, or nil once in ends.
func RunLoad(in io.Reader, out io.Writer, proto string, n int, urls []string) error {
	subs := make([]*subscriber, n)
	var mu sync.Mutex // guards out
	say := func(format string, a ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(out, format+"\n", a...)
	}
	var counts [maxSeq]atomic.Int32
	failed := make(chan error, 1)
	fail := func(err error) {
		select {
		case failed <- err:
		default:
		}
	}

	sem := make(chan struct{}, dialParallel)
	var wg sync.WaitGroup
	var dialErr atomic.Value
	for i := range subs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := connect(proto, urls[i%len(urls)])
			if err != nil {
				dialErr.CompareAndSwap(nil, err)
				return
			}
			subs[i] = &subscriber{conn: c}
		}()
	}
	wg.Wait()
	if err, _ := dialErr.Load().(error); err != nil {
		for _, s := range subs {
			if s != nil {
				s.conn.Close()
			}
		}
		return err
	}
	for _, s := range subs {
		go func() {
			for {
				_, msg, err := s.conn.ReadMessage()
				if err != nil {
					fail(err)
					return
				}
				if proto == "centrifuge" && hasPing(msg) {
					// A ping (an empty command, alone or among the
					// pushes of the frame) is answered with an empty one.
					if err := s.conn.WriteMessage(websocket.TextMessage, []byte("{}")); err != nil {
						fail(err)
						return
					}
				}
				now := time.Now().UnixNano()
				err = parsePayloads(msg, func(seq int, t int64) {
					s.mu.Lock()
					s.lat = append(s.lat, now-t)
					s.mu.Unlock()
					if seq >= 0 && seq < maxSeq && int(counts[seq].Add(1)) == n {
						say("done %d", seq)
					}
				})
				if err != nil {
					fail(err)
					return
				}
			}
		}()
	}
	say("ready")

	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	defer func() {
		for _, s := range subs {
			s.conn.Close()
		}
	}()
	for {
		select {
		case err := <-failed:
			return err
		case l, ok := <-lines:
			if !ok {
				return nil
			}
			if l == "stats" {
				var all []int64
				for _, s := range subs {
					s.mu.Lock()
					all = append(all, s.lat...)
					s.lat = s.lat[:0]
					s.mu.Unlock()
				}
				slices.Sort(all)
				say("stats %d %d %d", percentile(all, 50), percentile(all, 99), len(all))
			}
		}
	}
}

// hasPing reports whether a centrifuge frame holds a ping: an empty JSON
// object on a line of its own.
func hasPing(msg []byte) bool {
	for line := range bytes.SplitSeq(msg, []byte{'\n'}) {
		if bytes.Equal(bytes.TrimSpace(line), []byte("{}")) {
			return true
		}
	}
	return false
}

// percentile returns the p-th percentile of sorted (0 when empty).
func percentile(sorted []int64, p int) int64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[(len(sorted)-1)*p/100]
}

// connect opens one subscriber and waits until it is subscribed.
func connect(proto, url string) (*websocket.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, _, err := websocket.DefaultDialer.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
	switch proto {
	case "wsup":
		_, p, err := c.ReadMessage()
		if err == nil && string(p) != "ready" {
			err = fmt.Errorf("hubbench: %s sent %q before ready", url, p)
		}
		if err != nil {
			c.Close()
			return nil, err
		}
	case "centrifuge":
		for id, cmd := range []string{`{"id":1,"connect":{}}`, `{"id":2,"subscribe":{"channel":"` + Topic + `"}}`} {
			if err := c.WriteMessage(websocket.TextMessage, []byte(cmd)); err != nil {
				c.Close()
				return nil, err
			}
			_, p, err := c.ReadMessage()
			if err == nil && (!strings.Contains(string(p), `"id":`+strconv.Itoa(id+1)) || strings.Contains(string(p), `"error"`)) {
				err = fmt.Errorf("hubbench: centrifuge answered %q to %s", p, cmd)
			}
			if err != nil {
				c.Close()
				return nil, err
			}
		}
	default:
		c.Close()
		return nil, fmt.Errorf("hubbench: unknown protocol %q", proto)
	}
	_ = c.SetReadDeadline(time.Time{})
	return c, nil
}

// loadEnv names the environment variable that makes the test binary a
// load process: "PROTO N URL[,URL...]".
const loadEnv = "WSUP_HUBBENCH_LOAD"

// MaybeRunLoad runs the load process and exits when the environment asks
// for it (call it from TestMain); otherwise it returns.
func MaybeRunLoad() {
	spec := os.Getenv(loadEnv)
	if spec == "" {
		return
	}
	f := strings.Fields(spec)
	if len(f) != 3 {
		fmt.Fprintln(os.Stderr, "hubbench: bad", loadEnv, spec)
		os.Exit(2)
	}
	n, err := strconv.Atoi(f[1])
	if err == nil {
		err = RunLoad(os.Stdin, os.Stdout, f[0], n, strings.Split(f[2], ","))
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "hubbench load:", err)
		os.Exit(1)
	}
	os.Exit(0)
}
