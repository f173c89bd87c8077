package interop

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	coder "github.com/coder/websocket"
	gorilla "github.com/gorilla/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/wsup/websocket"
)

// dialEcho checks our Dialer against an echo server at url: text, non-ASCII
// and binary messages up to 1 MiB come back intact, a ping is answered, and
// the closing handshake completes. wantDeflate says whether
// permessage-deflate must have been negotiated.
func dialEcho(t *testing.T, d *websocket.Dialer, url string, wantDeflate bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	c, resp, err := d.DialContext(ctx, url, nil)
	require.NoError(t, err)
	ext := resp.Header.Get("Sec-WebSocket-Extensions")
	if wantDeflate {
		assert.Contains(t, ext, "permessage-deflate")
	} else {
		assert.Empty(t, ext)
	}
	pongs := make(chan string, 1)
	c.SetPongHandler(func(s string) error { pongs <- s; return nil })
	require.NoError(t, c.SetReadDeadline(time.Now().Add(ioTimeout)))
	msgs := []struct {
		typ  int
		data []byte
	}{
		{websocket.TextMessage, []byte("hello")},
		{websocket.TextMessage, utf8Payload(70000)},
		{websocket.BinaryMessage, nil},
		{websocket.BinaryMessage, binaryPayload(125, 1)},
		{websocket.BinaryMessage, binaryPayload(65536, 2)},
		{websocket.BinaryMessage, bytes.Repeat([]byte(`{"k":"repetitive"}`), 60000)},
	}
	for _, m := range msgs {
		require.NoError(t, c.WriteMessage(m.typ, m.data))
		typ, got, err := c.ReadMessage()
		require.NoError(t, err)
		assert.Equal(t, m.typ, typ)
		assertSamePayload(t, m.data, got)
	}
	require.NoError(t, c.WriteControl(websocket.PingMessage, []byte("are you there"), time.Now().Add(ioTimeout)))
	require.NoError(t, c.WriteMessage(websocket.TextMessage, []byte("after ping")))
	_, got, err := c.ReadMessage() // the pong is handled inside
	require.NoError(t, err)
	assert.Equal(t, "after ping", string(got))
	assert.Equal(t, "are you there", recv(t, pongs, "pong"))
	require.NoError(t, c.Close())
}

// TestDialerPeerServers runs our Dialer against gorilla's and coder's
// servers, compression on and off.
func TestDialerPeerServers(t *testing.T) {
	gorillaEcho := func(compress bool) http.Handler {
		up := gorilla.Upgrader{EnableCompression: compress}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			c.SetReadLimit(clientReadLimit)
			for {
				typ, p, err := c.ReadMessage()
				if err != nil || c.WriteMessage(typ, p) != nil {
					return
				}
			}
		})
	}
	coderEcho := func(compress bool) http.Handler {
		mode := coder.CompressionDisabled
		if compress {
			mode = coder.CompressionContextTakeover
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := coder.Accept(w, r, &coder.AcceptOptions{CompressionMode: mode})
			if err != nil {
				return
			}
			defer c.CloseNow()
			c.SetReadLimit(clientReadLimit)
			for {
				typ, p, err := c.Read(r.Context())
				if err != nil || c.Write(r.Context(), typ, p) != nil {
					return
				}
			}
		})
	}
	for _, compress := range []bool{false, true} {
		for name, h := range map[string]http.Handler{"gorilla": gorillaEcho(compress), "coder": coderEcho(compress)} {
			t.Run(name+map[bool]string{false: "/plain", true: "/deflate"}[compress], func(t *testing.T) {
				srv := httptest.NewServer(h)
				defer srv.Close()
				d := &websocket.Dialer{EnableCompression: compress}
				dialEcho(t, d, "ws"+strings.TrimPrefix(srv.URL, "http"), compress)
			})
		}
	}
}

// TestDialerNodeServer runs our Dialer against Node's ws server over ws://
// and wss://, compression on and off.
func TestDialerNodeServer(t *testing.T) {
	node := requireNode(t)
	certFile, keyFile, pool := selfSignedCert(t)
	for _, secure := range []bool{false, true} {
		for _, deflate := range []bool{false, true} {
			name := map[bool]string{false: "ws", true: "wss"}[secure] + map[bool]string{false: "/plain", true: "/deflate"}[deflate]
			t.Run(name, func(t *testing.T) {
				args := []string{"node/server.mjs"}
				if deflate {
					args = append(args, "--deflate")
				}
				if secure {
					args = append(args, "--tls", certFile, keyFile)
				}
				port := startNodeServer(t, node, args)
				d := &websocket.Dialer{EnableCompression: deflate}
				scheme := "ws"
				if secure {
					scheme = "wss"
					d.TLSClientConfig = &tls.Config{RootCAs: pool}
				}
				dialEcho(t, d, scheme+"://127.0.0.1:"+port+"/", deflate)
			})
		}
	}
}

// startNodeServer runs node with args and returns the port it listens on.
// The server exits when the test ends (its stdin closes).
func startNodeServer(t *testing.T, node string, args []string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	cmd := exec.CommandContext(ctx, node, args...)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.Stderr = os.Stderr
	cmd.WaitDelay = 5 * time.Second
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Wait()
		cancel()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	require.NoError(t, err, "node server did not start")
	port, ok := strings.CutPrefix(strings.TrimSpace(line), "listening ")
	require.True(t, ok, "node server said %q", line)
	return port
}

// selfSignedCert writes a certificate for 127.0.0.1 and its key to files
// and returns them with a pool that trusts the certificate.
func selfSignedCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "wsup interop"},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600))
	require.NoError(t, os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600))
	cert, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}
