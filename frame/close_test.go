package frame

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStatusCodeValidOnWire(t *testing.T) {
	valid := func(c int) bool {
		return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999)
	}
	for c := 0; c <= 0xFFFF; c++ {
		if got := StatusCode(c).ValidOnWire(); got != valid(c) {
			t.Fatalf("ValidOnWire(%d) = %v", c, got)
		}
	}
	// Spot checks of the boundaries named in the RFC.
	tests := []struct {
		code StatusCode
		want bool
	}{
		{999, false}, {1000, true}, {1003, true}, {1004, false}, {1005, false},
		{1006, false}, {1007, true}, {1014, true}, {1015, false}, {1016, false},
		{2999, false}, {3000, true}, {4999, true}, {5000, false}, {0, false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.code.ValidOnWire(), "code %d", tt.code)
	}
}

func TestStatusCodeString(t *testing.T) {
	tests := []struct {
		code StatusCode
		want string
	}{
		{StatusNormalClosure, "NormalClosure"},
		{StatusGoingAway, "GoingAway"},
		{StatusProtocolError, "ProtocolError"},
		{StatusUnsupportedData, "UnsupportedData"},
		{StatusNoStatusReceived, "NoStatusReceived"},
		{StatusAbnormalClosure, "AbnormalClosure"},
		{StatusInvalidFramePayloadData, "InvalidFramePayloadData"},
		{StatusPolicyViolation, "PolicyViolation"},
		{StatusMessageTooBig, "MessageTooBig"},
		{StatusMandatoryExtension, "MandatoryExtension"},
		{StatusInternalError, "InternalError"},
		{StatusServiceRestart, "ServiceRestart"},
		{StatusTryAgainLater, "TryAgainLater"},
		{StatusBadGateway, "BadGateway"},
		{StatusTLSHandshake, "TLSHandshake"},
		{3000, "Registered(3000-3999)"},
		{3999, "Registered(3000-3999)"},
		{4000, "Private(4000-4999)"},
		{4999, "Private(4000-4999)"},
		{1004, "Unknown"},
		{5000, "Unknown"},
		{0, "Unknown"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.code.String(), "code %d", tt.code)
	}
}

var closeCases = []struct {
	name    string
	payload []byte
	code    StatusCode
	reason  string
	err     error
}{
	{"empty", nil, StatusNoStatusReceived, "", nil},
	{"code only", []byte{0x03, 0xe8}, StatusNormalClosure, "", nil},
	{"code and reason", append([]byte{0x03, 0xe9}, "bye"...), StatusGoingAway, "bye", nil},
	{"utf8 reason", append([]byte{0x0f, 0xa0}, "héllo, 世界 🌍"...), 4000, "héllo, 世界 🌍", nil},
	{"max reason", append([]byte{0x03, 0xe8}, strings.Repeat("x", 123)...), 1000, strings.Repeat("x", 123), nil},
	{"too long", append([]byte{0x03, 0xe8}, strings.Repeat("x", 124)...), 0, "", ErrControlTooLong},
	{"one byte", []byte{0x03}, 0, "", ErrClosePayloadTooShort},
	{"code 1005", []byte{0x03, 0xed}, 1005, "", ErrInvalidCloseCode},
	{"code 1006 with reason", append([]byte{0x03, 0xee}, "x"...), 1006, "x", ErrInvalidCloseCode},
	{"code 999", []byte{0x03, 0xe7}, 999, "", ErrInvalidCloseCode},
	{"code 1004", []byte{0x03, 0xec}, 1004, "", ErrInvalidCloseCode},
	{"code 1015", []byte{0x03, 0xf7}, 1015, "", ErrInvalidCloseCode},
	{"code 2999", []byte{0x0b, 0xb7}, 2999, "", ErrInvalidCloseCode},
	{"code 5000", []byte{0x13, 0x88}, 5000, "", ErrInvalidCloseCode},
	{"code 0", []byte{0x00, 0x00}, 0, "", ErrInvalidCloseCode},
	{"invalid utf8", []byte{0x03, 0xe8, 'a', 0xff}, 1000, "a\xff", ErrInvalidCloseReason},
	{"truncated rune", []byte{0x03, 0xe8, 0xe4, 0xb8}, 1000, "\xe4\xb8", ErrInvalidCloseReason},
	{"surrogate", []byte{0x03, 0xe8, 0xed, 0xa0, 0x80}, 1000, "\xed\xa0\x80", ErrInvalidCloseReason},
}

func TestParseClose(t *testing.T) {
	for _, tt := range closeCases {
		t.Run(tt.name, func(t *testing.T) {
			code, reason, err := ParseClose(tt.payload)
			if tt.err == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tt.err)
			}
			assert.Equal(t, tt.code, code)
			assert.Equal(t, tt.reason, string(reason))
			if len(reason) > 0 {
				// reason aliases payload.
				assert.Same(t, &tt.payload[2], &reason[0])
			}
		})
	}
}

func TestParseCloseEmptyReasonIsNilForEmptyPayload(t *testing.T) {
	_, reason, err := ParseClose([]byte{})
	require.NoError(t, err)
	assert.Nil(t, reason)
}

func TestAppendClose(t *testing.T) {
	long := strings.Repeat("a", 200)
	// 122 ASCII bytes then a 3-byte rune straddling the 123 limit.
	straddle3 := strings.Repeat("a", 122) + "世" + "tail"
	// 120 ASCII bytes then a 4-byte rune ending exactly at 124.
	straddle4 := strings.Repeat("a", 120) + "🌍" + "z"
	// A 4-byte rune ending exactly at the limit is kept.
	exact := strings.Repeat("a", 119) + "🌍" + "z"
	tests := []struct {
		name   string
		code   StatusCode
		reason string
		want   []byte
	}{
		{"no status", StatusNoStatusReceived, "ignored", nil},
		{"code only", StatusNormalClosure, "", []byte{0x03, 0xe8}},
		{"short reason", StatusGoingAway, "bye", []byte{0x03, 0xe9, 'b', 'y', 'e'}},
		{"ascii truncated", StatusPolicyViolation, long, append([]byte{0x03, 0xf0}, long[:123]...)},
		{"3-byte rune straddling", 4000, straddle3, append([]byte{0x0f, 0xa0}, straddle3[:122]...)},
		{"4-byte rune straddling", 4000, straddle4, append([]byte{0x0f, 0xa0}, straddle4[:120]...)},
		{"4-byte rune ending at limit", 4000, exact, append([]byte{0x0f, 0xa0}, exact[:123]...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendClose(nil, tt.code, tt.reason)
			assert.Equal(t, tt.want, got)
			assert.LessOrEqual(t, len(got), MaxControlPayload)
			if tt.code != StatusNoStatusReceived && utf8.ValidString(tt.reason) {
				code, reason, err := ParseClose(got)
				require.NoError(t, err)
				assert.Equal(t, tt.code, code)
				assert.True(t, strings.HasPrefix(tt.reason, string(reason)))
			}
		})
	}
	// Appends after existing content.
	assert.Equal(t, []byte{9, 0x03, 0xe8, 'x'}, AppendClose([]byte{9}, StatusNormalClosure, "x"))
}

func TestAppendCloseTruncationAlwaysOnRuneBoundary(t *testing.T) {
	runes := []string{"a", "é", "世", "🌍"}
	for _, r := range runes {
		for prefix := 110; prefix <= 125; prefix++ {
			reason := strings.Repeat("b", prefix) + strings.Repeat(r, 10)
			got := AppendClose(nil, 3000, reason)
			require.LessOrEqual(t, len(got), MaxControlPayload)
			assert.True(t, utf8.Valid(got[2:]), "rune %q prefix %d", r, prefix)
			assert.Greater(t, len(got)-2, MaxCloseReason-utf8.UTFMax, "truncated too much")
		}
	}
}

func TestCloseZeroAllocs(t *testing.T) {
	payload := append([]byte{0x03, 0xe8}, "some reason, ünïcödé"...)
	dst := make([]byte, 0, MaxControlPayload)
	reason := strings.Repeat("é", 100)
	var code StatusCode
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		code, _, _ = ParseClose(payload)
	}), "ParseClose")
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		dst = AppendClose(dst[:0], StatusGoingAway, reason)
	}), "AppendClose")
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		_ = code.String()
	}), "String")
	assert.Equal(t, StatusNormalClosure, code)
}
