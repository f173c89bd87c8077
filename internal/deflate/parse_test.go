package deflate

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var parseTests = []struct {
	name   string
	values []string
	want   []Extension // nil with wantErr
	err    bool
}{
	{name: "no values", values: nil, want: nil},
	{name: "blank value", values: []string{""}, want: nil},
	{name: "only commas and spaces", values: []string{" , ,\t,"}, want: nil},
	{name: "bare extension", values: []string{"permessage-deflate"},
		want: []Extension{{Name: "permessage-deflate"}}},
	{name: "params", values: []string{"permessage-deflate; client_max_window_bits; server_max_window_bits=10"},
		want: []Extension{{Name: "permessage-deflate", Params: []Param{
			{Name: "client_max_window_bits"},
			{Name: "server_max_window_bits", Value: "10", HasValue: true}}}}},
	{name: "quoted value", values: []string{`permessage-deflate; server_max_window_bits="10"`},
		want: []Extension{{Name: "permessage-deflate", Params: []Param{
			{Name: "server_max_window_bits", Value: "10", HasValue: true}}}}},
	{name: "quoted value with escape", values: []string{`x; a="1\0"`},
		want: []Extension{{Name: "x", Params: []Param{{Name: "a", Value: "10", HasValue: true}}}}},
	{name: "whitespace everywhere", values: []string{" \tfoo \t; \ta \t= \tb \t,\tbar ;c= \"d\" "},
		want: []Extension{
			{Name: "foo", Params: []Param{{Name: "a", Value: "b", HasValue: true}}},
			{Name: "bar", Params: []Param{{Name: "c", Value: "d", HasValue: true}}}}},
	{name: "no whitespace", values: []string{"a;b=1;c,d"},
		want: []Extension{
			{Name: "a", Params: []Param{{Name: "b", Value: "1", HasValue: true}, {Name: "c"}}},
			{Name: "d"}}},
	{name: "several lines and empty elements", values: []string{"a, , b", "", "c,"},
		want: []Extension{{Name: "a"}, {Name: "b"}, {Name: "c"}}},
	{name: "duplicate params are kept", values: []string{"a; x; x"},
		want: []Extension{{Name: "a", Params: []Param{{Name: "x"}, {Name: "x"}}}}},
	{name: "missing extension name", values: []string{"; a"}, err: true},
	{name: "missing param name", values: []string{"a; ; b"}, err: true},
	{name: "trailing semicolon", values: []string{"a;"}, err: true},
	{name: "missing value", values: []string{"a; b="}, err: true},
	{name: "missing value before comma", values: []string{"a; b=, c"}, err: true},
	{name: "space inside token", values: []string{"a b"}, err: true},
	{name: "quoted name", values: []string{`"a"`}, err: true},
	{name: "separator in value", values: []string{"a; b=c/d"}, err: true},
	{name: "unterminated quote", values: []string{`a; b="10`}, err: true},
	{name: "dangling backslash", values: []string{`a; b="10\`}, err: true},
	{name: "escaped control char", values: []string{"a; b=\"1\\\x01\""}, err: true},
	{name: "empty quoted value", values: []string{`a; b=""`}, err: true},
	{name: "quoted value not a token", values: []string{`a; b="1 0"`}, err: true},
	{name: "quoted separator", values: []string{`a; b="x,y"`}, err: true},
	{name: "text after quoted value", values: []string{`a; b="1"0`}, err: true},
	{name: "control char", values: []string{"a\x00"}, err: true},
	{name: "non-ascii", values: []string{"perméssage"}, err: true},
	{name: "double equals", values: []string{"a; b==1"}, err: true},
	{name: "error in second line", values: []string{"a", "b;"}, err: true},
}

func TestParseExtensions(t *testing.T) {
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseExtensions(tt.values)
			if tt.err {
				require.Error(t, err)
				assert.ErrorIs(t, err, errSyntax)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseExtensionsErrorNamesPosition(t *testing.T) {
	_, err := ParseExtensions([]string{"ok", "a; b=c/d"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "value 1")
	assert.Contains(t, err.Error(), "offset 6")
}

func FuzzParseExtensions(f *testing.F) {
	for _, tt := range parseTests {
		f.Add(strings.Join(tt.values, "\n"), false, false)
	}
	for _, tt := range negotiateTests {
		f.Add(strings.Join(tt.values, "\n"), tt.cfg.DisableServerContextTakeover, tt.cfg.DisableClientContextTakeover)
	}
	f.Fuzz(func(t *testing.T, joined string, noServerCT, noClientCT bool) {
		values := strings.Split(joined, "\n")
		exts, err := ParseExtensions(values)
		if err != nil {
			assert.Nil(t, exts)
		}
		for _, e := range exts {
			assert.True(t, isToken(e.Name))
			for _, p := range e.Params {
				assert.True(t, isToken(p.Name))
				assert.Equal(t, p.HasValue, p.Value != "")
				if p.HasValue {
					assert.True(t, isToken(p.Value))
				}
			}
		}
		cfg := ServerConfig{DisableServerContextTakeover: noServerCT, DisableClientContextTakeover: noClientCT}
		p, resp, ok := Negotiate(values, cfg)
		if !ok {
			assert.Equal(t, Params{}, p)
			assert.Empty(t, resp)
			return
		}
		require.NoError(t, err, "accepted an unparsable header")
		checkParams(t, p)
		// The response is a valid extension list holding exactly one
		// permessage-deflate element, and offering it back yields the
		// same agreement.
		back, err := ParseExtensions([]string{resp})
		require.NoError(t, err)
		require.Len(t, back, 1)
		assert.Equal(t, ExtensionName, back[0].Name)
		p2, resp2, ok := Negotiate([]string{resp}, ServerConfig{})
		require.True(t, ok)
		assert.Equal(t, p, p2)
		assert.Equal(t, resp, resp2)
	})
}

// checkParams asserts the invariants of accepted params.
func checkParams(t *testing.T, p Params) {
	t.Helper()
	assert.GreaterOrEqual(t, p.ServerMaxWindowBits, MinWindowBits)
	assert.LessOrEqual(t, p.ServerMaxWindowBits, MaxWindowBits)
	assert.GreaterOrEqual(t, p.ClientMaxWindowBits, MinWindowBits)
	assert.LessOrEqual(t, p.ClientMaxWindowBits, MaxWindowBits)
}
