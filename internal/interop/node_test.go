package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wsup/websocket"
)

const (
	// nodeDir holds client.mjs, package.json and package-lock.json.
	nodeDir = "node"
	// nodeSkipEnv, set to 1, turns "Node.js cannot be set up" from a
	// failure into a skip.
	nodeSkipEnv = "WSUP_SKIP_NODE"
	// npmTimeout bounds installing the client's dependencies.
	npmTimeout = 5 * time.Minute
	// nodeRunTimeout bounds one run of client.mjs (which also stops itself
	// after 90 s).
	nodeRunTimeout = 2 * time.Minute
	// nodeCloseReason is the reason client.mjs sends with close code 4002.
	nodeCloseReason = "node says bye ✓"
	// nodeUTF8Unit is the repeated text of client.mjs's utf8Text.
	nodeUTF8Unit = "aé日🎉ж€𝄞z"
)

// nodeStep is one JSON line printed by client.mjs.
type nodeStep struct {
	Step       string `json:"step"`
	OK         bool   `json:"ok"`
	Error      string `json:"error"`
	Binary     bool   `json:"binary"`
	SentBytes  int    `json:"sentBytes"`
	GotBytes   int    `json:"gotBytes"`
	Frames     int    `json:"frames"`
	Extensions string `json:"extensions"`
	Code       int    `json:"code"`
	Reason     string `json:"reason"`
	BytesRead  int64  `json:"bytesRead"`
	Got        string `json:"got"`
}

// nodeEchoSteps are client.mjs's echo and fragment steps in order, with the
// message size and whether it is binary.
var nodeEchoSteps = []struct {
	step   string
	size   int
	binary bool
}{
	{"echo-text-empty", 0, false},
	{"echo-text-short", len("hello from node"), false},
	{"echo-text-125", 125, false},
	{"echo-text-126", 126, false},
	{"echo-text-65535", 65535, false},
	{"echo-text-65536", 65536, false},
	{"echo-text-1MiB", 1 << 20, false},
	{"echo-utf8-short", len("héllo wörld ✓ 日本語 🎉"), false},
	{"echo-utf8-1MiB", (1 << 20) / len(nodeUTF8Unit) * len(nodeUTF8Unit), false},
	{"echo-binary-empty", 0, true},
	{"echo-binary-1", 1, true},
	{"echo-binary-125", 125, true},
	{"echo-binary-126", 126, true},
	{"echo-binary-65536", 65536, true},
	{"echo-binary-1MiB", 1 << 20, true},
	{"fragment-text", 16, false},
	{"fragment-binary", 71003, true},
	{"fragment-ping", 10000, true},
}

// nodeOtherSteps follow the echo steps in client.mjs's output.
var nodeOtherSteps = []string{"ping-payload", "ping-125", "stats", "close", "done"}

// nodeTools is the outcome of setting up Node.js and the client's packages,
// done once per test binary.
var nodeTools struct {
	once sync.Once
	node string // path of the node binary
	err  error  // why Node cannot be used
}

// requireNode returns the node binary, after installing the client's
// dependencies with npm when node_modules lacks them. When that is
// impossible it fails the test with the reason, or skips it when
// WSUP_SKIP_NODE=1.
func requireNode(t *testing.T) string {
	t.Helper()
	nodeTools.once.Do(func() { nodeTools.node, nodeTools.err = setupNode() })
	if nodeTools.err != nil {
		msg := "Node interop test cannot run: " + nodeTools.err.Error() +
			" (install Node.js >= 18 with npm, e.g. `apt-get install nodejs npm`, then rerun; or set " + nodeSkipEnv + "=1 to skip)"
		if os.Getenv(nodeSkipEnv) == "1" {
			t.Skip(msg)
		}
		require.FailNow(t, msg)
	}
	return nodeTools.node
}

// setupNode finds node and, when node/node_modules/ws is missing, runs
// `npm ci` (falling back to `npm install`) in nodeDir.
func setupNode() (string, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return "", errors.New("the node binary is not in PATH")
	}
	if _, err := os.Stat(filepath.Join(nodeDir, "node_modules", "ws", "package.json")); err == nil {
		return node, nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return "", errors.New("node_modules is missing and npm is not in PATH to install it")
	}
	var outputs []string
	for _, args := range [][]string{{"ci", "--no-audit", "--no-fund"}, {"install", "--no-audit", "--no-fund"}} {
		ctx, cancel := context.WithTimeout(context.Background(), npmTimeout)
		cmd := exec.CommandContext(ctx, npm, args...)
		cmd.Dir = nodeDir
		out, err := cmd.CombinedOutput()
		cancel()
		if err == nil {
			return node, nil
		}
		outputs = append(outputs, "npm "+args[0]+": "+err.Error()+": "+strings.TrimSpace(string(out)))
	}
	return "", errors.New("installing the ws package failed: " + strings.Join(outputs, "; "))
}

// runNodeClient runs client.mjs against url and returns its steps, failing
// the test when its output is not JSON lines.
func runNodeClient(t *testing.T, node, url string, extraArgs ...string) []nodeStep {
	t.Helper()
	steps, out := runNodeJSON[nodeStep](t, node, nodeRunTimeout, "client.mjs", append([]string{url}, extraArgs...)...)
	assert.NoError(t, out.err, "client.mjs exit status; stderr:\n%s", out.stderr)
	return steps
}

// nodeRun is how a Node script ended: its exit error and its output.
type nodeRun struct {
	err            error
	stdout, stderr string
}

// runNodeJSON runs the Node script (in nodeDir) with args, bounded by
// timeout, and decodes each line it prints as one S. It fails the test
// when the script runs out of time or prints a line that is not JSON; the
// exit status is the caller's to judge.
func runNodeJSON[S any](t *testing.T, node string, timeout time.Duration, script string, args ...string) ([]S, nodeRun) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{script}, args...)...)
	cmd.Dir = nodeDir
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	runErr := cmd.Run()
	out := nodeRun{err: runErr, stdout: stdout.String(), stderr: stderr.String()}
	require.NoError(t, ctx.Err(), "%s did not finish within %v; stdout:\n%s\nstderr:\n%s", script, timeout, out.stdout, out.stderr)
	var steps []S
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s S
		require.NoError(t, json.Unmarshal(sc.Bytes(), &s), "%s printed a line that is not JSON: %q", script, sc.Text())
		steps = append(steps, s)
	}
	require.NoError(t, sc.Err())
	return steps, out
}

// checkNodeSteps checks every step client.mjs reported and returns them by
// name.
func checkNodeSteps(t *testing.T, steps []nodeStep) map[string]nodeStep {
	t.Helper()
	var names []string
	byName := make(map[string]nodeStep, len(steps))
	for _, s := range steps {
		names = append(names, s.Step)
		byName[s.Step] = s
		assert.Truef(t, s.OK, "client.mjs step %s failed: %+v", s.Step, s)
	}
	want := []string{"open"}
	for _, e := range nodeEchoSteps {
		want = append(want, e.step)
	}
	want = append(want, nodeOtherSteps...)
	assert.Equal(t, want, names, "steps reported by client.mjs")

	for _, e := range nodeEchoSteps {
		s, ok := byName[e.step]
		if !assert.Truef(t, ok, "step %s missing", e.step) {
			continue
		}
		assert.Equalf(t, e.size, s.SentBytes, "%s: bytes sent", e.step)
		assert.Equalf(t, e.size, s.GotBytes, "%s: bytes echoed", e.step)
		assert.Equalf(t, e.binary, s.Binary, "%s: echoed message is binary", e.step)
	}
	assert.Greater(t, byName["fragment-text"].Frames, 1, "fragment-text frames")
	assert.Greater(t, byName["fragment-binary"].Frames, 1, "fragment-binary frames")
	assert.Equal(t, "mid-message", byName["fragment-ping"].Got, "pong payload inside a fragmented message")
	assert.Equal(t, 4002, byName["close"].Code, "close code the server echoed")
	return byName
}

// nodeEchoedBytes is the number of payload bytes the server echoes in one
// client.mjs session.
func nodeEchoedBytes() int64 {
	var n int64
	for _, e := range nodeEchoSteps {
		n += int64(e.size)
	}
	return n
}

func TestNodeClient(t *testing.T) {
	node := requireNode(t)
	for _, mode := range []echoMode{echoWhole, echoStream} {
		t.Run(mode.String(), func(t *testing.T) {
			ts, ends := echoServer(t, &websocket.Upgrader{}, mode)
			steps := runNodeClient(t, node, ts.wsURL)
			byName := checkNodeSteps(t, steps)
			assert.Empty(t, byName["open"].Extensions, "no extension is negotiated without perMessageDeflate")
			assert.GreaterOrEqual(t, byName["stats"].BytesRead, nodeEchoedBytes(), "bytes the client read for the echoes")

			serverErr := recv(t, ends, "server session end")
			ce := closeErr(t, serverErr)
			assert.Equal(t, 4002, ce.Code)
			assert.Equal(t, nodeCloseReason, ce.Text)
		})
	}
}
