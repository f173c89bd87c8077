package deflate

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// def are the params of a plain accepted offer.
var def = Params{ServerMaxWindowBits: 15, ClientMaxWindowBits: 15}

var negotiateTests = []struct {
	name   string
	values []string
	cfg    ServerConfig
	ok     bool
	want   Params
	resp   string
}{
	{name: "no header", values: nil},
	{name: "empty value", values: []string{""}},
	{name: "other extension only", values: []string{"x-webkit-deflate-frame"}},
	{name: "plain", values: []string{"permessage-deflate"}, ok: true,
		want: def, resp: "permessage-deflate"},
	{name: "browser offer", values: []string{"permessage-deflate; client_max_window_bits"}, ok: true,
		want: def, resp: "permessage-deflate"},
	{name: "all parameters", ok: true,
		values: []string{"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=12"},
		want:   Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 9, ClientMaxWindowBits: 12},
		resp:   "permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=12"},
	{name: "parameter order does not matter", ok: true,
		values: []string{"permessage-deflate;client_max_window_bits=10;server_no_context_takeover"},
		want:   Params{ServerNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 10},
		resp:   "permessage-deflate; server_no_context_takeover; client_max_window_bits=10"},
	{name: "config forces no context takeover", ok: true,
		values: []string{"permessage-deflate; client_max_window_bits=15"},
		cfg:    ServerConfig{DisableServerContextTakeover: true},
		want:   Params{ServerNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
		resp:   "permessage-deflate; server_no_context_takeover; client_max_window_bits=15"},
	{name: "config forces both", ok: true, values: []string{"permessage-deflate"},
		cfg:  ServerConfig{DisableServerContextTakeover: true, DisableClientContextTakeover: true},
		want: Params{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
		resp: "permessage-deflate; server_no_context_takeover; client_no_context_takeover"},
	{name: "server window 8 is honoured", ok: true, values: []string{"permessage-deflate; server_max_window_bits=8"},
		want: Params{ServerMaxWindowBits: 8, ClientMaxWindowBits: 15},
		resp: "permessage-deflate; server_max_window_bits=8"},
	{name: "quoted values", ok: true, values: []string{`permessage-deflate; server_max_window_bits="10"; client_max_window_bits="11"`},
		want: Params{ServerMaxWindowBits: 10, ClientMaxWindowBits: 11},
		resp: "permessage-deflate; server_max_window_bits=10; client_max_window_bits=11"},
	{name: "whitespace variants", ok: true, values: []string{" \tpermessage-deflate\t;server_max_window_bits = 12 ;  client_no_context_takeover\t"},
		want: Params{ClientNoContextTakeover: true, ServerMaxWindowBits: 12, ClientMaxWindowBits: 15},
		resp: "permessage-deflate; client_no_context_takeover; server_max_window_bits=12"},
	{name: "unknown extension first", ok: true, values: []string{"foo; bar=1, permessage-deflate; server_no_context_takeover"},
		want: Params{ServerNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
		resp: "permessage-deflate; server_no_context_takeover"},
	{name: "first acceptable offer wins", ok: true,
		values: []string{"permessage-deflate; server_max_window_bits=10, permessage-deflate"},
		want:   Params{ServerMaxWindowBits: 10, ClientMaxWindowBits: 15},
		resp:   "permessage-deflate; server_max_window_bits=10"},
	{name: "offers across header lines", ok: true,
		values: []string{"permessage-deflate; bogus", "permessage-deflate; client_no_context_takeover"},
		want:   Params{ClientNoContextTakeover: true, ServerMaxWindowBits: 15, ClientMaxWindowBits: 15},
		resp:   "permessage-deflate; client_no_context_takeover"},
	{name: "unknown parameter declines offer, fallback accepted", ok: true,
		values: []string{"permessage-deflate; x=1, permessage-deflate; server_max_window_bits=9"},
		want:   Params{ServerMaxWindowBits: 9, ClientMaxWindowBits: 15},
		resp:   "permessage-deflate; server_max_window_bits=9"},
	{name: "unknown parameter", values: []string{"permessage-deflate; x"}},
	{name: "name is case-sensitive", values: []string{"Permessage-Deflate"}},
	{name: "parameter is case-sensitive", values: []string{"permessage-deflate; Server_No_Context_Takeover"}},
	{name: "duplicate no_context_takeover", values: []string{"permessage-deflate; server_no_context_takeover; server_no_context_takeover"}},
	{name: "duplicate client no_context_takeover", values: []string{"permessage-deflate; client_no_context_takeover; client_no_context_takeover"}},
	{name: "duplicate server bits", values: []string{"permessage-deflate; server_max_window_bits=10; server_max_window_bits=10"}},
	{name: "duplicate client bits", values: []string{"permessage-deflate; client_max_window_bits; client_max_window_bits=10"}},
	{name: "no_context_takeover with value", values: []string{"permessage-deflate; server_no_context_takeover=1"}},
	{name: "client no_context_takeover with value", values: []string{`permessage-deflate; client_no_context_takeover="x"`}},
	{name: "server bits without value", values: []string{"permessage-deflate; server_max_window_bits"}},
	{name: "server bits 7", values: []string{"permessage-deflate; server_max_window_bits=7"}},
	{name: "server bits 16", values: []string{"permessage-deflate; server_max_window_bits=16"}},
	{name: "server bits leading zero", values: []string{"permessage-deflate; server_max_window_bits=09"}},
	{name: "server bits sign", values: []string{"permessage-deflate; server_max_window_bits=+9"}},
	{name: "server bits hex", values: []string{"permessage-deflate; server_max_window_bits=0xa"}},
	{name: "client bits 0", values: []string{"permessage-deflate; client_max_window_bits=0"}},
	{name: "client bits 100", values: []string{"permessage-deflate; client_max_window_bits=100"}},
	{name: "client bits word", values: []string{"permessage-deflate; client_max_window_bits=max"}},
	{name: "quoted bad value", values: []string{`permessage-deflate; server_max_window_bits="7"`}},
	{name: "malformed header salvages nothing", values: []string{"permessage-deflate, ;;"}},
	{name: "malformed later line salvages nothing", values: []string{"permessage-deflate", `x; y="`}},
}

func TestNegotiate(t *testing.T) {
	for _, tt := range negotiateTests {
		t.Run(tt.name, func(t *testing.T) {
			p, resp, ok := Negotiate(tt.values, tt.cfg)
			assert.Equal(t, tt.ok, ok)
			assert.Equal(t, tt.want, p)
			assert.Equal(t, tt.resp, resp)
		})
	}
}

func TestParseWindowBits(t *testing.T) {
	for v := range 100 {
		s := []byte{byte('0' + v/10), byte('0' + v%10)}
		if v < 10 {
			s = s[1:]
		}
		bits, ok := parseWindowBits(string(s))
		if v >= 8 && v <= 15 {
			assert.True(t, ok, v)
			assert.Equal(t, v, bits)
		} else {
			assert.False(t, ok, v)
		}
	}
	for _, s := range []string{"", "08", "015", "8 ", "1", "151"} {
		_, ok := parseWindowBits(s)
		assert.False(t, ok, s)
	}
}
