package websocket_test

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"

	"github.com/wsup/websocket"
)

// An origin allow-list and a Host check, for a service on a local port
// whose pages come from that same port. The default origin check only
// compares the Origin's host with the request's Host: it ignores the
// scheme, and a page of another site whose name was rebound to this
// address (DNS rebinding) sends a matching Origin and Host. The allow-list
// names every accepted origin exactly (scheme://host:port, as browsers
// send it), and the Host check refuses names the service does not answer
// to. The output compares both endpoints; 421 is Misdirected Request.
func ExampleUpgrader_checkOriginAllowList() {
	mux := http.NewServeMux()
	srv := httptest.NewUnstartedServer(mux) // listening on 127.0.0.1:port
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	_, port, _ := net.SplitHostPort(addr)

	// A real service lists its own names here, such as
	// "localhost:8080" and "127.0.0.1:8080".
	allowedHosts := map[string]bool{addr: true}
	allowedOrigins := map[string]bool{"http://" + addr: true}
	strict := &websocket.Upgrader{
		CheckOrigin: func(r *http.Request) bool {
			// One Origin, listed exactly. A request without Origin (not
			// from a browser) is refused as well; accept it only if such
			// clients authenticate otherwise.
			origins := r.Header.Values("Origin")
			return len(origins) == 1 && allowedOrigins[origins[0]]
		},
	}
	mux.HandleFunc("/strict", func(w http.ResponseWriter, r *http.Request) {
		if !allowedHosts[r.Host] {
			http.Error(w, "unknown host", http.StatusMisdirectedRequest)
			return
		}
		if c, err := strict.Upgrade(w, r, nil); err == nil {
			c.Close()
		}
	})
	lax := &websocket.Upgrader{} // the default origin check
	mux.HandleFunc("/default", func(w http.ResponseWriter, r *http.Request) {
		if c, err := lax.Upgrade(w, r, nil); err == nil {
			c.Close()
		}
	})
	srv.Start()

	status := func(path string, header http.Header) int {
		c, resp, _ := websocket.DefaultDialer.Dial("ws://"+addr+path, header)
		if c != nil {
			c.Close()
		}
		if resp == nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	rebound := "attacker.example:" + port
	cases := []struct {
		page   string
		header http.Header
	}{
		{"own page", http.Header{"Origin": {"http://" + addr}}},
		{"other site", http.Header{"Origin": {"https://evil.example"}}},
		{"own host, https", http.Header{"Origin": {"https://" + addr}}},
		{"DNS-rebound page", http.Header{"Origin": {"http://" + rebound}, "Host": {rebound}}},
		{"no Origin", nil},
	}
	for _, tc := range cases {
		fmt.Printf("%-17s default %d, allow-list %d\n", tc.page+":", status("/default", tc.header), status("/strict", tc.header))
	}
	// Output:
	// own page:         default 101, allow-list 101
	// other site:       default 403, allow-list 403
	// own host, https:  default 101, allow-list 403
	// DNS-rebound page: default 101, allow-list 421
	// no Origin:        default 101, allow-list 403
}
