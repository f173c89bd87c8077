package deflate

import (
	"errors"
	"fmt"
	"strings"
)

// Extension is one parsed element of a Sec-WebSocket-Extensions header: an
// extension token followed by its parameters, in header order.
type Extension struct {
	// Name is the extension token, exactly as sent (compared
	// case-sensitively by Negotiate).
	Name string
	// Params are the extension parameters in the order they appeared.
	Params []Param
}

// Param is one extension parameter. For a quoted-string value, Value holds
// the unescaped content.
type Param struct {
	// Name is the parameter token.
	Name string
	// Value is the parameter value; empty when HasValue is false.
	Value string
	// HasValue reports whether the parameter had an "=value" part.
	HasValue bool
}

// errSyntax is wrapped by every error ParseExtensions returns.
var errSyntax = errors.New("deflate: malformed Sec-WebSocket-Extensions header")

// ParseExtensions parses all values of the Sec-WebSocket-Extensions header
// fields of a request (one string per header line, in order) following the
// ABNF of RFC 6455 section 9.1:
//
//	extension-list = 1#extension
//	extension      = extension-token *( ";" extension-param )
//	extension-param = token [ "=" (token | quoted-string) ]
//
// The unescaped content of a quoted-string value must itself be a token.
// Optional white space (SP, HTAB) is allowed around ",", ";" and "=". As
// RFC 9110 section 5.6.1 asks of recipients, empty list elements (for example
// "a, , b" or a blank header line) are ignored; values with no element at all
// yield an empty result and no error.
//
// Malformed input returns a nil slice and an error wrapping a syntax error
// that names the offending header value and byte offset; ParseExtensions
// never panics. It is safe for concurrent use.
func ParseExtensions(values []string) ([]Extension, error) {
	var exts []Extension
	for i, v := range values {
		var err error
		exts, err = parseValue(exts, v)
		if err != nil {
			return nil, fmt.Errorf("%w: value %d: %v", errSyntax, i, err)
		}
	}
	return exts, nil
}

// parseValue appends the extensions of one header value to exts.
func parseValue(exts []Extension, v string) ([]Extension, error) {
	s := scanner{s: v}
	for {
		s.skipOWS()
		if s.done() {
			return exts, nil
		}
		if s.peek() == ',' { // empty list element
			s.pos++
			continue
		}
		name, err := s.token("extension token")
		if err != nil {
			return nil, err
		}
		ext := Extension{Name: name}
		s.skipOWS()
		for !s.done() && s.peek() == ';' {
			s.pos++
			s.skipOWS()
			p, err := s.param()
			if err != nil {
				return nil, err
			}
			ext.Params = append(ext.Params, p)
			s.skipOWS()
		}
		exts = append(exts, ext)
		if s.done() {
			return exts, nil
		}
		if s.peek() != ',' {
			return nil, s.errorf("unexpected %q after extension %q", s.peek(), name)
		}
		s.pos++
	}
}

// scanner walks one header value.
type scanner struct {
	s   string
	pos int
}

func (s *scanner) done() bool { return s.pos >= len(s.s) }

func (s *scanner) peek() byte { return s.s[s.pos] }

func (s *scanner) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: "+format, append([]any{s.pos}, args...)...)
}

func (s *scanner) skipOWS() {
	for s.pos < len(s.s) && (s.s[s.pos] == ' ' || s.s[s.pos] == '\t') {
		s.pos++
	}
}

// token reads a non-empty token; what names the expected item in errors.
func (s *scanner) token(what string) (string, error) {
	start := s.pos
	for s.pos < len(s.s) && isTokenChar(s.s[s.pos]) {
		s.pos++
	}
	if s.pos == start {
		if s.done() {
			return "", s.errorf("missing %s", what)
		}
		return "", s.errorf("invalid character %q, want %s", s.peek(), what)
	}
	return s.s[start:s.pos], nil
}

// param reads token [ OWS "=" OWS ( token / quoted-string ) ].
func (s *scanner) param() (Param, error) {
	name, err := s.token("parameter name")
	if err != nil {
		return Param{}, err
	}
	p := Param{Name: name}
	s.skipOWS()
	if s.done() || s.peek() != '=' {
		return p, nil
	}
	s.pos++
	s.skipOWS()
	if !s.done() && s.peek() == '"' {
		p.Value, err = s.quoted()
	} else {
		p.Value, err = s.token("parameter value")
	}
	if err != nil {
		return Param{}, err
	}
	p.HasValue = true
	return p, nil
}

// quoted reads a quoted-string whose unescaped content must be a token.
func (s *scanner) quoted() (string, error) {
	start := s.pos
	s.pos++ // opening quote
	var b strings.Builder
	escaped := false
	contentStart := s.pos
	for !s.done() {
		c := s.peek()
		switch {
		case c == '"':
			s.pos++
			val := s.s[contentStart : s.pos-1]
			if escaped {
				val = b.String()
			}
			if !isToken(val) {
				return "", fmt.Errorf("offset %d: quoted value %q is not a token", start, val)
			}
			return val, nil
		case c == '\\':
			if s.pos+1 >= len(s.s) {
				return "", s.errorf("unterminated quoted-string")
			}
			if !escaped {
				escaped = true
				b.WriteString(s.s[contentStart:s.pos])
			}
			e := s.s[s.pos+1]
			if !isQuotedPairChar(e) {
				return "", s.errorf("invalid escaped character %q", e)
			}
			b.WriteByte(e)
			s.pos += 2
		case isQdtext(c):
			if escaped {
				b.WriteByte(c)
			}
			s.pos++
		default:
			return "", s.errorf("invalid character %q in quoted-string", c)
		}
	}
	return "", fmt.Errorf("offset %d: unterminated quoted-string", start)
}

// isToken reports whether v is a non-empty RFC 9110 token.
func isToken(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isTokenChar(v[i]) {
			return false
		}
	}
	return true
}

// isTokenChar reports whether c is an RFC 9110 tchar.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isQdtext reports whether c may appear unescaped in a quoted-string.
func isQdtext(c byte) bool {
	return c == '\t' || c == ' ' || c == 0x21 || (c >= 0x23 && c <= 0x5b) ||
		(c >= 0x5d && c <= 0x7e) || c >= 0x80
}

// isQuotedPairChar reports whether c may follow a backslash.
func isQuotedPairChar(c byte) bool {
	return c == '\t' || c == ' ' || (c >= 0x21 && c <= 0x7e) || c >= 0x80
}
