package loadgen

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestServerHeapKiB(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle(HeapPath, HeapHandler())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")
	kib, err := serverHeapKiB(t.Context(), addr, HeapPath, 5*time.Second)
	require.NoError(t, err)
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	assert.Positive(t, kib)
	assert.LessOrEqual(t, kib, int64(m.Sys/1024), "the heap is part of what the runtime obtained")

	_, err = serverHeapKiB(t.Context(), addr, "/elsewhere", 5*time.Second)
	assert.ErrorContains(t, err, "status 404")
}
