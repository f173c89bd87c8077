package websocket

import (
	"crypto/sha1"
	"encoding/base64"
)

// acceptGUID is the fixed GUID RFC 6455 section 1.3 appends to the client's
// Sec-WebSocket-Key before hashing.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

const (
	// clientKeyLen is the length of a valid Sec-WebSocket-Key: the padded
	// standard base64 encoding of 16 bytes.
	clientKeyLen = 24
	// acceptKeyLen is the length of a Sec-WebSocket-Accept value: the padded
	// standard base64 encoding of a 20-byte SHA-1 digest.
	acceptKeyLen = 28
)

// appendAcceptKey appends the Sec-WebSocket-Accept value for the client's
// Sec-WebSocket-Key to dst and returns the extended slice. It does not check
// key; every string gives a result. It allocates only when key is longer than
// a valid key (the hash input then no longer fits the stack buffer) or when
// dst lacks room for 28 bytes.
func appendAcceptKey(dst []byte, key string) []byte {
	var digest [sha1.Size]byte
	if len(key) <= clientKeyLen {
		var in [clientKeyLen + len(acceptGUID)]byte
		n := copy(in[:], key)
		n += copy(in[n:], acceptGUID)
		digest = sha1.Sum(in[:n])
	} else {
		in := make([]byte, 0, len(key)+len(acceptGUID))
		in = append(in, key...)
		in = append(in, acceptGUID...)
		digest = sha1.Sum(in)
	}
	var out [acceptKeyLen]byte
	base64.StdEncoding.Encode(out[:], digest[:])
	return append(dst, out[:]...)
}

// computeAcceptKey returns the Sec-WebSocket-Accept value for the client's
// Sec-WebSocket-Key (RFC 6455 section 4.2.2): base64(SHA-1(key + GUID)). It
// does not check key (see checkClientKey). For a valid key it allocates once,
// for the returned string.
func computeAcceptKey(key string) string {
	var buf [acceptKeyLen]byte
	return string(appendAcceptKey(buf[:0], key))
}

// checkClientKey reports whether key is a valid Sec-WebSocket-Key value: the
// padded standard base64 encoding of exactly 16 bytes, in canonical form (the
// unused low bits of the last character are zero, no line breaks or other
// characters the decoder would skip). It does not allocate.
func checkClientKey(key string) bool {
	if len(key) != clientKeyLen {
		return false
	}
	var src [clientKeyLen]byte
	copy(src[:], key)
	// A 24-character input decodes to at most 18 bytes.
	var raw [18]byte
	n, err := base64.StdEncoding.Decode(raw[:], src[:])
	if err != nil || n != 16 {
		return false
	}
	// Re-encoding rejects the forms the decoder tolerates: CR and LF it
	// skips, and non-zero padding bits in the last data character.
	var again [clientKeyLen]byte
	base64.StdEncoding.Encode(again[:], raw[:16])
	return again == src
}
