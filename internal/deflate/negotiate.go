package deflate

import "strconv"

// ExtensionName is the extension token of RFC 7692.
const ExtensionName = "permessage-deflate"

// Parameter names of RFC 7692 section 7.1.
const (
	paramServerNoContextTakeover = "server_no_context_takeover"
	paramClientNoContextTakeover = "client_no_context_takeover"
	paramServerMaxWindowBits     = "server_max_window_bits"
	paramClientMaxWindowBits     = "client_max_window_bits"
)

// Window size limits (base-2 logarithm) allowed by RFC 7692 section 7.1.2.
const (
	MinWindowBits = 8
	MaxWindowBits = 15
)

// Params are negotiated permessage-deflate parameters.
//
// On a server, ServerNoContextTakeover and ServerMaxWindowBits configure the
// Compressor (messages the server sends); ClientNoContextTakeover and
// ClientMaxWindowBits configure the Decompressor (messages it receives).
type Params struct {
	// ServerNoContextTakeover means the server compresses every message
	// without reference to earlier messages.
	ServerNoContextTakeover bool
	// ClientNoContextTakeover means the client compresses every message
	// without reference to earlier messages.
	ClientNoContextTakeover bool
	// ServerMaxWindowBits bounds the server's LZ77 window: 8..15; 15 when
	// not specified.
	ServerMaxWindowBits int
	// ClientMaxWindowBits bounds the client's LZ77 window: 8..15; 15 when
	// not specified.
	ClientMaxWindowBits int
}

// ServerConfig is what the server is willing to do.
type ServerConfig struct {
	// DisableServerContextTakeover / DisableClientContextTakeover force
	// *_no_context_takeover in the answer (to save memory), whether or not
	// the client offered them (RFC 7692 sections 7.1.1.1 and 7.1.1.2 allow
	// the server to add them). DisableServerContextTakeover spares the
	// dictionary of up to DictSize bytes the Compressor keeps between
	// messages; DisableClientContextTakeover spares the up to
	// 2^ClientMaxWindowBits bytes of window the Decompressor keeps.
	DisableServerContextTakeover, DisableClientContextTakeover bool
}

// Negotiate picks the first acceptable permessage-deflate offer among the
// request's Sec-WebSocket-Extensions header values and returns the agreed
// params plus the exact response header value, for example
// "permessage-deflate; server_no_context_takeover; client_max_window_bits=15".
// ok is false, with zero Params and an empty response, when no offer is
// acceptable.
//
// Rules: other extensions are ignored (the name is compared
// case-sensitively); an offer with an unknown, duplicated or malformed
// parameter is declined and the next offer is tried; if the header as a
// whole does not parse, nothing is salvaged and ok is false. Window bits are
// decimal 8..15 without leading zeros (a quoted value such as "10" is
// accepted); server_max_window_bits needs a value, client_max_window_bits may
// have none, *_no_context_takeover must have none.
//
// The response states exactly what the server will do: it contains
// server_no_context_takeover when the client asked for it or
// cfg.DisableServerContextTakeover is set; client_no_context_takeover when
// the client announced it or cfg.DisableClientContextTakeover is set;
// server_max_window_bits=N when the client limited our window to N (every
// N in 8..15 is honoured, see the package documentation);
// client_max_window_bits=N echoing the client's own limit when it gave one
// (we size the inflate window to it). A valueless client_max_window_bits is
// not answered: we accept the client's full 15-bit window.
//
// Negotiate never panics and is safe for concurrent use.
func Negotiate(values []string, cfg ServerConfig) (p Params, response string, ok bool) {
	exts, err := ParseExtensions(values)
	if err != nil {
		return Params{}, "", false
	}
	for _, e := range exts {
		if e.Name != ExtensionName {
			continue
		}
		o, ok := parseOffer(e.Params)
		if !ok {
			continue
		}
		return o.accept(cfg)
	}
	return Params{}, "", false
}

// offer is a validated permessage-deflate offer.
type offer struct {
	serverNoContextTakeover bool
	clientNoContextTakeover bool
	serverMaxWindowBits     int // 0 when absent
	clientMaxWindowBits     int // 0 when absent or without value
	hasClientMaxWindowBits  bool
}

// parseOffer validates the parameters of one offer; ok is false when the
// offer must be declined.
func parseOffer(params []Param) (o offer, ok bool) {
	var seenServerNCT, seenClientNCT, seenServerBits bool
	for _, p := range params {
		switch p.Name {
		case paramServerNoContextTakeover:
			if seenServerNCT || p.HasValue {
				return offer{}, false
			}
			seenServerNCT = true
			o.serverNoContextTakeover = true
		case paramClientNoContextTakeover:
			if seenClientNCT || p.HasValue {
				return offer{}, false
			}
			seenClientNCT = true
			o.clientNoContextTakeover = true
		case paramServerMaxWindowBits:
			if seenServerBits || !p.HasValue {
				return offer{}, false
			}
			seenServerBits = true
			bits, ok := parseWindowBits(p.Value)
			if !ok {
				return offer{}, false
			}
			o.serverMaxWindowBits = bits
		case paramClientMaxWindowBits:
			if o.hasClientMaxWindowBits {
				return offer{}, false
			}
			o.hasClientMaxWindowBits = true
			if p.HasValue {
				bits, ok := parseWindowBits(p.Value)
				if !ok {
					return offer{}, false
				}
				o.clientMaxWindowBits = bits
			}
		default:
			return offer{}, false
		}
	}
	return o, true
}

// parseWindowBits parses a decimal 8..15 without leading zeros.
func parseWindowBits(v string) (int, bool) {
	switch {
	case len(v) == 1 && v[0] >= '8' && v[0] <= '9':
		return int(v[0] - '0'), true
	case len(v) == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5':
		return 10 + int(v[1]-'0'), true
	}
	return 0, false
}

// accept builds the params and response for a validated offer.
func (o offer) accept(cfg ServerConfig) (Params, string, bool) {
	p := Params{
		ServerNoContextTakeover: o.serverNoContextTakeover || cfg.DisableServerContextTakeover,
		ClientNoContextTakeover: o.clientNoContextTakeover || cfg.DisableClientContextTakeover,
		ServerMaxWindowBits:     MaxWindowBits,
		ClientMaxWindowBits:     MaxWindowBits,
	}
	resp := make([]byte, 0, 128)
	resp = append(resp, ExtensionName...)
	if p.ServerNoContextTakeover {
		resp = append(resp, "; "+paramServerNoContextTakeover...)
	}
	if p.ClientNoContextTakeover {
		resp = append(resp, "; "+paramClientNoContextTakeover...)
	}
	if o.serverMaxWindowBits != 0 {
		p.ServerMaxWindowBits = o.serverMaxWindowBits
		resp = append(resp, "; "+paramServerMaxWindowBits+"="...)
		resp = strconv.AppendInt(resp, int64(p.ServerMaxWindowBits), 10)
	}
	if o.clientMaxWindowBits != 0 {
		p.ClientMaxWindowBits = o.clientMaxWindowBits
		resp = append(resp, "; "+paramClientMaxWindowBits+"="...)
		resp = strconv.AppendInt(resp, int64(p.ClientMaxWindowBits), 10)
	}
	return p, string(resp), true
}
