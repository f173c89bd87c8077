package driver

import "github.com/wsup/websocket/internal/bench/loadgen"

// Limit is the floor implementation: not a library, the least work any Go
// echo must do per message. Every other implementation's throughput and
// latency figures are also shown as a ratio to it.
const Limit = "limit"

// Supports reports whether impl has a server for workload w: "limit" has
// no compression and no broadcast server, and "wsup-upgrade" (wsup with
// Upgrade inside a handler that keeps running) is only measured idle,
// which is where it differs from wsup. Every other impl runs everything.
func Supports(impl string, w loadgen.Workload) bool {
	switch impl {
	case Limit:
		return !w.Compress && w.Kind != loadgen.Broadcast
	case "wsup-upgrade":
		return w.Kind == loadgen.Idle
	}
	return true
}

// limitRatio reports whether the rows of workload kind k also show each
// implementation's ratio to Limit.
func limitRatio(k loadgen.Kind) bool {
	return k == loadgen.Throughput || k == loadgen.Latency
}
