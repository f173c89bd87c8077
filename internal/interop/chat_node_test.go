package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	// chatDir is the chat demo, a module of its own (it requires
	// hub/redis), built in its directory.
	chatDir = "../../docs/examples/chat"
	// chatBuildTimeout bounds go build of the demo.
	chatBuildTimeout = 3 * time.Minute
	// chatStartTimeout bounds the wait for the demo to listen and accept.
	chatStartTimeout = 10 * time.Second
	// chatExitTimeout bounds the demo's graceful shutdown after SIGTERM.
	chatExitTimeout = 10 * time.Second
	// chatWriteWait is the demo's writeWait (docs/examples/chat/hub.go): a
	// write blocked that long fails, and the client is then closed without
	// a close frame.
	chatWriteWait = 5 * time.Second
	// chatFlood is how many ~4 KB messages chat.mjs's talker sends: 8 MB,
	// about twice what a paused client's socket buffers and send queue take
	// on Linux's loopback before its queue overflows (about 1,000 messages).
	chatFlood = 2000
	// chatPaused is how many paused clients chat.mjs opens.
	chatPaused = 9
	// chatTabs is how many clients chat.mjs opens for the SIGTERM test.
	chatTabs = 3
)

// chatStep is one JSON line printed by chat.mjs.
type chatStep struct {
	Step               string   `json:"step"`
	OK                 bool     `json:"ok"`
	Error              string   `json:"error"`
	Paused             int      `json:"paused"`
	Clients            int      `json:"clients"`
	Sent               int      `json:"sent"`
	Unexpected         int      `json:"unexpected"`
	SlowestMs          int      `json:"slowestMs"`
	TotalMs            int      `json:"totalMs"`
	Bytes              int      `json:"bytes"`
	Client             string   `json:"client"`
	Code               int      `json:"code"`
	Reason             string   `json:"reason"`
	Messages           int      `json:"messages"`
	Errors             []string `json:"errors"`
	AfterResumeMs      int      `json:"afterResumeMs"`
	AfterReadyMs       int      `json:"afterReadyMs"`
	ClosedBeforeResume int      `json:"closedBeforeResume"`
	MS                 int      `json:"ms"`

	line string // as printed
}

// syncBuffer is a bytes.Buffer safe for one writer and concurrent readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// chatProcess is a running chat demo.
type chatProcess struct {
	cmd     *exec.Cmd
	addr    string        // host:port it listens on
	log     *syncBuffer   // its stderr (the log package's output)
	exited  chan struct{} // closed once it has exited
	waitErr error         // cmd.Wait's result, set before exited is closed
}

// buildChat builds the chat demo into a temporary directory.
func buildChat(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "chat")
	ctx, cancel := context.WithTimeout(context.Background(), chatBuildTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "-C", chatDir, "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "go build in %s:\n%s", chatDir, out)
	return bin
}

var chatListening = regexp.MustCompile(`chat: open http://(127\.0\.0\.1:\d+) `)

// startChat runs the demo on a port of 127.0.0.1 the kernel picks, waits
// until it accepts connections and kills it at the end of the test.
func startChat(t *testing.T, bin string) *chatProcess {
	t.Helper()
	p := &chatProcess{cmd: exec.Command(bin, "-addr", "127.0.0.1:0"), log: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd.Stderr = p.log
	require.NoError(t, p.cmd.Start())
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill() // fails harmlessly when it has exited
		select {
		case <-p.exited:
		case <-time.After(10 * time.Second):
			t.Errorf("chat demo (pid %d) did not exit after SIGKILL", p.cmd.Process.Pid)
		}
	})

	// main logs the address once it listens; then it must accept.
	deadline := time.Now().Add(chatStartTimeout)
	for p.addr == "" {
		if m := chatListening.FindStringSubmatch(p.log.String()); m != nil {
			p.addr = m[1]
			break
		}
		require.True(t, time.Now().Before(deadline), "chat demo did not log its address within %v; log:\n%s", chatStartTimeout, p.log.String())
		time.Sleep(20 * time.Millisecond)
	}
	for {
		c, err := net.DialTimeout("tcp", p.addr, time.Second)
		if err == nil {
			c.Close()
			return p
		}
		require.True(t, time.Now().Before(deadline), "chat demo does not accept on %s: %v; log:\n%s", p.addr, err, p.log.String())
		time.Sleep(20 * time.Millisecond)
	}
}

// startChatNode starts chat.mjs against the demo at addr. Its steps arrive
// on the returned channel, which is closed when its stdout ends; done
// receives its exit status then.
func startChatNode(t *testing.T, node, addr string, args ...string) (steps <-chan chatStep, done <-chan error, stderr *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), nodeRunTimeout)
	t.Cleanup(cancel)
	cmd := exec.CommandContext(ctx, node, append([]string{"chat.mjs", "ws://" + addr + "/ws"}, args...)...)
	cmd.Dir = nodeDir
	cmd.WaitDelay = 5 * time.Second
	stderr = &syncBuffer{}
	cmd.Stderr = stderr
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())

	stepc := make(chan chatStep, 64)
	donec := make(chan error, 1)
	go func() {
		defer close(stepc)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var s chatStep
			if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
				s = chatStep{Step: "not-json"}
			}
			s.line = sc.Text()
			stepc <- s
		}
		_, _ = io.Copy(io.Discard, stdout)
		donec <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cancel()
		for range stepc {
		}
	})
	return stepc, donec, stderr
}

// collectChatNode returns chat.mjs's remaining steps once it exits, and
// checks its exit status.
func collectChatNode(t *testing.T, steps <-chan chatStep, done <-chan error, stderr *syncBuffer) []chatStep {
	t.Helper()
	var all []chatStep
	timeout := time.After(nodeRunTimeout)
	for {
		select {
		case s, ok := <-steps:
			if !ok {
				err := <-done
				assert.NoError(t, err, "chat.mjs exit status; stderr:\n%s", stderr.String())
				return all
			}
			t.Logf("chat.mjs: %s", s.line)
			require.NotEqual(t, "not-json", s.Step, "chat.mjs printed a line that is not JSON: %q", s.line)
			all = append(all, s)
		case <-timeout:
			require.FailNow(t, "chat.mjs did not finish", "within %v; stderr:\n%s", nodeRunTimeout, stderr.String())
		}
	}
}

// chatStepsNamed returns the steps called name.
func chatStepsNamed(steps []chatStep, name string) []chatStep {
	var out []chatStep
	for _, s := range steps {
		if s.Step == name {
			out = append(out, s)
		}
	}
	return out
}

// TestChatNodeSlowTabs runs the chat demo with nine Node ws clients that
// stop reading as soon as they open, and one that chats: every message of
// the one that chats comes back within 5 s (chat.mjs's bound), while the
// paused ones are dropped by the server once their queues overflow. When
// resumed, a paused client reads what the server had written before, then
// close 1008; or, if its writer's blocked write hit the demo's 5 s write
// deadline before the client resumed, the bare end of the connection
// (1006 in ws).
func TestChatNodeSlowTabs(t *testing.T) {
	node := requireNode(t)
	chat := startChat(t, buildChat(t))

	stepc, done, stderr := startChatNode(t, node, chat.addr, "--slow",
		"--paused="+strconv.Itoa(chatPaused), "--messages="+strconv.Itoa(chatFlood))
	steps := collectChatNode(t, stepc, done, stderr)
	for _, s := range steps {
		assert.Truef(t, s.OK, "chat.mjs step failed: %s", s.line)
	}
	require.NotEmpty(t, steps)
	require.Equal(t, "done", steps[len(steps)-1].Step, "chat.mjs's last step")

	floods := chatStepsNamed(steps, "flood")
	require.Len(t, floods, 1)
	flood := floods[0]
	assert.Equal(t, chatFlood, flood.Sent, "messages that came back in time")
	assert.Zero(t, flood.Unexpected, "other messages the talker read")
	assert.Less(t, flood.SlowestMs, 5000, "slowest round trip (ms)")

	closes := chatStepsNamed(steps, "paused-close")
	require.Len(t, closes, chatPaused)
	// A write to a paused client starts after the flood starts, so its
	// deadline is at least chatWriteWait after that: when the flood (and
	// the resume right after it) took well under chatWriteWait, the writer
	// was still in that write when the client resumed, and then sent the
	// close frame.
	wantFrame := time.Duration(flood.TotalMs)*time.Millisecond < chatWriteWait-1500*time.Millisecond
	for _, c := range closes {
		assert.Lessf(t, c.Messages, flood.Sent, "%s read every message: it was never dropped", c.Client)
		if wantFrame {
			assert.Equalf(t, 1008, c.Code, "%s: close code", c.Client)
		} else {
			assert.Containsf(t, []int{1008, 1006}, c.Code, "%s: close code", c.Client)
		}
		if c.Code == 1008 {
			assert.Equalf(t, "too slow: messages were dropped", c.Reason, "%s: close reason", c.Client)
		}
	}
	assert.Len(t, chatStepsNamed(steps, "after"), 1, "the room works after the paused clients left")
}

// TestChatNodeSIGTERM connects three Node ws clients to the chat demo and
// sends the process SIGTERM: each client gets close 1001 (going away), and
// the process exits with status 0 within chatExitTimeout.
func TestChatNodeSIGTERM(t *testing.T) {
	node := requireNode(t)
	chat := startChat(t, buildChat(t))

	stepc, done, stderr := startChatNode(t, node, chat.addr, "--sigterm", "--clients="+strconv.Itoa(chatTabs))
	select {
	case s, ok := <-stepc:
		require.True(t, ok, "chat.mjs ended before it was ready; stderr:\n%s", stderr.String())
		t.Logf("chat.mjs: %s", s.line)
		require.Equal(t, "ready", s.Step, "chat.mjs's first step: %s", s.line)
		require.True(t, s.OK)
		require.Equal(t, chatTabs, s.Clients)
	case <-time.After(30 * time.Second):
		require.FailNow(t, "chat.mjs was not ready within 30 s", "stderr:\n%s", stderr.String())
	}

	signaled := time.Now()
	require.NoError(t, chat.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-chat.exited:
		t.Logf("chat demo exited %v after SIGTERM; log:\n%s", time.Since(signaled), chat.log.String())
		require.NoError(t, chat.waitErr, "chat demo exit status")
	case <-time.After(chatExitTimeout):
		require.FailNow(t, "chat demo did not exit after SIGTERM", "within %v; log:\n%s", chatExitTimeout, chat.log.String())
	}
	assert.Contains(t, chat.log.String(), "chat: stopped")

	steps := collectChatNode(t, stepc, done, stderr)
	for _, s := range steps {
		assert.Truef(t, s.OK, "chat.mjs step failed: %s", s.line)
	}
	closes := chatStepsNamed(steps, "close")
	require.Len(t, closes, chatTabs)
	for _, c := range closes {
		assert.Equalf(t, 1001, c.Code, "%s: close code", c.Client)
	}
	require.NotEmpty(t, steps)
	assert.Equal(t, "done", steps[len(steps)-1].Step, "chat.mjs's last step")
}
