package deflate

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseResponse(t *testing.T) {
	cases := []struct {
		name   string
		values []string
		want   Params
		ok     bool
	}{
		{"plain", []string{"permessage-deflate"}, Params{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}, true},
		{"all parameters", []string{"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=10"},
			Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 9, ClientMaxWindowBits: 10}, true},
		{"quoted bits", []string{`permessage-deflate; server_max_window_bits="12"`}, Params{ServerMaxWindowBits: 12, ClientMaxWindowBits: 15}, true},
		{"client bits without value", []string{"permessage-deflate; client_max_window_bits"}, Params{}, false},
		{"two extensions", []string{"permessage-deflate, permessage-deflate"}, Params{}, false},
		{"other extension", []string{"x-webkit-deflate-frame"}, Params{}, false},
		{"unknown parameter", []string{"permessage-deflate; foo"}, Params{}, false},
		{"duplicate parameter", []string{"permessage-deflate; server_no_context_takeover; server_no_context_takeover"}, Params{}, false},
		{"bits out of range", []string{"permessage-deflate; server_max_window_bits=16"}, Params{}, false},
		{"syntax error", []string{"permessage-deflate;;"}, Params{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := ParseResponse(tc.values)
			if !tc.ok {
				require.ErrorIs(t, err, ErrBadResponse)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, p)
		})
	}
}

// TestNegotiateAnswersParse: every answer Negotiate gives to ClientOffer is
// one ParseResponse accepts, with the same params.
func TestNegotiateAnswersParse(t *testing.T) {
	for _, cfg := range []ServerConfig{{}, {DisableServerContextTakeover: true}, {DisableClientContextTakeover: true}} {
		p, resp, ok := Negotiate([]string{ClientOffer}, cfg)
		require.True(t, ok)
		got, err := ParseResponse([]string{resp})
		require.NoError(t, err)
		assert.Equal(t, p, got)
	}
}

func FuzzParseResponse(f *testing.F) {
	for _, s := range []string{"permessage-deflate", "permessage-deflate; server_max_window_bits=9; client_max_window_bits=10", `permessage-deflate; client_max_window_bits="8"`, "a, b", ";"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseResponse([]string{s})
		if err != nil {
			return
		}
		if p.ServerMaxWindowBits < MinWindowBits || p.ServerMaxWindowBits > MaxWindowBits ||
			p.ClientMaxWindowBits < MinWindowBits || p.ClientMaxWindowBits > MaxWindowBits {
			t.Fatalf("window bits out of range: %+v", p)
		}
	})
}

// TestKeepsHistory: context takeover with a level that finds matches keeps
// history between messages, at every window size.
func TestKeepsHistory(t *testing.T) {
	cases := []struct {
		level, bits int
		takeover    bool
		want        bool
	}{
		{1, 15, true, true},
		{9, 15, true, true},
		{1, 15, false, false},
		{1, 14, true, true},
		{1, 8, true, true},
		{0, 15, true, false},
		{-2, 15, true, false},
	}
	for _, tc := range cases {
		c := NewCompressor(tc.level, tc.bits, tc.takeover)
		assert.Equal(t, tc.want, c.KeepsHistory(), "%+v", tc)
	}
}
