package hubbench

import (
	"flag"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var subscribers = flag.Int("subscribers", 10000, "subscribers of BenchmarkFanout")

func TestMain(m *testing.M) {
	MaybeRunLoad()
	os.Exit(m.Run())
}

// TestSmoke runs every system with 50 subscribers and 3 publications:
// each reaches all of them, with latencies measured.
func TestSmoke(t *testing.T) {
	r, err := StartRedis()
	require.NoError(t, err)
	defer r.Stop()
	for _, sys := range Systems {
		t.Run(sys.Name, func(t *testing.T) {
			const subs, pubs = 50, 3
			run, err := Start(sys, r.Addr, subs, os.Args[0])
			require.NoError(t, err)
			defer run.Stop()
			for seq := range pubs {
				require.NoError(t, run.PublishOne(seq))
			}
			res, err := run.Result()
			require.NoError(t, err)
			assert.Equal(t, subs*pubs, res.Deliveries)
			assert.Greater(t, res.DeliveriesSec, 0.0)
			assert.Greater(t, res.P99, time.Duration(0))
			assert.GreaterOrEqual(t, res.P99, res.P50)
		})
	}
}

func TestPayload(t *testing.T) {
	p := payload(42, 1234567890123)
	assert.Len(t, p, PayloadSize)
	var got [][2]int64
	twice := append(append([]byte(`{"push":{"pub":{"data":`), p...), append([]byte("}}}\n"), payload(43, 7)...)...)
	require.NoError(t, parsePayloads(twice, func(seq int, ts int64) { got = append(got, [2]int64{int64(seq), ts}) }))
	assert.Equal(t, [][2]int64{{42, 1234567890123}, {43, 7}}, got)
	assert.Error(t, parsePayloads([]byte(`{"seq":x,"t":1,`), func(int, int64) {}))
	assert.True(t, hasPing([]byte("{}")))
	assert.True(t, hasPing([]byte(`{"push":{}}`+"\n{}")))
	assert.False(t, hasPing([]byte(`{"push":{}}`)))
}

// BenchmarkFanout publishes b.N 1 KiB messages, one at a time, to
// -subscribers subscribers of each system, and reports deliveries per
// second, publish-to-delivery latency percentiles, and the CPU time the
// servers (and redis-server) spent per delivery.
func BenchmarkFanout(b *testing.B) {
	r, err := StartRedis()
	require.NoError(b, err)
	defer r.Stop()
	for _, sys := range Systems {
		b.Run(sys.Name, func(b *testing.B) {
			run, err := Start(sys, r.Addr, *subscribers, os.Args[0])
			require.NoError(b, err)
			defer run.Stop()
			require.NoError(b, run.PublishOne(maxSeq-1)) // warm-up
			_, err = run.Result()
			require.NoError(b, err)
			b.ReportAllocs()
			cpu0, redis0 := selfCPU(), r.CPU()
			b.ResetTimer()
			for i := range b.N {
				require.NoError(b, run.PublishOne(i%(maxSeq-1)))
			}
			b.StopTimer()
			deliveries := float64(b.N * *subscribers)
			b.ReportMetric(float64((selfCPU()-cpu0).Microseconds())/deliveries, "server-cpu-µs/delivery")
			if sys.Redis {
				b.ReportMetric(float64((r.CPU()-redis0).Microseconds())/deliveries, "redis-cpu-µs/delivery")
			}
			res, err := run.Result()
			require.NoError(b, err)
			b.ReportMetric(res.DeliveriesSec, "deliveries/s")
			b.ReportMetric(float64(res.P50.Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(res.P99.Microseconds())/1000, "p99-ms")
		})
	}
}
