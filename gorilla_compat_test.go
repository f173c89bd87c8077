package websocket

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/frame"
)

// Tests that code written for gorilla/websocket v1.5.3 keeps working: each
// asserts what such a program expects of the API.

// TestGorillaHandshakeErrorValue: gorilla's HandshakeError is a value type,
// found by a type assertion (as gorilla's examples do) and by errors.As
// with a value target.
func TestGorillaHandshakeErrorValue(t *testing.T) {
	var up Upgrader
	rec := httptest.NewRecorder()
	_, err := up.Upgrade(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", nil), nil)
	require.Error(t, err)

	he, ok := err.(HandshakeError)
	require.True(t, ok, "err.(HandshakeError) must hold, got %T", err)
	assert.Equal(t, http.StatusUpgradeRequired, he.Status)
	assert.Equal(t, rec.Code, he.Status)

	tests := []struct {
		name string
		err  error
	}{
		{"returned", err},
		{"wrapped", errors.Join(errors.New("context"), err)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v HandshakeError
			require.ErrorAs(t, tc.err, &v)
			assert.Equal(t, http.StatusUpgradeRequired, v.Status)
			assert.ErrorIs(t, tc.err, ErrMissingUpgrade)

			// Code written for the pointer form keeps finding it.
			var p *HandshakeError
			require.ErrorAs(t, tc.err, &p)
			assert.Equal(t, v, *p)
		})
	}
}

// TestGorillaAbnormalClosure: however the peer's connection ends without a
// close frame (between frames, in a header, in a payload, in a control
// frame), the read error is gorilla's *CloseError with 1006, and it still
// matches io.ErrUnexpectedEOF.
func TestGorillaAbnormalClosure(t *testing.T) {
	whole := rawFrame{fin: true, op: frame.OpBinary, payload: make([]byte, 10)}.encode()
	ping := rawFrame{fin: true, op: frame.OpPing, payload: []byte("ping")}.encode()
	tests := []struct {
		name string
		sent []byte
	}{
		{"between frames", nil},
		{"after a whole frame", whole},
		{"in a header", whole[:1]},
		{"in an extended header", whole[:3]},
		{"in a payload", whole[:len(whole)-1]},
		{"in a control frame", ping[:len(ping)-1]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, c := tcpPair(t)
			sc := newConn(s, connConfig{isServer: true})
			if len(tc.sent) > 0 {
				_, err := c.Write(tc.sent)
				require.NoError(t, err)
			}
			require.NoError(t, c.Close())
			var err error
			for err == nil {
				_, _, err = sc.ReadMessage()
			}
			var ce *CloseError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, CloseAbnormalClosure, ce.Code)
			assert.Equal(t, "websocket: close 1006 (abnormal closure): unexpected EOF", err.Error())
			assert.True(t, IsCloseError(err, CloseAbnormalClosure))
			assert.True(t, IsUnexpectedCloseError(err, CloseNormalClosure, CloseGoingAway))
			assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
		})
	}
}

// TestGorillaCloseErrorText: CloseError.Error reads as gorilla's.
func TestGorillaCloseErrorText(t *testing.T) {
	tests := []struct {
		code int
		text string
		want string
	}{
		{CloseNormalClosure, "", "websocket: close 1000 (normal)"},
		{CloseNormalClosure, "bye", "websocket: close 1000 (normal): bye"},
		{CloseGoingAway, "", "websocket: close 1001 (going away)"},
		{CloseProtocolError, "", "websocket: close 1002 (protocol error)"},
		{CloseUnsupportedData, "", "websocket: close 1003 (unsupported data)"},
		{CloseNoStatusReceived, "", "websocket: close 1005 (no status)"},
		{CloseAbnormalClosure, "", "websocket: close 1006 (abnormal closure)"},
		{CloseInvalidFramePayloadData, "", "websocket: close 1007 (invalid payload data)"},
		{ClosePolicyViolation, "", "websocket: close 1008 (policy violation)"},
		{CloseMessageTooBig, "", "websocket: close 1009 (message too big)"},
		{CloseMandatoryExtension, "", "websocket: close 1010 (mandatory extension missing)"},
		{CloseInternalServerErr, "", "websocket: close 1011 (internal server error)"},
		{CloseServiceRestart, "", "websocket: close 1012"},
		{CloseTryAgainLater, "later", "websocket: close 1013: later"},
		{CloseTLSHandshake, "", "websocket: close 1015 (TLS handshake error)"},
		{4000, "app", "websocket: close 4000: app"},
		{-1, "", "websocket: close -1"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			assert.Equal(t, tc.want, (&CloseError{Code: tc.code, Text: tc.text}).Error())
		})
	}
}

// pingRecorder reads from c until an error, sending the application data
// of every ping to pings and the read error to done.
func pingRecorder(c *Conn) (pings <-chan string, done <-chan error) {
	p := make(chan string, 16)
	d := make(chan error, 1)
	c.SetPingHandler(func(appData string) error {
		p <- appData
		return nil
	})
	go func() {
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				d <- err
				return
			}
		}
	}()
	return p, d
}

// TestGorillaControlNextWriter: NextWriter takes the control types too; the
// payload goes out as one control frame on Close, and is refused over 125
// bytes.
func TestGorillaControlNextWriter(t *testing.T) {
	sc, cc := connPair(t)
	pings, done := pingRecorder(sc)

	// Too long: both Write and Close report it, and nothing is sent.
	w, err := cc.NextWriter(PingMessage)
	require.NoError(t, err)
	n, err := w.Write(make([]byte, 100))
	require.NoError(t, err)
	assert.Equal(t, 100, n)
	_, err = w.Write(make([]byte, 26))
	assert.ErrorIs(t, err, ErrControlTooLong)
	assert.ErrorIs(t, w.Close(), ErrControlTooLong)
	assert.Error(t, w.Close(), "second Close")

	// A control writer goes out while a data message holds the connection:
	// it takes no message lock.
	dw, err := cc.NextWriter(BinaryMessage)
	require.NoError(t, err)
	_, err = dw.Write(make([]byte, 3*defaultWriteBufferSize))
	require.NoError(t, err)

	tests := []struct {
		name  string
		parts []string
	}{
		{"empty", nil},
		{"one write", []string{"hello"}},
		{"several writes", []string{"a", "bc", "", "def"}},
		{"125 bytes", []string{string(make([]byte, 120)), "12345"}},
	}
	for _, tc := range tests {
		w, err := cc.NextWriter(PingMessage)
		require.NoError(t, err, tc.name)
		want := ""
		for _, p := range tc.parts {
			_, err := io.WriteString(w, p)
			require.NoError(t, err, tc.name)
			want += p
		}
		require.NoError(t, w.Close(), tc.name)
		assert.Equal(t, want, within(t, pings, 5*time.Second, tc.name), tc.name)
	}
	require.NoError(t, dw.Close())

	w, err = cc.NextWriter(CloseMessage)
	require.NoError(t, err)
	_, err = w.Write(FormatCloseMessage(CloseGoingAway, "bye"))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	err = within(t, done, 5*time.Second, "server read error")
	assert.True(t, IsCloseError(err, CloseGoingAway), "got %v", err)
	assert.Equal(t, "websocket: close 1001 (going away): bye", err.Error())
	_, err = cc.NextWriter(TextMessage)
	assert.ErrorIs(t, err, ErrCloseSent)
	_, err = cc.NextWriter(PingMessage)
	assert.ErrorIs(t, err, ErrCloseSent)
}

// TestGorillaPreparedControl: a prepared control message is sent as
// WriteControl sends it, from a server and from a client connection.
func TestGorillaPreparedControl(t *testing.T) {
	ping, err := NewPreparedMessage(PingMessage, []byte("prepared"))
	require.NoError(t, err)
	closeMsg, err := NewPreparedMessage(CloseMessage, FormatCloseMessage(CloseNormalClosure, ""))
	require.NoError(t, err)
	for _, fromServer := range []bool{true, false} {
		t.Run(map[bool]string{true: "server", false: "client"}[fromServer], func(t *testing.T) {
			sc, cc := connPair(t)
			from, to := cc, sc
			if fromServer {
				from, to = sc, cc
			}
			pings, done := pingRecorder(to)
			require.NoError(t, from.WritePreparedMessage(ping))
			require.NoError(t, from.WritePreparedMessage(ping))
			assert.Equal(t, "prepared", within(t, pings, 5*time.Second, "first ping"))
			assert.Equal(t, "prepared", within(t, pings, 5*time.Second, "second ping"))
			require.NoError(t, from.WritePreparedMessage(closeMsg))
			err := within(t, done, 5*time.Second, "read error")
			assert.True(t, IsCloseError(err, CloseNormalClosure), "got %v", err)
			assert.ErrorIs(t, from.WritePreparedMessage(ping), ErrCloseSent)
		})
	}
}

// closeBoth closes a and b at the same time, so that each closing
// handshake gets its answer at once.
func closeBoth(t *testing.T, a, b *Conn) {
	done := make(chan error, 1)
	go func() { done <- a.Close() }()
	assert.NoError(t, b.Close())
	assert.NoError(t, within(t, done, 10*time.Second, "close"))
}

// compatURL is srv's ws:// URL.
func compatURL(srv *httptest.Server) string { return "ws" + strings.TrimPrefix(srv.URL, "http") }

// TestGorillaPackageUpgrade: the package-level Upgrade accepts any origin,
// sends responseHeader, and answers nothing when it refuses a request: the
// caller does, with the status of the HandshakeError.
func TestGorillaPackageUpgrade(t *testing.T) {
	conns := make(chan *Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, http.Header{"Set-Cookie": {"k=v"}}, 1024, 1024)
		if err != nil {
			he, ok := err.(HandshakeError)
			if !ok {
				http.Error(w, "unexpected error type", http.StatusTeapot)
				return
			}
			w.Header().Set("X-Answered-By", "caller")
			http.Error(w, err.Error(), he.Status)
			return
		}
		conns <- c
	}))
	defer srv.Close()

	tests := []struct {
		name   string
		origin string
	}{
		{"no origin", ""},
		{"same origin", srv.URL},
		{"cross origin", "https://evil.example"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			cc, resp, err := (&Dialer{}).Dial(compatURL(srv), h)
			require.NoError(t, err)
			assert.Equal(t, "k=v", resp.Header.Get("Set-Cookie"))
			sc := within(t, conns, 5*time.Second, "server conn")
			defer closeBoth(t, sc, cc)
			require.NoError(t, sc.WriteMessage(TextMessage, []byte("hi")))
			_, p, err := cc.ReadMessage()
			require.NoError(t, err)
			assert.Equal(t, "hi", string(p))
		})
	}

	t.Run("refused", func(t *testing.T) {
		rec := httptest.NewRecorder()
		_, err := Upgrade(rec, httptest.NewRequest(http.MethodPost, "http://127.0.0.1/", nil), nil, 0, 0)
		he, ok := err.(HandshakeError)
		require.True(t, ok, "got %T %v", err, err)
		assert.Equal(t, http.StatusMethodNotAllowed, he.Status)
		assert.ErrorIs(t, err, ErrBadMethod)
		assert.False(t, rec.Flushed)
		assert.Zero(t, rec.Body.Len(), "Upgrade must not answer")

		resp, err := http.Get(srv.URL)
		require.NoError(t, err)
		defer resp.Body.Close()
		assert.Equal(t, http.StatusUpgradeRequired, resp.StatusCode)
		assert.Equal(t, "caller", resp.Header.Get("X-Answered-By"))
	})
}

// TestGorillaPackageJSON: the package-level ReadJSON and WriteJSON are the
// methods'.
func TestGorillaPackageJSON(t *testing.T) {
	sc, cc := connPair(t)
	type msg struct{ N int }
	require.NoError(t, WriteJSON(cc, msg{N: 7}))
	var got msg
	require.NoError(t, ReadJSON(sc, &got))
	assert.Equal(t, 7, got.N)
	assert.Error(t, WriteJSON(cc, func() {}), "unencodable value")
	require.NoError(t, cc.WriteMessage(TextMessage, []byte("{")))
	assert.ErrorIs(t, ReadJSON(sc, &got), io.ErrUnexpectedEOF)
}

// TestGorillaUnderlyingConn: UnderlyingConn is NetConn.
func TestGorillaUnderlyingConn(t *testing.T) {
	sc, cc := connPair(t)
	assert.Same(t, sc.NetConn(), sc.UnderlyingConn())
	assert.Equal(t, cc.LocalAddr(), cc.UnderlyingConn().LocalAddr())
}

// TestGorillaJoinMessages: the joined reader yields every message followed
// by the terminator, whatever the size of the reads, and ends with the
// connection's read error.
func TestGorillaJoinMessages(t *testing.T) {
	msgs := []string{"a", "", "bcd", strings.Repeat("x", 5000)}
	tests := []struct {
		name      string
		term      string
		oneByte   bool
		wantJoint string
	}{
		{"no term", "", false, "abcd" + msgs[3]},
		{"newline", "\n", false, "a\n\nbcd\n" + msgs[3] + "\n"},
		{"long term, byte reads", "--", true, "a----bcd--" + msgs[3] + "--"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc, cc := connPair(t)
			go func() {
				for _, m := range msgs {
					if cc.WriteMessage(TextMessage, []byte(m)) != nil {
						return
					}
				}
				_ = cc.WriteControl(CloseMessage, FormatCloseMessage(CloseNormalClosure, ""), time.Time{})
			}()
			r := JoinMessages(sc, tc.term)
			if tc.oneByte {
				r = iotest.OneByteReader(r)
			}
			got, err := io.ReadAll(r)
			assert.True(t, IsCloseError(err, CloseNormalClosure), "got %v", err)
			assert.Equal(t, tc.wantJoint, string(got))
		})
	}

	t.Run("json stream", func(t *testing.T) {
		sc, cc := connPair(t)
		for _, m := range []string{`{"N":1}`, `{"N":2}`} {
			require.NoError(t, cc.WriteMessage(TextMessage, []byte(m)))
		}
		dec := json.NewDecoder(JoinMessages(sc, "\n"))
		for want := 1; want <= 2; want++ {
			var v struct{ N int }
			require.NoError(t, dec.Decode(&v))
			assert.Equal(t, want, v.N)
		}
	})
}
