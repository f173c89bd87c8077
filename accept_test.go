package websocket

import (
	"crypto/sha1"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rfcSampleKey and rfcSampleAccept are the example of RFC 6455 section 1.3.
const (
	rfcSampleKey    = "dGhlIHNhbXBsZSBub25jZQ=="
	rfcSampleAccept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
)

// referenceAcceptKey computes Sec-WebSocket-Accept the straightforward way.
func referenceAcceptKey(key string) string {
	h := sha1.New()
	h.Write([]byte(key + acceptGUID))
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

var acceptKeyCases = []struct {
	name, key, want string
}{
	{"rfc6455 sample", rfcSampleKey, rfcSampleAccept},
	{"empty", "", referenceAcceptKey("")},
	{"short", "abc", referenceAcceptKey("abc")},
	{"longer than a valid key", strings.Repeat("k", 100), referenceAcceptKey(strings.Repeat("k", 100))},
	{"all zero key", "AAAAAAAAAAAAAAAAAAAAAA==", referenceAcceptKey("AAAAAAAAAAAAAAAAAAAAAA==")},
}

func TestComputeAcceptKey(t *testing.T) {
	// The reference itself must agree with the RFC.
	require.Equal(t, rfcSampleAccept, referenceAcceptKey(rfcSampleKey))
	for _, tc := range acceptKeyCases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, computeAcceptKey(tc.key))
			prefix := []byte("prefix:")
			got := appendAcceptKey(prefix, tc.key)
			assert.Equal(t, "prefix:"+tc.want, string(got))
		})
	}
}

func TestAcceptKeyAllocs(t *testing.T) {
	buf := make([]byte, 0, 64)
	allocs := testing.AllocsPerRun(100, func() {
		buf = appendAcceptKey(buf[:0], rfcSampleKey)
	})
	assert.Zero(t, allocs, "appendAcceptKey into a large enough slice")
	assert.Equal(t, rfcSampleAccept, string(buf))

	var s string
	allocs = testing.AllocsPerRun(100, func() {
		s = computeAcceptKey(rfcSampleKey)
	})
	assert.LessOrEqual(t, allocs, 1.0, "computeAcceptKey allocates at most its result")
	assert.Equal(t, rfcSampleAccept, s)
}

// referenceCheckClientKey is the definition of a valid key: it decodes to 16
// bytes and re-encodes to itself.
func referenceCheckClientKey(key string) bool {
	raw, err := base64.StdEncoding.DecodeString(key)
	return err == nil && len(raw) == 16 && base64.StdEncoding.EncodeToString(raw) == key
}

var clientKeyCases = []struct {
	name string
	key  string
	want bool
}{
	{"rfc6455 sample", rfcSampleKey, true},
	{"all zero bytes", "AAAAAAAAAAAAAAAAAAAAAA==", true},
	{"all one bytes", "/////////////////////w==", true},
	{"empty", "", false},
	{"15 bytes", base64.StdEncoding.EncodeToString(make([]byte, 15)), false},
	{"17 bytes", base64.StdEncoding.EncodeToString(make([]byte, 17)), false},
	{"missing padding", "dGhlIHNhbXBsZSBub25jZQ", false},
	{"one padding char", "dGhlIHNhbXBsZSBub25jZQ=", false},
	{"non-zero padding bits", "dGhlIHNhbXBsZSBub25jZR==", false},
	{"url alphabet", "-_-_-_-_-_-_-_-_-_-_-w==", false},
	{"embedded newline", "dGhlIHNhbXBsZSBub25j\nZQ==", false},
	{"embedded CR", "dGhlIHNhbXBsZSBub25\rjZQ=", false},
	{"leading space", " dGhlIHNhbXBsZSBub25jZQ=", false},
	{"trailing space", "dGhlIHNhbXBsZSBub25jZQ== ", false},
	{"padding in the middle", "dGhlIHNhbXBs==Bub25jZQ==", false},
	{"non-ascii", "dGhlIHNhbXBsZSBub25jZé=", false},
	{"NUL", "dGhlIHNhbXBsZSBub25jZQ=\x00", false},
}

func TestCheckClientKey(t *testing.T) {
	for _, tc := range clientKeyCases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, referenceCheckClientKey(tc.key), "reference disagrees with the table")
			assert.Equal(t, tc.want, checkClientKey(tc.key))
		})
	}
}

func TestCheckClientKeyAllocs(t *testing.T) {
	ok := false
	allocs := testing.AllocsPerRun(100, func() {
		ok = checkClientKey(rfcSampleKey)
	})
	assert.True(t, ok)
	assert.Zero(t, allocs)
}

func FuzzCheckClientKey(f *testing.F) {
	for _, tc := range clientKeyCases {
		f.Add(tc.key)
	}
	f.Fuzz(func(t *testing.T, key string) {
		assert.Equal(t, referenceCheckClientKey(key), checkClientKey(key), "key %q", key)
	})
}

func FuzzComputeAcceptKey(f *testing.F) {
	for _, tc := range acceptKeyCases {
		f.Add(tc.key)
	}
	f.Fuzz(func(t *testing.T, key string) {
		assert.Equal(t, referenceAcceptKey(key), computeAcceptKey(key))
	})
}

func BenchmarkComputeAcceptKey(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = computeAcceptKey(rfcSampleKey)
	}
}

func BenchmarkCheckClientKey(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		_ = checkClientKey(rfcSampleKey)
	}
}
