package websocket

import (
	"fmt"
	"net/http"
	"strings"
)

// Canonical (net/http) keys of the request and response fields the handshake
// reads and writes.
const (
	hdrConnection   = "Connection"
	hdrUpgrade      = "Upgrade"
	hdrOrigin       = "Origin"
	hdrWSKey        = "Sec-Websocket-Key"
	hdrWSVersion    = "Sec-Websocket-Version"
	hdrWSProtocol   = "Sec-Websocket-Protocol"
	hdrWSExtensions = "Sec-Websocket-Extensions"
	hdrWSAccept     = "Sec-Websocket-Accept"
)

// isTokenChar reports whether c is a tchar (RFC 9110 section 5.6.2).
func isTokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '!', '#', '$', '%', '&', '\'', '*', '+', '-', '.', '^', '_', '`', '|', '~':
		return true
	}
	return false
}

// isToken reports whether s is a non-empty RFC 9110 token: the syntax of a
// header field name, of a Sec-WebSocket-Protocol element and of an extension
// name.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTokenChar(s[i]) {
			return false
		}
	}
	return true
}

// isValidHeaderValue reports whether v may be written as a header field
// value: no control characters other than horizontal tab (so no CR, LF, NUL
// or DEL). Bytes >= 0x80 (obs-text) are allowed, as net/http allows them.
func isValidHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// trimOWS removes optional whitespace (spaces and horizontal tabs) from both
// ends of s.
func trimOWS(s string) string {
	for s != "" && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for s != "" && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// nextListElement splits a comma-separated list value (RFC 9110 section
// 5.6.1) at its first comma. It returns the first element with optional
// whitespace trimmed (possibly empty) and the unparsed rest.
func nextListElement(s string) (elem, rest string) {
	if i := strings.IndexByte(s, ','); i >= 0 {
		return trimOWS(s[:i]), s[i+1:]
	}
	return trimOWS(s), ""
}

// asciiEqualFold reports whether a and b are equal under ASCII case folding.
// Unlike strings.EqualFold it never treats a non-ASCII rune as equal to an
// ASCII letter (such as KELVIN SIGN and "k"), which matters when comparing
// protocol tokens and host names.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x == y {
			continue
		}
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// headerHasToken reports whether any line of the field name (a canonical key)
// in h holds a comma-separated element equal to token under ASCII case
// folding. Elements are trimmed of optional whitespace; empty elements never
// match. It does not allocate.
func headerHasToken(h http.Header, name, token string) bool {
	return anyElement(h[name], func(elem string) bool { return elem != "" && asciiEqualFold(elem, token) })
}

// headerHasAnyElement reports whether any line of the field name (a canonical
// key) in h holds a non-empty comma-separated element.
func headerHasAnyElement(h http.Header, name string) bool {
	return anyElement(h[name], func(elem string) bool { return elem != "" })
}

// appendTokens appends to dst the elements of the comma-separated list value
// v that are valid tokens, trimmed of optional whitespace, and returns the
// extended slice. Empty elements and elements that are not tokens (they hold
// spaces, quotes, control bytes...) are skipped.
func appendTokens(dst []string, v string) []string {
	for v != "" {
		var elem string
		elem, v = nextListElement(v)
		if isToken(elem) {
			dst = append(dst, elem)
		}
	}
	return dst
}

// headerTokens returns the valid tokens listed in every line of the field
// name (a canonical key) in h, in order, or nil when there are none.
func headerTokens(h http.Header, name string) []string {
	var out []string
	for _, v := range h[name] {
		out = appendTokens(out, v)
	}
	return out
}

// headerListsExact reports whether any line of the field name (a canonical
// key) in h lists token exactly (case-sensitive), as a valid token element.
// It does not allocate.
func headerListsExact(h http.Header, name, token string) bool {
	return anyElement(h[name], func(elem string) bool { return elem == token && isToken(elem) })
}

// IsWebSocketUpgrade reports whether r asks for a WebSocket upgrade: its
// Connection header lists the "upgrade" token and its Upgrade header lists
// the "websocket" token. Matching is ASCII case-insensitive, and the tokens
// may appear in comma-separated lists spread over several header lines. It
// checks nothing else (method, version, key); Upgrader.Upgrade does. A nil r
// gives false. It is safe for concurrent use.
func IsWebSocketUpgrade(r *http.Request) bool {
	if r == nil {
		return false
	}
	return headerHasToken(r.Header, hdrConnection, "upgrade") &&
		headerHasToken(r.Header, hdrUpgrade, "websocket")
}

// Subprotocols returns the subprotocols the client requested, in its order:
// the elements of every Sec-WebSocket-Protocol header line, trimmed of
// whitespace. Empty elements and elements that are not valid tokens are
// skipped. It returns nil when there are none or r is nil. It is safe for
// concurrent use.
func Subprotocols(r *http.Request) []string {
	if r == nil {
		return nil
	}
	return headerTokens(r.Header, hdrWSProtocol)
}

// checkHeaderField returns why the header field k: vs, given by the
// application, cannot be written into a handshake, or "" when it can: a
// name that is not a token, a value with control characters, or a name
// among reserved, which the library writes itself ("is set by " + setBy).
func checkHeaderField(k string, vs []string, reserved []string, setBy string) string {
	if !isToken(k) {
		return fmt.Sprintf("invalid header name %q", k)
	}
	for _, v := range vs {
		if !isValidHeaderValue(v) {
			return "invalid value for " + k
		}
	}
	for _, r := range reserved {
		if asciiEqualFold(k, r) {
			return k + " is set by " + setBy
		}
	}
	return ""
}

// anyElement reports whether match holds for an element of the
// comma-separated lists in lines, each trimmed of optional whitespace. It
// does not allocate.
func anyElement(lines []string, match func(elem string) bool) bool {
	for _, v := range lines {
		for v != "" {
			var elem string
			elem, v = nextListElement(v)
			if match(elem) {
				return true
			}
		}
	}
	return false
}
