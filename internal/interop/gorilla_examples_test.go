package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests take gorilla/websocket v1.5.3's examples from the module
// cache (nothing of gorilla's is kept in this repository), change only their
// import path to github.com/wsup/websocket in a temporary directory, and
// build and run them. The run tests also build the unchanged examples
// against gorilla itself and hold both to the same expectations.

const (
	gorillaImport  = `"github.com/gorilla/websocket"`
	wsupImport     = `"github.com/wsup/websocket"`
	gorillaVersion = "v1.5.3"
	// exampleBuildTimeout bounds one `go build` of an example.
	exampleBuildTimeout = 5 * time.Minute
	// exampleStartTimeout bounds waiting for an example server to listen.
	exampleStartTimeout = 20 * time.Second
	// exampleNodeTimeout bounds one run of gorilla_examples.mjs.
	exampleNodeTimeout = 90 * time.Second
)

// exampleTarget is one program among gorilla's examples: files lists the
// files to build (echo's two programs are `//go:build ignore` files, built
// the way its README runs them); none means the example's package.
type exampleTarget struct {
	example, name string
	files         []string
}

var gorillaExampleTargets = []exampleTarget{
	{"autobahn", "autobahn", nil},
	{"chat", "chat", nil},
	{"command", "command", nil},
	{"echo", "echo-server", []string{"server.go"}},
	{"echo", "echo-client", []string{"client.go"}},
	{"filewatch", "filewatch", nil},
}

// exampleImpls are the libraries the run tests build the examples against.
var exampleImpls = []string{"gorilla", "wsup"}

// exampleGoEnv is the environment of the go commands: offline (the module
// cache holds gorilla and the replaced wsup module needs nothing else to
// build), with go.sum written as needed.
func exampleGoEnv() []string {
	return append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOWORK=off", "GOTOOLCHAIN=local")
}

var gorillaModDir struct {
	once sync.Once
	dir  string
	err  error
}

// gorillaExamplesDir returns the examples directory of gorilla v1.5.3 in the
// module cache, downloading the module (with the environment's GOPROXY) if
// needed.
func gorillaExamplesDir(t *testing.T) string {
	t.Helper()
	gorillaModDir.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), exampleBuildTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "mod", "download", "-json", "github.com/gorilla/websocket@"+gorillaVersion)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			gorillaModDir.err = errors.New("go mod download: " + err.Error() + ": " + stderr.String())
			return
		}
		var mod struct{ Dir string }
		if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
			gorillaModDir.err = errors.New("go mod download printed no Dir: " + string(out))
			return
		}
		gorillaModDir.dir = filepath.Join(mod.Dir, "examples")
	})
	require.NoError(t, gorillaModDir.err)
	return gorillaModDir.dir
}

// repoRoot returns the absolute path of the wsup repository, two levels
// above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	require.NoError(t, err)
	require.Contains(t, string(gomod), "module github.com/wsup/websocket\n", "repository root %s", root)
	return root
}

// copyExample copies gorilla's example into a temporary directory with a
// go.mod of its own and returns that directory. For impl "wsup" it rewrites
// the import of gorilla to wsup (and nothing else) and replaces wsup by this
// repository; for "gorilla" it requires gorilla v1.5.3 unchanged.
func copyExample(t *testing.T, example, impl string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), example)
	require.NoError(t, os.CopyFS(dir, os.DirFS(filepath.Join(gorillaExamplesDir(t), example))))
	gomod := "module example\n\ngo 1.24\n\nrequire github.com/gorilla/websocket " + gorillaVersion + "\n"
	if impl == "wsup" {
		gomod = "module example\n\ngo 1.24\n\nrequire github.com/wsup/websocket v0.0.0\n\nreplace github.com/wsup/websocket => " + repoRoot(t) + "\n"
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		require.NoError(t, err)
		rewritten := 0
		for _, f := range files {
			src, err := os.ReadFile(f)
			require.NoError(t, err)
			if n := bytes.Count(src, []byte(gorillaImport)); n > 0 {
				require.Equal(t, 1, n, "%s imports gorilla once", f)
				require.NoError(t, os.WriteFile(f, bytes.ReplaceAll(src, []byte(gorillaImport), []byte(wsupImport)), 0o644))
				rewritten++
			}
		}
		require.Positive(t, rewritten, "no file of %s imports gorilla", example)
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644))
	return dir
}

// buildExample builds target in dir into dir/target.name and returns the
// binary, or the go command's error and output.
func buildExample(dir string, target exampleTarget, race bool) (string, string, error) {
	bin := filepath.Join(dir, target.name)
	args := []string{"build", "-o", bin}
	if race {
		args = append(args, "-race")
	}
	if target.files == nil {
		args = append(args, ".")
	} else {
		args = append(args, target.files...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), exampleBuildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = exampleGoEnv()
	out, err := cmd.CombinedOutput()
	return bin, string(out), err
}

// requireExample copies and builds target against impl with the race
// detector and returns the binary and the example's directory.
func requireExample(t *testing.T, target exampleTarget, impl string) (bin, dir string) {
	t.Helper()
	dir = copyExample(t, target.example, impl)
	bin, out, err := buildExample(dir, target, true)
	require.NoError(t, err, "go build %s against %s:\n%s", target.name, impl, out)
	return bin, dir
}

func TestGorillaExamplesBuild(t *testing.T) {
	for _, target := range gorillaExampleTargets {
		t.Run(target.name, func(t *testing.T) {
			dir := copyExample(t, target.example, "wsup")
			bin, out, err := buildExample(dir, target, false)
			require.NoError(t, err, "go build of gorilla's %s example with the wsup import:\n%s", target.name, out)
			fi, err := os.Stat(bin)
			require.NoError(t, err)
			assert.True(t, fi.Mode().IsRegular() && fi.Mode()&0o111 != 0, "%s is an executable", bin)
			// The binary holds this repository's wsup and no gorilla.
			info, err := exec.Command("go", "version", "-m", bin).CombinedOutput()
			require.NoError(t, err, "go version -m: %s", info)
			assert.Contains(t, string(info), "\tdep\tgithub.com/wsup/websocket\tv0.0.0\n\t=>\t"+repoRoot(t)+"\t", "go version -m %s", bin)
			assert.NotContains(t, string(info), "gorilla", "go version -m %s", bin)
		})
	}
}

// exampleProc is a running example program.
type exampleProc struct {
	cmd    *exec.Cmd
	output *syncBuffer // stdout and stderr
	done   chan struct{}
	err    error // Wait's result, set before done is closed
}

// startExample starts bin in dir; t.Cleanup kills it and waits for it.
func startExample(t *testing.T, bin, dir string, args ...string) *exampleProc {
	t.Helper()
	p := &exampleProc{cmd: exec.Command(bin, args...), output: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Dir = dir
	p.cmd.Stdout = p.output
	p.cmd.Stderr = p.output
	require.NoError(t, p.cmd.Start())
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
			t.Errorf("%s did not exit within 10 s of being killed", bin)
		}
	})
	return p
}

// exited reports whether the process has exited.
func (p *exampleProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// freeAddr returns 127.0.0.1:port with a port that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// startExampleServer starts bin with -addr on a free loopback port and
// waits until it accepts connections.
func startExampleServer(t *testing.T, bin, dir string, args ...string) (*exampleProc, string) {
	t.Helper()
	addr := freeAddr(t)
	p := startExample(t, bin, dir, append([]string{"-addr", addr}, args...)...)
	deadline := time.Now().Add(exampleStartTimeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			require.NoError(t, conn.Close())
			return p, addr
		}
		require.False(t, p.exited(), "%s exited before listening on %s: %v\n%s", bin, addr, p.err, p.output.String())
		require.True(t, time.Now().Before(deadline), "%s not listening on %s after %v: %v\n%s", bin, addr, exampleStartTimeout, err, p.output.String())
		time.Sleep(50 * time.Millisecond)
	}
}

// requireNoRace fails the test when the race detector reported in p's output.
func requireNoRace(t *testing.T, p *exampleProc) {
	t.Helper()
	require.NotContains(t, p.output.String(), "WARNING: DATA RACE", "example output:\n%s", p.output.String())
}

// httpGet returns the status and body of GET url.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// exampleStep is one JSON line printed by gorilla_examples.mjs.
type exampleStep struct {
	Step   string   `json:"step"`
	Error  string   `json:"error"`
	I      int      `json:"i"`
	Got    *string  `json:"got"`
	Binary bool     `json:"binary"`
	Code   int      `json:"code"`
	Reason string   `json:"reason"`
	Client string   `json:"client"`
	Lines  []string `json:"lines"`
	Frames int      `json:"frames"`
}

// runExampleNode runs gorilla_examples.mjs with args and returns its steps,
// failing the test when it fails or prints something other than JSON lines.
func runExampleNode(t *testing.T, args ...string) []exampleStep {
	t.Helper()
	steps, out := runNodeJSON[exampleStep](t, requireNode(t), exampleNodeTimeout, "gorilla_examples.mjs", args...)
	for _, s := range steps {
		require.NotEqual(t, "error", s.Step, "gorilla_examples.mjs: %s", s.Error)
	}
	require.NoError(t, out.err, "gorilla_examples.mjs exit status; stdout:\n%s\nstderr:\n%s", out.stdout, out.stderr)
	require.NotEmpty(t, steps)
	require.Equal(t, "done", steps[len(steps)-1].Step)
	return steps[:len(steps)-1]
}

// exampleTargetNamed returns the target named name.
func exampleTargetNamed(t *testing.T, name string) exampleTarget {
	t.Helper()
	for _, target := range gorillaExampleTargets {
		if target.name == name {
			return target
		}
	}
	require.FailNow(t, "no example target "+name)
	return exampleTarget{}
}

// gorillaEchoMessages are what the Node client sends to the echo example.
var gorillaEchoMessages = []struct {
	Data   string `json:"data"`
	Binary bool   `json:"binary"`
}{
	{"hello from node", false},
	{"héllo wörld ✓ 日本語 🎉", false},
	{"", false},
	{strings.Repeat("0123456789", 7000), false},
	{"AAEC/w==", true}, // 00 01 02 ff
}

func TestGorillaEchoExample(t *testing.T) {
	msgs, err := json.Marshal(gorillaEchoMessages)
	require.NoError(t, err)
	for _, impl := range exampleImpls {
		t.Run(impl, func(t *testing.T) {
			server, dir := requireExample(t, exampleTargetNamed(t, "echo-server"), impl)
			client, _ := requireExample(t, exampleTargetNamed(t, "echo-client"), impl)
			p, addr := startExampleServer(t, server, dir)

			status, page := httpGet(t, "http://"+addr+"/")
			assert.Equal(t, http.StatusOK, status)
			// html/template escapes the URL's slashes inside the script.
			assert.Contains(t, page, `new WebSocket("ws:\/\/`+addr+`\/echo")`, "home page")

			steps := runExampleNode(t, "echo", "ws://"+addr+"/echo", string(msgs))
			require.Len(t, steps, len(gorillaEchoMessages)+1, "steps: %+v", steps)
			for i, m := range gorillaEchoMessages {
				s := steps[i]
				require.Equal(t, "echo", s.Step)
				require.NotNil(t, s.Got, "message %d not echoed", i)
				assert.Equal(t, m.Data, *s.Got, "echo of message %d", i)
				assert.Equal(t, m.Binary, s.Binary, "echo of message %d is binary", i)
			}
			closeStep := steps[len(steps)-1]
			assert.Equal(t, "close", closeStep.Step)
			assert.Equal(t, 1000, closeStep.Code, "close code the echo server answered with")
			assert.Empty(t, closeStep.Reason, "close reason the echo server answered with")

			// gorilla's echo client sends the time every second and logs each
			// echo; an interrupt makes it close cleanly and exit.
			c := startExample(t, client, dir, "-addr", addr)
			deadline := time.Now().Add(15 * time.Second)
			for !strings.Contains(c.output.String(), "recv: ") {
				require.False(t, c.exited(), "echo client exited: %v\n%s", c.err, c.output.String())
				require.True(t, time.Now().Before(deadline), "echo client logged no echo in 15 s:\n%s", c.output.String())
				time.Sleep(50 * time.Millisecond)
			}
			require.NoError(t, c.cmd.Process.Signal(os.Interrupt))
			select {
			case <-c.done:
				assert.NoError(t, c.err, "echo client exit:\n%s", c.output.String())
			case <-time.After(10 * time.Second):
				require.FailNow(t, "echo client did not exit within 10 s of the interrupt", c.output.String())
			}
			assert.Contains(t, c.output.String(), "interrupt", "echo client output")
			assert.NotContains(t, c.output.String(), "write close:", "echo client output")
			t.Logf("%s echo client:\n%s", impl, c.output.String())
			requireNoRace(t, c)
			requireNoRace(t, p)
		})
	}
}

func TestGorillaChatExample(t *testing.T) {
	home, err := os.ReadFile(filepath.Join(gorillaExamplesDir(t), "chat", "home.html"))
	require.NoError(t, err)
	for _, impl := range exampleImpls {
		t.Run(impl, func(t *testing.T) {
			bin, dir := requireExample(t, exampleTargetNamed(t, "chat"), impl)
			p, addr := startExampleServer(t, bin, dir)

			status, page := httpGet(t, "http://"+addr+"/")
			assert.Equal(t, http.StatusOK, status)
			assert.Equal(t, string(home), page, "home.html served from the working directory")

			steps := runExampleNode(t, "chat", "ws://"+addr+"/ws")
			require.Len(t, steps, 2, "steps: %+v", steps)
			// The hub sends every message to every client, the sender
			// included; readPump turns newlines into spaces and trims.
			shared := []string{"B joined", "hello from A", "line one line two", "padded",
				"burst 1", "burst 2", "burst 3", "burst 4", "burst 5"}
			a, b := steps[0], steps[1]
			require.Equal(t, "A", a.Client)
			require.Equal(t, "B", b.Client)
			assert.Equal(t, append([]string{"A joined"}, shared...), a.Lines, "messages at A")
			assert.Equal(t, shared, b.Lines, "messages at B")
			// 600 bytes exceed the chat's read limit of 512.
			assert.Equal(t, 1009, b.Code, "close code after B's oversized message")
			assert.Equal(t, 1000, a.Code, "close code answering A's close")
			t.Logf("%s: A got %d lines in %d frames, B %d lines in %d frames", impl, len(a.Lines), a.Frames, len(b.Lines), b.Frames)
			requireNoRace(t, p)
		})
	}
}

func TestGorillaCommandExample(t *testing.T) {
	cat, err := exec.LookPath("cat")
	if err != nil {
		t.Skip("cat is not in PATH: the command example is checked by TestGorillaExamplesBuild only")
	}
	type message struct {
		Data   string `json:"data"`
		Binary bool   `json:"binary"`
	}
	// The example writes each message and a newline to the command's stdin
	// and sends each line of its stdout as a text message.
	sent := []message{{"hello from node", false}, {"héllo wörld ✓ 日本語 🎉", false}, {"", false}}
	msgs, err := json.Marshal(sent)
	require.NoError(t, err)
	for _, impl := range exampleImpls {
		t.Run(impl, func(t *testing.T) {
			bin, dir := requireExample(t, exampleTargetNamed(t, "command"), impl)
			p, addr := startExampleServer(t, bin, dir, cat)
			steps := runExampleNode(t, "echo", "ws://"+addr+"/ws", string(msgs))
			require.Len(t, steps, len(sent)+1, "steps: %+v", steps)
			for i, m := range sent {
				require.NotNil(t, steps[i].Got, "line %d not sent back", i)
				assert.Equal(t, m.Data, *steps[i].Got, "line %d from cat", i)
				assert.False(t, steps[i].Binary, "line %d is text", i)
			}
			assert.Equal(t, 1000, steps[len(sent)].Code, "close code the command example answered with")
			requireNoRace(t, p)
		})
	}
}

func TestGorillaFilewatchExample(t *testing.T) {
	for _, impl := range exampleImpls {
		t.Run(impl, func(t *testing.T) {
			t.Parallel()
			bin, dir := requireExample(t, exampleTargetNamed(t, "filewatch"), impl)
			file := filepath.Join(t.TempDir(), "watched.txt")
			require.NoError(t, os.WriteFile(file, []byte("first version\n"), 0o644))
			p, addr := startExampleServer(t, bin, dir, file)

			// The page shows the file and opens /ws?lastMod=<its mtime>, as
			// a browser would; the example sends the file once it changes.
			status, page := httpGet(t, "http://"+addr+"/")
			require.Equal(t, http.StatusOK, status)
			assert.Contains(t, page, "first version")
			m := regexp.MustCompile(`ws://` + regexp.QuoteMeta(addr) + `/ws\?lastMod=([0-9a-f]+)`).FindStringSubmatch(page)
			require.NotNil(t, m, "page has no /ws URL:\n%s", page)
			lastMod, err := strconv.ParseInt(m[1], 16, 64)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(file, []byte("second version\n"), 0o644))
			newMod := time.Unix(0, lastMod).Add(time.Second)
			require.NoError(t, os.Chtimes(file, newMod, newMod))

			steps := runExampleNode(t, "recv", m[0])
			require.Len(t, steps, 1)
			require.NotNil(t, steps[0].Got, "no message from /ws")
			assert.Equal(t, "second version\n", *steps[0].Got)
			requireNoRace(t, p)
		})
	}
}
