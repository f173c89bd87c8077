package driver

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/wsup/websocket/internal/bench/loadgen"
)

// Baseline is the implementation every ratio is computed against.
const Baseline = "gorilla"

// metric is one row of the table for a workload.
type metric struct {
	label string
	value func(loadgen.Result) float64
	// format renders a median.
	format func(float64) string
}

// metricsFor returns the rows reported for workload w: compressed idle
// workloads report the larger of RSS and heap growth, compressed echo
// workloads (throughput, latency) add the wire bytes per echoed message.
func metricsFor(w loadgen.Workload) []metric {
	msgs := metric{"msg/s", func(r loadgen.Result) float64 { return r.MsgsPerSec }, formatRate}
	cpu := metric{"server CPU µs/msg", func(r loadgen.Result) float64 { return r.CPUPerMsgMicros }, formatFloat}
	wire := metric{"wire B/msg (server → client)", func(r loadgen.Result) float64 { return r.WireBytesPerMsg }, formatFloat}
	switch k := w.Kind; {
	case k == loadgen.Idle && w.Compress:
		return []metric{{"KiB/conn, max(RSS, heap)", func(r loadgen.Result) float64 { return r.MemPerConnKiB }, formatFloat}}
	case w.Compress && (k == loadgen.Throughput || k == loadgen.Latency):
		return append(metricsFor(loadgen.Workload{Kind: k}), wire)
	}
	switch w.Kind {
	case loadgen.Latency:
		p99 := metric{"p99 latency", func(r loadgen.Result) float64 { return float64(r.P99) }, formatDuration}
		return []metric{p99, msgs, cpu}
	case loadgen.Idle:
		return []metric{{"RSS KiB/conn", func(r loadgen.Result) float64 { return r.RSSPerConnKiB }, formatFloat}}
	case loadgen.Broadcast:
		return []metric{
			{"server CPU µs/delivery", func(r loadgen.Result) float64 { return r.CPUPerMsgMicros }, formatFloat},
			{"time to last client", func(r loadgen.Result) float64 { return float64(r.LastClientP50) }, formatDuration},
			{"deliveries/s", func(r loadgen.Result) float64 { return r.MsgsPerSec }, formatRate},
		}
	case loadgen.Churn:
		return []metric{
			{"server CPU µs/conn", func(r loadgen.Result) float64 { return r.CPUPerMsgMicros }, formatFloat},
			{"conns/s", func(r loadgen.Result) float64 { return r.MsgsPerSec }, formatRate},
		}
	default:
		return []metric{msgs, cpu}
	}
}

// Markdown renders the medians of samples as a table with one row per
// workload metric and one column per impl; each cell is "median (ratio)"
// with the ratio taken against Baseline (1.00). When Limit is among the
// impls, one more column per other impl gives its median divided by
// Limit's on throughput and latency rows. Cells whose runs all failed read
// "fail", cells of an impl without a server for the workload (Supports)
// read "—"; failures are listed below the table. Safe for concurrent use.
func Markdown(cfg Config, samples []Sample) string {
	var b strings.Builder
	vsLimit := limitColumns(cfg)
	b.WriteString("| Workload | Metric |")
	for _, impl := range cfg.Impls {
		fmt.Fprintf(&b, " %s |", impl)
	}
	for _, impl := range vsLimit {
		fmt.Fprintf(&b, " %s ÷ limit |", impl)
	}
	b.WriteString("\n|---|---|")
	for range len(cfg.Impls) + len(vsLimit) {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	for _, w := range cfg.Workloads {
		title := w.Title
		switch {
		case w.Kind == loadgen.Idle && w.Compress:
			conns := w.Conns
			if cfg.IdleConns > 0 {
				conns = cfg.IdleConns
			}
			title = fmt.Sprintf("%s, %d conns", w.Title, conns)
		case w.Kind == loadgen.Idle && cfg.IdleConns > 0:
			title = fmt.Sprintf("idle, %d conns", cfg.IdleConns)
		}
		for i, m := range metricsFor(w) {
			if i == 0 {
				fmt.Fprintf(&b, "| %s | %s |", title, m.label)
			} else {
				fmt.Fprintf(&b, "| | %s |", m.label)
			}
			base, baseOK := median(samples, Baseline, w.Name, m)
			for _, impl := range cfg.Impls {
				v, ok := median(samples, impl, w.Name, m)
				switch {
				case !Supports(impl, w):
					b.WriteString(" — |")
				case !ok:
					b.WriteString(" fail |")
				case baseOK && base != 0:
					fmt.Fprintf(&b, " %s (%.2f) |", m.format(v), v/base)
				default:
					fmt.Fprintf(&b, " %s |", m.format(v))
				}
			}
			lim, limOK := median(samples, Limit, w.Name, m)
			for _, impl := range vsLimit {
				v, ok := median(samples, impl, w.Name, m)
				if limitRatio(w.Kind) && ok && limOK && lim != 0 {
					fmt.Fprintf(&b, " %.2f |", v/lim)
				} else {
					b.WriteString(" |")
				}
			}
			b.WriteString("\n")
		}
	}
	if fails := failures(samples); len(fails) > 0 {
		b.WriteString("\nFailed runs (excluded from medians):\n\n")
		for _, f := range fails {
			fmt.Fprintf(&b, "- %s\n", f)
		}
	}
	return b.String()
}

// limitColumns returns the impls that get a "÷ limit" column: every impl
// but Limit that runs at least one workload whose rows show the ratio,
// provided Limit is among cfg.Impls.
func limitColumns(cfg Config) []string {
	if !slices.Contains(cfg.Impls, Limit) {
		return nil
	}
	var out []string
	for _, impl := range cfg.Impls {
		if impl == Limit {
			continue
		}
		for _, w := range cfg.Workloads {
			if limitRatio(w.Kind) && Supports(impl, w) && Supports(Limit, w) {
				out = append(out, impl)
				break
			}
		}
	}
	return out
}

// median returns the median of metric m over the successful samples of
// impl and workload, and false when there are none.
func median(samples []Sample, impl, workload string, m metric) (float64, bool) {
	var vs []float64
	for _, s := range samples {
		if s.Impl == impl && s.Workload == workload && s.Err == "" {
			vs = append(vs, m.value(s.Result))
		}
	}
	if len(vs) == 0 {
		return 0, false
	}
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 1 {
		return vs[n/2], true
	}
	return (vs[n/2-1] + vs[n/2]) / 2, true
}

// failures lists failed runs, collapsing identical impl/workload/error
// triples.
func failures(samples []Sample) []string {
	var out []string
	seen := map[string]int{}
	for _, s := range samples {
		if s.Err == "" {
			continue
		}
		msg := s.Err
		if len(msg) > 300 {
			msg = msg[:300] + "…"
		}
		key := fmt.Sprintf("%s / %s: %s", s.Impl, s.Workload, strings.ReplaceAll(msg, "\n", " "))
		if _, ok := seen[key]; !ok {
			seen[key] = len(out)
			out = append(out, key)
		}
	}
	return out
}

// Verified sums, over samples, the verified echoes, verified bytes and
// mismatched messages (failed runs included).
func Verified(samples []Sample) (messages, bytes, mismatches int64) {
	for _, s := range samples {
		messages += s.Result.TotalMessages
		bytes += s.Result.VerifiedBytes
		mismatches += s.Result.Mismatches
	}
	return messages, bytes, mismatches
}

// formatRate renders a message rate with a k/M suffix.
func formatRate(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fM", v/1e6)
	case v >= 1e4:
		return fmt.Sprintf("%.0fk", v/1e3)
	case v >= 1e3:
		return fmt.Sprintf("%.1fk", v/1e3)
	default:
		return fmt.Sprintf("%.0f", v)
	}
}

// formatFloat renders v with three significant digits.
func formatFloat(v float64) string {
	switch a := math.Abs(v); {
	case a >= 100:
		return fmt.Sprintf("%.0f", v)
	case a >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// formatDuration renders nanoseconds as µs or ms.
func formatDuration(v float64) string {
	d := time.Duration(v)
	if d >= time.Millisecond {
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}
