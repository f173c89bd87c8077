package websocket

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIsToken(t *testing.T) {
	cases := []struct {
		s    string
		want bool
	}{
		{"websocket", true},
		{"chat.v2+json", true},
		{"!#$%&'*+-.^_`|~09AZaz", true},
		{"", false},
		{"a b", false},
		{"a,b", false},
		{"a/b", false},
		{"\"quoted\"", false},
		{"a\tb", false},
		{"a\x00", false},
		{"é", false},
		{"a:b", false},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, isToken(tc.s), "%q", tc.s)
	}
}

func TestIsValidHeaderValue(t *testing.T) {
	cases := []struct {
		v    string
		want bool
	}{
		{"", true},
		{"plain value", true},
		{"tab\tinside", true},
		{"obs-text \xe9", true},
		{"cr\rinside", false},
		{"lf\ninside", false},
		{"crlf\r\nInjected: yes", false},
		{"nul\x00", false},
		{"del\x7f", false},
		{"bell\x07", false},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, isValidHeaderValue(tc.v), "%q", tc.v)
	}
}

func TestASCIIEqualFold(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"websocket", "WebSocket", true},
		{"Example.COM:8080", "example.com:8080", true},
		{"", "", true},
		{"a", "", false},
		{"[", "{", false}, // differ by 0x20 but are not letters
		{"websoc\u212at", "websocket", false},
		{"k", "\u212a", false},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, asciiEqualFold(tc.a, tc.b), "%q vs %q", tc.a, tc.b)
	}
}

// tokenListCases are lines of one header field and the tokens headerTokens
// must find in them.
var tokenListCases = []struct {
	name  string
	lines []string
	want  []string
}{
	{"absent", nil, nil},
	{"single", []string{"websocket"}, []string{"websocket"}},
	{"list with OWS", []string{" keep-alive ,\tUpgrade  "}, []string{"keep-alive", "Upgrade"}},
	{"several lines", []string{"a, b", "c"}, []string{"a", "b", "c"}},
	{"empty elements", []string{",,a,, ,b,"}, []string{"a", "b"}},
	{"only commas", []string{", ,"}, nil},
	{"empty line", []string{""}, nil},
	{"invalid elements skipped", []string{"a b, c, \"q\", d/e, f"}, []string{"c", "f"}},
	{"control bytes", []string{"x\x00y, z"}, []string{"z"}},
}

func TestHeaderTokens(t *testing.T) {
	for _, tc := range tokenListCases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.lines != nil {
				h["Sec-Websocket-Protocol"] = tc.lines
			}
			assert.Equal(t, tc.want, headerTokens(h, hdrWSProtocol))
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.Header = h
			assert.Equal(t, tc.want, Subprotocols(r))
			for _, tok := range tc.want {
				assert.True(t, headerListsExact(h, hdrWSProtocol, tok), "exact %q", tok)
				assert.True(t, headerHasToken(h, hdrWSProtocol, strings.ToUpper(tok)), "fold %q", tok)
			}
		})
	}
}

func TestHeaderHasToken(t *testing.T) {
	cases := []struct {
		name  string
		lines []string
		token string
		want  bool
	}{
		{"exact", []string{"upgrade"}, "upgrade", true},
		{"case", []string{"UpGrAdE"}, "upgrade", true},
		{"in list", []string{"keep-alive, Upgrade"}, "upgrade", true},
		{"second line", []string{"keep-alive", "Upgrade"}, "upgrade", true},
		{"tab OWS", []string{"keep-alive,\tupgrade\t"}, "upgrade", true},
		{"absent", nil, "upgrade", false},
		{"substring only", []string{"upgraded, notupgrade"}, "upgrade", false},
		{"inner space", []string{"up grade"}, "upgrade", false},
		{"kelvin sign", []string{"websoc\u212at"}, "websocket", false},
		{"empty token never matches", []string{"a,,b"}, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.lines != nil {
				h["Connection"] = tc.lines
			}
			assert.Equal(t, tc.want, headerHasToken(h, hdrConnection, tc.token))
		})
	}
}

func TestHeaderHasTokenAllocs(t *testing.T) {
	h := http.Header{"Connection": {"keep-alive", "x, y, Upgrade"}}
	found := false
	allocs := testing.AllocsPerRun(100, func() {
		found = headerHasToken(h, hdrConnection, "upgrade")
	})
	assert.True(t, found)
	assert.Zero(t, allocs)
}

func TestIsWebSocketUpgrade(t *testing.T) {
	cases := []struct {
		name    string
		conn    []string
		upgrade []string
		want    bool
	}{
		{"canonical", []string{"Upgrade"}, []string{"websocket"}, true},
		{"lists and case", []string{"keep-alive, UPGRADE"}, []string{"h2c, WebSocket"}, true},
		{"split lines", []string{"keep-alive", "upgrade"}, []string{"foo", "websocket"}, true},
		{"no connection token", []string{"keep-alive"}, []string{"websocket"}, false},
		{"no upgrade header", []string{"Upgrade"}, nil, false},
		{"other protocol", []string{"Upgrade"}, []string{"h2c"}, false},
		{"versioned protocol", []string{"Upgrade"}, []string{"websocket/13"}, false},
		{"nothing", nil, nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.conn != nil {
				r.Header["Connection"] = tc.conn
			}
			if tc.upgrade != nil {
				r.Header["Upgrade"] = tc.upgrade
			}
			assert.Equal(t, tc.want, IsWebSocketUpgrade(r))
		})
	}
	assert.False(t, IsWebSocketUpgrade(nil))
	assert.Nil(t, Subprotocols(nil))
}

// referenceTokenRE matches an RFC 9110 token.
var referenceTokenRE = regexp.MustCompile("^[!#$%&'*+\\-.^_`|~0-9A-Za-z]+$")

// referenceTokens parses lines with the standard library, independently of
// the code under test.
func referenceTokens(lines []string) []string {
	var out []string
	for _, line := range lines {
		for _, e := range strings.Split(line, ",") {
			e = strings.Trim(e, " \t")
			if referenceTokenRE.MatchString(e) {
				out = append(out, e)
			}
		}
	}
	return out
}

func FuzzHeaderTokens(f *testing.F) {
	for _, tc := range tokenListCases {
		f.Add(strings.Join(tc.lines, "\n"))
	}
	f.Add("keep-alive, Upgrade\nwebsocket")
	f.Fuzz(func(t *testing.T, input string) {
		// Each line of the input is one header line.
		lines := strings.Split(input, "\n")
		h := http.Header{"Sec-Websocket-Protocol": lines, "Connection": lines}
		got := headerTokens(h, hdrWSProtocol)
		for _, tok := range got {
			assert.NotEmpty(t, tok)
			assert.False(t, strings.ContainsAny(tok, ", \t\r\n\x00"), "token %q", tok)
			assert.True(t, headerListsExact(h, hdrWSProtocol, tok), "token %q", tok)
			assert.True(t, headerHasToken(h, hdrConnection, tok), "token %q", tok)
		}
		assert.Equal(t, referenceTokens(lines), got)

		wantUpgrade := false
		for _, line := range lines {
			for _, e := range strings.Split(line, ",") {
				if strings.ToLower(strings.Trim(e, " \t")) == "upgrade" {
					wantUpgrade = true
				}
			}
		}
		assert.Equal(t, wantUpgrade, headerHasToken(h, hdrConnection, "upgrade"))
	})
}
