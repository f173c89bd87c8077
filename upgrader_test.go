package websocket

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// newHandshakeRequest returns a valid client handshake request for
// http://example.com/ws.
func newHandshakeRequest() *http.Request {
	r := httptest.NewRequest(http.MethodGet, "http://example.com/ws", nil)
	r.Header.Set("Connection", "Upgrade")
	r.Header.Set("Upgrade", "websocket")
	r.Header.Set("Sec-WebSocket-Version", "13")
	r.Header.Set("Sec-WebSocket-Key", rfcSampleKey)
	return r
}

// rejectionCases each break one rule of a valid request. All are refused
// before the hijack, so an httptest.ResponseRecorder sees the response.
var rejectionCases = []struct {
	name       string
	mutate     func(r *http.Request)
	upgrader   Upgrader
	respHeader http.Header
	status     int
	sentinel   error
	header     map[string]string // response headers that must be present
}{
	{
		name:     "POST",
		mutate:   func(r *http.Request) { r.Method = http.MethodPost },
		status:   http.StatusMethodNotAllowed,
		sentinel: ErrBadMethod,
		header:   map[string]string{"Allow": "GET"},
	},
	{
		name:     "CONNECT",
		mutate:   func(r *http.Request) { r.Method = http.MethodConnect },
		status:   http.StatusMethodNotAllowed,
		sentinel: ErrBadMethod,
		header:   map[string]string{"Allow": "GET"},
	},
	{
		name: "plain browser GET",
		mutate: func(r *http.Request) {
			r.Header = http.Header{"Connection": {"keep-alive"}, "Accept": {"text/html"}}
		},
		status:   http.StatusUpgradeRequired,
		sentinel: ErrMissingUpgrade,
		header:   map[string]string{"Upgrade": "websocket", "Connection": "Upgrade"},
	},
	{
		name:     "no Upgrade header but Connection upgrade",
		mutate:   func(r *http.Request) { r.Header.Del("Upgrade") },
		status:   http.StatusUpgradeRequired,
		sentinel: ErrMissingUpgrade,
		header:   map[string]string{"Upgrade": "websocket"},
	},
	{
		name:     "empty Upgrade header counts as absent",
		mutate:   func(r *http.Request) { r.Header["Upgrade"] = []string{"", " , "} },
		status:   http.StatusUpgradeRequired,
		sentinel: ErrMissingUpgrade,
		header:   map[string]string{"Upgrade": "websocket"},
	},
	{
		name:     "Upgrade to another protocol",
		mutate:   func(r *http.Request) { r.Header.Set("Upgrade", "h2c") },
		status:   http.StatusBadRequest,
		sentinel: ErrMissingUpgrade,
	},
	{
		name:     "Connection without upgrade token",
		mutate:   func(r *http.Request) { r.Header.Set("Connection", "keep-alive") },
		status:   http.StatusBadRequest,
		sentinel: ErrMissingUpgrade,
	},
	{
		name:     "Connection missing",
		mutate:   func(r *http.Request) { r.Header.Del("Connection") },
		status:   http.StatusBadRequest,
		sentinel: ErrMissingUpgrade,
	},
	{
		name:     "version missing",
		mutate:   func(r *http.Request) { r.Header.Del("Sec-WebSocket-Version") },
		status:   http.StatusUpgradeRequired,
		sentinel: ErrBadVersion,
		header:   map[string]string{"Sec-WebSocket-Version": "13"},
	},
	{
		name:     "version 8",
		mutate:   func(r *http.Request) { r.Header.Set("Sec-WebSocket-Version", "8") },
		status:   http.StatusUpgradeRequired,
		sentinel: ErrBadVersion,
		header:   map[string]string{"Sec-WebSocket-Version": "13"},
	},
	{
		name:     "version list",
		mutate:   func(r *http.Request) { r.Header.Set("Sec-WebSocket-Version", "13, 8") },
		status:   http.StatusUpgradeRequired,
		sentinel: ErrBadVersion,
		header:   map[string]string{"Sec-WebSocket-Version": "13"},
	},
	{
		name:     "version repeated",
		mutate:   func(r *http.Request) { r.Header.Add("Sec-WebSocket-Version", "13") },
		status:   http.StatusUpgradeRequired,
		sentinel: ErrBadVersion,
		header:   map[string]string{"Sec-WebSocket-Version": "13"},
	},
	{
		name:     "key missing",
		mutate:   func(r *http.Request) { r.Header.Del("Sec-WebSocket-Key") },
		status:   http.StatusBadRequest,
		sentinel: ErrBadKey,
	},
	{
		name:     "key repeated",
		mutate:   func(r *http.Request) { r.Header.Add("Sec-WebSocket-Key", rfcSampleKey) },
		status:   http.StatusBadRequest,
		sentinel: ErrBadKey,
	},
	{
		name:     "key not base64",
		mutate:   func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "not a websocket key!!!!!") },
		status:   http.StatusBadRequest,
		sentinel: ErrBadKey,
	},
	{
		name:     "key of 15 bytes",
		mutate:   func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAA") },
		status:   http.StatusBadRequest,
		sentinel: ErrBadKey,
	},
	{
		name: "body with Content-Length",
		mutate: func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader("hello"))
			r.ContentLength = 5
		},
		status:   http.StatusBadRequest,
		sentinel: ErrRequestBody,
	},
	{
		name: "chunked body",
		mutate: func(r *http.Request) {
			r.Body = io.NopCloser(strings.NewReader("hello"))
			r.ContentLength = -1
			r.TransferEncoding = []string{"chunked"}
		},
		status:   http.StatusBadRequest,
		sentinel: ErrRequestBody,
	},
	{
		name:     "cross origin",
		mutate:   func(r *http.Request) { r.Header.Set("Origin", "https://evil.example") },
		status:   http.StatusForbidden,
		sentinel: ErrOriginDenied,
	},
	{
		name:     "custom CheckOrigin refuses",
		mutate:   func(r *http.Request) {},
		upgrader: Upgrader{CheckOrigin: func(*http.Request) bool { return false }},
		status:   http.StatusForbidden,
		sentinel: ErrOriginDenied,
	},
	{
		name:       "responseHeader sets Sec-WebSocket-Extensions",
		mutate:     func(r *http.Request) {},
		respHeader: http.Header{"Sec-Websocket-Extensions": {"permessage-deflate"}},
		status:     http.StatusInternalServerError,
		sentinel:   ErrBadResponseHeader,
	},
	{
		name:       "responseHeader sets non-canonical extensions key",
		mutate:     func(r *http.Request) {},
		respHeader: http.Header{"sec-websocket-extensions": {"x"}},
		status:     http.StatusInternalServerError,
		sentinel:   ErrBadResponseHeader,
	},
	{
		name:       "responseHeader sets Sec-WebSocket-Accept",
		mutate:     func(r *http.Request) {},
		respHeader: http.Header{"Sec-Websocket-Accept": {rfcSampleAccept}},
		status:     http.StatusInternalServerError,
		sentinel:   ErrBadResponseHeader,
	},
	{
		name:       "responseHeader sets Upgrade",
		mutate:     func(r *http.Request) {},
		respHeader: http.Header{"Upgrade": {"websocket"}},
		status:     http.StatusInternalServerError,
		sentinel:   ErrBadResponseHeader,
	},
	{
		name:       "responseHeader sets Connection",
		mutate:     func(r *http.Request) {},
		respHeader: http.Header{"Connection": {"close"}},
		status:     http.StatusInternalServerError,
		sentinel:   ErrBadResponseHeader,
	},
	{
		name:       "CRLF injection in value",
		mutate:     func(r *http.Request) {},
		respHeader: http.Header{"Set-Cookie": {"a=b\r\nX-Injected: 1"}},
		status:     http.StatusInternalServerError,
		sentinel:   ErrBadResponseHeader,
	},
	{
		name:       "LF in value",
		mutate:     func(r *http.Request) {},
		respHeader: http.Header{"X-A": {"a\nb"}},
		status:     http.StatusInternalServerError,
		sentinel:   ErrBadResponseHeader,
	},
	{
		name:       "NUL in value",
		mutate:     func(r *http.Request) {},
		respHeader: http.Header{"X-A": {"a\x00b"}},
		status:     http.StatusInternalServerError,
		sentinel:   ErrBadResponseHeader,
	},
	{
		name:       "invalid header name",
		mutate:     func(r *http.Request) {},
		respHeader: http.Header{"X-A\r\nX-B": {"1"}},
		status:     http.StatusInternalServerError,
		sentinel:   ErrBadResponseHeader,
	},
	{
		name:       "empty header name",
		mutate:     func(r *http.Request) {},
		respHeader: http.Header{"": {"1"}},
		status:     http.StatusInternalServerError,
		sentinel:   ErrBadResponseHeader,
	},
	{
		name:       "subprotocol with CRLF",
		mutate:     func(r *http.Request) {},
		respHeader: http.Header{"Sec-Websocket-Protocol": {"chat\r\nX-Injected: 1"}},
		status:     http.StatusInternalServerError,
		sentinel:   ErrBadResponseHeader,
	},
	{
		name:       "subprotocol not a token",
		mutate:     func(r *http.Request) {},
		respHeader: http.Header{"Sec-Websocket-Protocol": {"chat, superchat"}},
		status:     http.StatusInternalServerError,
		sentinel:   ErrBadResponseHeader,
	},
	{
		name:       "two subprotocol values",
		mutate:     func(r *http.Request) {},
		respHeader: http.Header{"Sec-Websocket-Protocol": {"chat", "superchat"}},
		status:     http.StatusInternalServerError,
		sentinel:   ErrBadResponseHeader,
	},
	{
		name:     "recorder cannot hijack",
		mutate:   func(r *http.Request) {},
		status:   http.StatusInternalServerError,
		sentinel: ErrHijackUnsupported,
	},
}

func TestUpgradeRejections(t *testing.T) {
	for _, tc := range rejectionCases {
		t.Run(tc.name, func(t *testing.T) {
			r := newHandshakeRequest()
			tc.mutate(r)
			w := httptest.NewRecorder()
			u := tc.upgrader

			c, err := u.Upgrade(w, r, tc.respHeader)
			assert.Nil(t, c)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.sentinel)
			var he HandshakeError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, tc.status, he.Status)
			assert.Contains(t, err.Error(), http.StatusText(tc.status))

			resp := w.Result()
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Equal(t, "text/plain; charset=utf-8", resp.Header.Get("Content-Type"))
			body := w.Body.String()
			assert.NotEmpty(t, strings.TrimSpace(body))
			assert.Less(t, len(body), 200, "short body")
			assert.True(t, strings.HasPrefix(body, "websocket: "), "body %q", body)
			assert.NotContains(t, body, "\r", "body must not echo raw header bytes")
			for k, v := range tc.header {
				assert.Equal(t, v, resp.Header.Get(k), "header %s", k)
			}
			assert.Empty(t, resp.Header.Get("Sec-WebSocket-Accept"))
		})
	}
}

func TestUpgradeRejectionHasNoUnexpectedHeaders(t *testing.T) {
	// A 400 must not advertise an Upgrade, and a 405 must not carry the
	// version header: each status carries exactly its own protocol header.
	cases := []struct {
		name   string
		mutate func(r *http.Request)
		absent []string
	}{
		{"405", func(r *http.Request) { r.Method = http.MethodPut }, []string{"Upgrade", "Sec-WebSocket-Version"}},
		{"400", func(r *http.Request) { r.Header.Set("Upgrade", "h2c") }, []string{"Upgrade", "Allow"}},
		{"426 version", func(r *http.Request) { r.Header.Del("Sec-WebSocket-Version") }, []string{"Upgrade", "Allow"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newHandshakeRequest()
			tc.mutate(r)
			w := httptest.NewRecorder()
			_, err := (&Upgrader{}).Upgrade(w, r, nil)
			require.Error(t, err)
			for _, h := range tc.absent {
				assert.Empty(t, w.Result().Header.Get(h), "header %s", h)
			}
		})
	}
}

func TestUpgradeErrorCallback(t *testing.T) {
	cases := []struct {
		name     string
		mutate   func(r *http.Request)
		status   int
		sentinel error
		header   string // protocol header already set when the callback runs
	}{
		{"bad method", func(r *http.Request) { r.Method = http.MethodDelete }, http.StatusMethodNotAllowed, ErrBadMethod, "Allow"},
		{"bad version", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Version", "7") }, http.StatusUpgradeRequired, ErrBadVersion, "Sec-WebSocket-Version"},
		{"bad key", func(r *http.Request) { r.Header.Set("Sec-WebSocket-Key", "x") }, http.StatusBadRequest, ErrBadKey, ""},
		{"bad origin", func(r *http.Request) { r.Header.Set("Origin", "http://other.example") }, http.StatusForbidden, ErrOriginDenied, ""},
		{"hijack unsupported", func(r *http.Request) {}, http.StatusInternalServerError, ErrHijackUnsupported, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newHandshakeRequest()
			tc.mutate(r)
			w := httptest.NewRecorder()
			calls := 0
			u := Upgrader{Error: func(cw http.ResponseWriter, cr *http.Request, status int, reason error) {
				calls++
				assert.Same(t, r, cr)
				assert.Equal(t, tc.status, status)
				assert.ErrorIs(t, reason, tc.sentinel)
				if tc.header != "" {
					assert.NotEmpty(t, cw.Header().Get(tc.header))
				}
				cw.Header().Set("Content-Type", "application/json")
				cw.WriteHeader(status)
				_, _ = cw.Write([]byte(`{"error":"custom"}`))
			}}
			c, err := u.Upgrade(w, r, nil)
			assert.Nil(t, c)
			assert.Equal(t, 1, calls)
			var he HandshakeError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, tc.status, he.Status)
			assert.ErrorIs(t, err, tc.sentinel)
			assert.Equal(t, tc.status, w.Code)
			assert.Equal(t, `{"error":"custom"}`, w.Body.String())
			assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
		})
	}
}

func TestUpgradeHijackUnsupportedWrapsNotSupported(t *testing.T) {
	w := httptest.NewRecorder()
	_, err := (&Upgrader{}).Upgrade(w, newHandshakeRequest(), nil)
	assert.ErrorIs(t, err, ErrHijackUnsupported)
	assert.ErrorIs(t, err, http.ErrNotSupported)
	assert.Equal(t, http.StatusInternalServerError, w.Code)
}

func TestUpgradeNilArguments(t *testing.T) {
	u := &Upgrader{}
	_, err := u.Upgrade(nil, newHandshakeRequest(), nil)
	assert.Error(t, err)
	_, err = u.Upgrade(httptest.NewRecorder(), nil, nil)
	assert.Error(t, err)
	var he HandshakeError
	assert.False(t, errors.As(err, &he), "no response was written")
}

func TestCheckSameOrigin(t *testing.T) {
	cases := []struct {
		name    string
		host    string
		origins []string
		want    bool
	}{
		{"no origin", "example.com", nil, true},
		{"same host", "example.com", []string{"https://example.com"}, true},
		{"same host other case", "Example.COM", []string{"http://example.com"}, true},
		{"same host and port", "example.com:8080", []string{"http://EXAMPLE.com:8080"}, true},
		{"port differs", "example.com:8080", []string{"http://example.com:8081"}, false},
		{"explicit default port is not normalised", "example.com", []string{"https://example.com:443"}, false},
		{"other host", "example.com", []string{"https://evil.example"}, false},
		{"suffix attack", "example.com", []string{"https://example.com.evil.example"}, false},
		{"userinfo trick", "example.com", []string{"https://example.com@evil.example"}, false},
		{"null origin", "example.com", []string{"null"}, false},
		{"empty origin", "example.com", []string{""}, false},
		{"unparsable", "example.com", []string{"http://[::1"}, false},
		{"two origins", "example.com", []string{"https://example.com", "https://example.com"}, false},
		{"kelvin sign", "example.com", []string{"https://exampl\u212a.com"}, false},
		{"empty request host", "", []string{"https://example.com"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newHandshakeRequest()
			r.Host = tc.host
			if tc.origins != nil {
				r.Header["Origin"] = tc.origins
			}
			assert.Equal(t, tc.want, checkSameOrigin(r))
		})
	}
}

func TestSelectSubprotocol(t *testing.T) {
	cases := []struct {
		name   string
		server []string
		client []string
		want   string
	}{
		{"none offered", []string{"chat"}, nil, ""},
		{"server has none", nil, []string{"chat"}, ""},
		{"match", []string{"chat"}, []string{"chat"}, "chat"},
		{"server preference wins", []string{"b", "a"}, []string{"a, b"}, "b"},
		{"server order over client order", []string{"x", "a"}, []string{"a", "x"}, "x"},
		{"across lines", []string{"v2"}, []string{"v1", " v2 "}, "v2"},
		{"case sensitive", []string{"Chat"}, []string{"chat"}, ""},
		{"no match", []string{"mqtt"}, []string{"chat, superchat"}, ""},
		{"invalid server entry never matches", []string{"a b", "c"}, []string{"a b, c"}, "c"},
		{"empty server entry never matches", []string{"", "c"}, []string{",c"}, "c"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newHandshakeRequest()
			if tc.client != nil {
				r.Header["Sec-Websocket-Protocol"] = tc.client
			}
			u := &Upgrader{Subprotocols: tc.server}
			assert.Equal(t, tc.want, u.selectSubprotocol(r))
		})
	}
}

func TestPrepareResponse(t *testing.T) {
	cases := []struct {
		name        string
		server      []string
		client      string
		respHeader  http.Header
		subprotocol string
		keys        []string
	}{
		{"nil header", nil, "", nil, "", nil},
		{"negotiated", []string{"chat"}, "chat", nil, "chat", nil},
		{"responseHeader overrides", []string{"chat"}, "chat, superchat", http.Header{"Sec-Websocket-Protocol": {"superchat"}}, "superchat", nil},
		{"non-canonical protocol key", nil, "", http.Header{"sec-websocket-protocol": {"v1"}}, "v1", nil},
		{"empty protocol value negotiates", []string{"chat"}, "chat", http.Header{"Sec-Websocket-Protocol": {""}}, "chat", nil},
		{"extra headers kept", nil, "", http.Header{"Set-Cookie": {"a=1", "b=2"}, "X-Empty": nil}, "", []string{"Set-Cookie"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newHandshakeRequest()
			if tc.client != "" {
				r.Header.Set("Sec-WebSocket-Protocol", tc.client)
			}
			u := &Upgrader{Subprotocols: tc.server, EnableCompression: true}
			resp, err := u.prepareResponse(r, tc.respHeader)
			require.NoError(t, err)
			assert.Equal(t, tc.subprotocol, resp.subprotocol)
			assert.Equal(t, tc.keys, resp.headerKeys)
			// The request offers no extension: none may be answered.
			assert.Empty(t, resp.extensions)
			assert.Nil(t, resp.compress)
		})
	}
}
