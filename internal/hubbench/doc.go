// Package hubbench measures broadcast fan-out: one 1 KiB message
// published to many WebSocket subscribers, through package hub (with its
// in-process broker on one server, and with hub/redis across two servers)
// and, as the anchor, through github.com/centrifugal/centrifuge doing the
// same (its memory broker, and its Redis broker over the same
// redis-server).
//
// The subscribers live in a child process (this test binary run again),
// so that the servers' 10,000 connections and the clients' 10,000 fit in
// the machine's limit of open files per process; both sides run on the
// same machine, over loopback, and share its cores with redis-server.
//
// Each publication carries its sequence number and the time it was
// published (the wall clock, the same in both processes). The child
// reports when every subscriber has it; the benchmark then publishes the
// next. Reported per system:
//
//   - deliveries/s: subscribers × publications / the time from each
//     publication to its last delivery, summed;
//   - p50-ms, p99-ms: publish-to-delivery latency over every delivery;
//   - server-cpu-µs/delivery: the CPU time of this process (the servers
//     and the publisher) per delivery, and redis-cpu-µs/delivery that of
//     redis-server: steadier than the two above when other work shares
//     the machine.
//
// Run it (about 5 minutes; -subscribers defaults to 10000):
//
//	go -C internal/hubbench test -run '^$' -bench Fanout -benchtime 20x -timeout 30m
//
// It needs Debian's redis-server (scripts/test.sh installs it). CI runs
// TestSmoke only: every system with 50 subscribers.
package hubbench
