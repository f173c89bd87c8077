package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClient runs the -client mode against the echo handler: every line
// comes back, in order.
func TestClient(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(echo))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	var out strings.Builder
	in := strings.NewReader("hello\nhéllo 🌍\n\nlast line")
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/echo"
	require.NoError(t, runClient(ctx, url, in, &out))
	assert.Equal(t, "echo: hello\necho: héllo 🌍\necho: \necho: last line\n", out.String())
}

// TestClientNoServer checks that the client reports a server it cannot
// reach instead of hanging.
func TestClientNoServer(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens at its address any more
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := runClient(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/echo", strings.NewReader("x\n"), &strings.Builder{})
	assert.Error(t, err)
}
