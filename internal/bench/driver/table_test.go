package driver

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/internal/bench/loadgen"
)

func sample(impl, workload string, round int, r loadgen.Result, err string) Sample {
	r.Workload = workload
	return Sample{Impl: impl, Workload: workload, Round: round, Result: r, Err: err}
}

func TestMarkdown(t *testing.T) {
	tput := loadgen.Workload{Name: "t", Title: "tput", Kind: loadgen.Throughput}
	lat := loadgen.Workload{Name: "l", Title: "lat", Kind: loadgen.Latency}
	idle := loadgen.Workload{Name: "i", Title: "idle", Kind: loadgen.Idle}
	cfg := Config{Impls: []string{"gorilla", "wsup", "coder"}, Workloads: []loadgen.Workload{tput, lat, idle}}
	samples := []Sample{
		// Medians: gorilla 100 (of 90, 100, 200), wsup 150 (of 100, 200).
		sample("gorilla", "t", 1, loadgen.Result{MsgsPerSec: 90, CPUPerMsgMicros: 2}, ""),
		sample("gorilla", "t", 2, loadgen.Result{MsgsPerSec: 200, CPUPerMsgMicros: 4}, ""),
		sample("gorilla", "t", 3, loadgen.Result{MsgsPerSec: 100, CPUPerMsgMicros: 3}, ""),
		sample("wsup", "t", 1, loadgen.Result{MsgsPerSec: 100, CPUPerMsgMicros: 1}, ""),
		sample("wsup", "t", 2, loadgen.Result{MsgsPerSec: 200, CPUPerMsgMicros: 2}, ""),
		sample("wsup", "t", 3, loadgen.Result{MsgsPerSec: 1e9, Mismatches: 1}, "1 mismatches"),
		sample("coder", "t", 1, loadgen.Result{}, "boom"),
		sample("gorilla", "l", 1, loadgen.Result{P99: 2 * time.Millisecond, MsgsPerSec: 20000, CPUPerMsgMicros: 5}, ""),
		sample("wsup", "l", 1, loadgen.Result{P99: 500 * time.Microsecond, MsgsPerSec: 40000, CPUPerMsgMicros: 5}, ""),
		sample("coder", "l", 1, loadgen.Result{P99: time.Millisecond, MsgsPerSec: 1.5e6, CPUPerMsgMicros: 150}, ""),
		sample("gorilla", "i", 1, loadgen.Result{RSSPerConnKiB: 20}, ""),
		sample("wsup", "i", 1, loadgen.Result{RSSPerConnKiB: 5}, ""),
		sample("coder", "i", 1, loadgen.Result{RSSPerConnKiB: 30}, ""),
	}
	got := Markdown(cfg, samples)
	want := `| Workload | Metric | gorilla | wsup | coder |
|---|---|---:|---:|---:|
| tput | msg/s | 100 (1.00) | 150 (1.50) | fail |
| | server CPU µs/msg | 3.00 (1.00) | 1.50 (0.50) | fail |
| lat | p99 latency | 2.00 ms (1.00) | 500 µs (0.25) | 1.00 ms (0.50) |
| | msg/s | 20k (1.00) | 40k (2.00) | 1.50M (75.00) |
| | server CPU µs/msg | 5.00 (1.00) | 5.00 (1.00) | 150 (30.00) |
| idle | RSS KiB/conn | 20.0 (1.00) | 5.00 (0.25) | 30.0 (1.50) |

Failed runs (excluded from medians):

- wsup / t: 1 mismatches
- coder / t: boom
`
	assert.Equal(t, want, got)
}

func TestMarkdownWithoutBaseline(t *testing.T) {
	w := loadgen.Workload{Name: "i", Title: "idle", Kind: loadgen.Idle}
	cfg := Config{Impls: []string{"gorilla", "wsup"}, Workloads: []loadgen.Workload{w}, IdleConns: 7}
	got := Markdown(cfg, []Sample{
		sample("gorilla", "i", 1, loadgen.Result{}, strings.Repeat("x", 400)),
		sample("wsup", "i", 1, loadgen.Result{RSSPerConnKiB: 4}, ""),
	})
	assert.Contains(t, got, "| idle, 7 conns | RSS KiB/conn | fail | 4.00 |")
	assert.Contains(t, got, strings.Repeat("x", 300)+"…")
	assert.NotContains(t, got, strings.Repeat("x", 301))
}

func TestFormat(t *testing.T) {
	for _, tc := range []struct {
		f    func(float64) string
		in   float64
		want string
	}{
		{formatRate, 999, "999"},
		{formatRate, 1500, "1.5k"},
		{formatRate, 123456, "123k"},
		{formatRate, 2.5e6, "2.50M"},
		{formatFloat, 1.234, "1.23"},
		{formatFloat, 12.34, "12.3"},
		{formatFloat, 123.4, "123"},
		{formatDuration, float64(1500 * time.Microsecond), "1.50 ms"},
		{formatDuration, float64(42 * time.Microsecond), "42 µs"},
	} {
		assert.Equal(t, tc.want, tc.f(tc.in))
	}
}

func TestConfigValidation(t *testing.T) {
	w, err := loadgen.LookupWorkload("idle10k")
	require.NoError(t, err)
	good := Config{BinDir: "x", Impls: []string{"gorilla"}, Workloads: []loadgen.Workload{w}, IdleConns: 9}
	c, err := good.withDefaults()
	require.NoError(t, err)
	assert.Equal(t, 3, c.Rounds)
	assert.Equal(t, 9, c.Workloads[0].Conns)
	for _, tc := range []struct {
		name string
		mut  func(*Config)
	}{
		{"no bin", func(c *Config) { c.BinDir = "" }},
		{"no impls", func(c *Config) { c.Impls = nil }},
		{"no workloads", func(c *Config) { c.Workloads = nil }},
		{"rounds", func(c *Config) { c.Rounds = 21 }},
		{"bad workload", func(c *Config) { c.Workloads = []loadgen.Workload{{Name: "bad"}} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := good
			c.Workloads = append([]loadgen.Workload(nil), good.Workloads...)
			tc.mut(&c)
			_, err := c.withDefaults()
			assert.Error(t, err)
		})
	}
}

func TestBoundedBuffer(t *testing.T) {
	b := &boundedBuffer{max: 5}
	n, err := b.Write([]byte("abc"))
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	n, err = b.Write([]byte("defgh"))
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	assert.Equal(t, "abcde", b.String())
}

func TestMarkdownLimitColumns(t *testing.T) {
	tput := loadgen.Workload{Name: "t", Title: "tput", Kind: loadgen.Throughput}
	defl := loadgen.Workload{Name: "d", Title: "defl", Kind: loadgen.Throughput, Compress: true}
	churn := loadgen.Workload{Name: "c", Title: "churn", Kind: loadgen.Churn}
	bcast := loadgen.Workload{Name: "b", Title: "bcast", Kind: loadgen.Broadcast}
	cfg := Config{Impls: []string{"gorilla", "wsup", Limit}, Workloads: []loadgen.Workload{tput, defl, churn, bcast}}
	samples := []Sample{
		sample("gorilla", "t", 1, loadgen.Result{MsgsPerSec: 100, CPUPerMsgMicros: 6}, ""),
		sample("wsup", "t", 1, loadgen.Result{MsgsPerSec: 300, CPUPerMsgMicros: 3}, ""),
		sample(Limit, "t", 1, loadgen.Result{MsgsPerSec: 200, CPUPerMsgMicros: 2}, ""),
		sample("gorilla", "d", 1, loadgen.Result{MsgsPerSec: 10, CPUPerMsgMicros: 60, WireBytesPerMsg: 3000}, ""),
		sample("wsup", "d", 1, loadgen.Result{MsgsPerSec: 20, CPUPerMsgMicros: 30, WireBytesPerMsg: 2400}, ""),
		sample("gorilla", "c", 1, loadgen.Result{MsgsPerSec: 1000, CPUPerMsgMicros: 100}, ""),
		sample("wsup", "c", 1, loadgen.Result{MsgsPerSec: 2000, CPUPerMsgMicros: 50}, ""),
		sample(Limit, "c", 1, loadgen.Result{MsgsPerSec: 4000, CPUPerMsgMicros: 25}, ""),
		sample("gorilla", "b", 1, loadgen.Result{MsgsPerSec: 1e4, CPUPerMsgMicros: 10, LastClientP50: time.Millisecond}, ""),
		sample("wsup", "b", 1, loadgen.Result{MsgsPerSec: 2e4, CPUPerMsgMicros: 5, LastClientP50: 500 * time.Microsecond}, ""),
	}
	want := `| Workload | Metric | gorilla | wsup | limit | gorilla ÷ limit | wsup ÷ limit |
|---|---|---:|---:|---:|---:|---:|
| tput | msg/s | 100 (1.00) | 300 (3.00) | 200 (2.00) | 0.50 | 1.50 |
| | server CPU µs/msg | 6.00 (1.00) | 3.00 (0.50) | 2.00 (0.33) | 3.00 | 1.50 |
| defl | msg/s | 10 (1.00) | 20 (2.00) | — | | |
| | server CPU µs/msg | 60.0 (1.00) | 30.0 (0.50) | — | | |
| | wire B/msg (server → client) | 3000 (1.00) | 2400 (0.80) | — | | |
| churn | server CPU µs/conn | 100 (1.00) | 50.0 (0.50) | 25.0 (0.25) | | |
| | conns/s | 1.0k (1.00) | 2.0k (2.00) | 4.0k (4.00) | | |
| bcast | server CPU µs/delivery | 10.0 (1.00) | 5.00 (0.50) | — | | |
| | time to last client | 1.00 ms (1.00) | 500 µs (0.50) | — | | |
| | deliveries/s | 10k (1.00) | 20k (2.00) | — | | |
`
	assert.Equal(t, want, Markdown(cfg, samples))
}
