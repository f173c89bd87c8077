package deflate

import "errors"

// ClientOffer is the Sec-WebSocket-Extensions value a client sends: plain
// permessage-deflate, letting the server limit the client's window (we can
// compress with any window) and accepting any server window (we can inflate
// any).
const ClientOffer = ExtensionName + "; " + paramClientMaxWindowBits

// ErrBadResponse is wrapped by the errors ParseResponse returns.
var ErrBadResponse = errors.New("deflate: unacceptable permessage-deflate response")

// ParseResponse validates a server's Sec-WebSocket-Extensions answer to
// ClientOffer (RFC 7692 section 7.1) and returns the agreed params. The
// answer must name exactly one extension, permessage-deflate, with known,
// unrepeated, well-formed parameters; client_max_window_bits needs a value
// in the answer. Anything else returns an error wrapping ErrBadResponse. It
// never panics and is safe for concurrent use.
func ParseResponse(values []string) (Params, error) {
	exts, err := ParseExtensions(values)
	if err != nil {
		return Params{}, errors.Join(ErrBadResponse, err)
	}
	if len(exts) != 1 || exts[0].Name != ExtensionName {
		return Params{}, errors.Join(ErrBadResponse, errors.New("deflate: the server must accept exactly permessage-deflate"))
	}
	o, ok := parseOffer(exts[0].Params)
	if !ok || o.hasClientMaxWindowBits && o.clientMaxWindowBits == 0 {
		return Params{}, errors.Join(ErrBadResponse, errors.New("deflate: malformed or unknown permessage-deflate parameter"))
	}
	p := Params{
		ServerNoContextTakeover: o.serverNoContextTakeover,
		ClientNoContextTakeover: o.clientNoContextTakeover,
		ServerMaxWindowBits:     MaxWindowBits,
		ClientMaxWindowBits:     MaxWindowBits,
	}
	if o.serverMaxWindowBits != 0 {
		p.ServerMaxWindowBits = o.serverMaxWindowBits
	}
	if o.clientMaxWindowBits != 0 {
		p.ClientMaxWindowBits = o.clientMaxWindowBits
	}
	return p, nil
}
