package loadgen

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var statCases = []struct {
	name    string
	in      string
	want    time.Duration
	wantErr bool
}{
	{name: "plain", in: "42 (echoserver) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 5 0 100 0 0", want: 3 * time.Second},
	{name: "comm with spaces and parens", in: "7 (a) b (c) R 1 7 7 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 1 0 0", want: 30 * time.Millisecond},
	{name: "no paren", in: "7 a R 1", wantErr: true},
	{name: "too few fields", in: "7 (a) R 1 2 3", wantErr: true},
	{name: "negative", in: "7 (a) R 1 7 7 0 -1 0 0 0 0 0 -1 2 0", wantErr: true},
	{name: "overflows a Duration", in: "7 (a) R 1 7 7 0 -1 0 0 0 0 0 9223372036854775807 0 0", wantErr: true},
	{name: "field past the bound", in: "7 (a) R 1 7 7 0 -1 0 0 0 0 0 461168601842738 461168601842738 0", wantErr: true},
	{name: "largest accepted", in: "7 (a) R 1 7 7 0 -1 0 0 0 0 0 461168601842 0 0", want: 461168601842 * 10 * time.Millisecond},
	{name: "not a number", in: "7 (a) R 1 7 7 0 -1 0 0 0 0 0 x 2 0", wantErr: true},
}

func TestParseStatCPU(t *testing.T) {
	for _, tc := range statCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tc.in))
			if tc.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func FuzzParseStatCPU(f *testing.F) {
	for _, tc := range statCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if d, err := parseStatCPU(b); err == nil && d < 0 {
			t.Fatalf("negative CPU time %v", d)
		}
	})
}

var rssCases = []struct {
	name    string
	in      string
	want    int64
	wantErr bool
}{
	{name: "ok", in: "Name:\tx\nVmHWM:\t  900 kB\nVmRSS:\t  812 kB\nThreads: 3\n", want: 812},
	{name: "missing", in: "Name:\tx\n", wantErr: true},
	{name: "no unit", in: "VmRSS:\t812\n", wantErr: true},
	{name: "bad number", in: "VmRSS:\t8x2 kB\n", wantErr: true},
}

func TestParseStatusRSS(t *testing.T) {
	for _, tc := range rssCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatusRSS([]byte(tc.in))
			if tc.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func FuzzParseStatusRSS(f *testing.F) {
	for _, tc := range rssCases {
		f.Add([]byte(tc.in))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if v, err := parseStatusRSS(b); err == nil && v < 0 {
			t.Fatalf("negative RSS %d", v)
		}
	})
}

func TestProcessStatsSelf(t *testing.T) {
	_, err := ProcessCPU(os.Getpid())
	require.NoError(t, err)
	rss, err := ProcessRSSKiB(os.Getpid())
	require.NoError(t, err)
	assert.Positive(t, rss)
	_, err = ProcessCPU(-1)
	assert.Error(t, err)
}

func TestRaiseNoFile(t *testing.T) {
	cur, err := RaiseNoFile(64)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, cur, uint64(64))
	_, err = RaiseNoFile(1 << 62)
	assert.Error(t, err, "no system allows 2^62 descriptors")
}
