package loadgen

import (
	"encoding/json"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWorkloadsValid(t *testing.T) {
	seen := map[string]bool{}
	for _, w := range Workloads {
		assert.NoError(t, w.Validate(), w.Name)
		assert.False(t, seen[w.Name], "duplicate %s", w.Name)
		seen[w.Name] = true
		got, err := LookupWorkload(w.Name)
		require.NoError(t, err)
		assert.Equal(t, w, got)
	}
	_, err := LookupWorkload("nope")
	assert.Error(t, err)
}

func TestWorkloadValidateRejects(t *testing.T) {
	good := Workload{Name: "x", Kind: Throughput, Payload: PayloadText, Size: 1, Conns: 1, InFlight: 1}
	require.NoError(t, good.Validate())
	for _, tc := range []struct {
		name string
		mut  func(*Workload)
	}{
		{"kind", func(w *Workload) { w.Kind = "x" }},
		{"payload", func(w *Workload) { w.Payload = "x" }},
		{"size 0", func(w *Workload) { w.Size = 0 }},
		{"size huge", func(w *Workload) { w.Size = MaxSize + 1 }},
		{"conns 0", func(w *Workload) { w.Conns = 0 }},
		{"load conns", func(w *Workload) { w.Conns = MaxLoadConns + 1 }},
		{"idle conns", func(w *Workload) { w.Kind = Idle; w.Conns = MaxIdleConns + 1 }},
		{"inflight", func(w *Workload) { w.InFlight = MaxInFlight + 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := good
			tc.mut(&w)
			assert.Error(t, w.Validate())
		})
	}
}

func TestMakePayload(t *testing.T) {
	for _, kind := range []string{PayloadText, PayloadBinary, PayloadJSON} {
		for _, size := range []int{1, 2, 32, 100, 1 << 10, 16 << 10, 64 << 10} {
			p := makePayload(kind, size)
			require.Len(t, p, size, "%s %d", kind, size)
			assert.Equal(t, p, makePayload(kind, size), "deterministic")
			switch kind {
			case PayloadText:
				assert.True(t, utf8.Valid(p))
			case PayloadJSON:
				if size >= 2 {
					assert.True(t, json.Valid(p), "%s %d: %s", kind, size, p)
				}
			}
		}
	}
}

func TestWirePayloadCompresses(t *testing.T) {
	p := makePayload(PayloadJSON, 16<<10)
	z, err := wirePayload(p, true)
	require.NoError(t, err)
	assert.Less(t, len(z), len(p)/2, "JSON should compress well")
	v := echoVerifier{expected: p, deflate: true}
	v.zbuf = append(v.zbuf, z...)
	n, ok := v.inflate()
	assert.True(t, ok)
	assert.Equal(t, len(p), n)
}
