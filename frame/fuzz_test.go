package frame

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func FuzzParse(f *testing.F) {
	for _, tt := range headerCases {
		f.Add(tt.wire)
	}
	f.Add([]byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0x82, 0x7e, 0x00, 0x05})
	f.Add([]byte{0x81})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := Parse(b)
		if err != nil {
			assert.Zero(t, n)
			assert.Equal(t, Header{}, h)
			return
		}
		require.Equal(t, HeaderSize(b[0], b[1]), n)
		require.LessOrEqual(t, n, len(b))
		require.GreaterOrEqual(t, h.Length, int64(0))
		// Check never panics and its answer depends only on the header.
		_ = h.Check()

		enc, err := AppendHeader(nil, h)
		require.NoError(t, err)
		require.Equal(t, h.Size(), len(enc))
		require.LessOrEqual(t, len(enc), n, "minimal encoding is never longer")
		h2, n2, err := Parse(enc)
		require.NoError(t, err)
		require.Equal(t, len(enc), n2)
		require.Equal(t, h, h2)
		if len(enc) == n {
			require.Equal(t, b[:n], enc, "minimal input re-encodes identically")
		}
	})
}

func FuzzMask(f *testing.F) {
	f.Add([]byte{}, uint32(0x37fa213d), 0)
	f.Add(patterned(17), uint32(0x01020304), 1)
	f.Add(patterned(64), uint32(0xffffffff), 2)
	f.Add(patterned(200), uint32(0xdeadbeef), 3)
	f.Fuzz(func(t *testing.T, data []byte, k uint32, pos int) {
		key := [4]byte{byte(k >> 24), byte(k >> 16), byte(k >> 8), byte(k)}
		got := append([]byte{}, data...)
		want := append([]byte{}, data...)
		gp := Mask(key, pos, got)
		wp := maskRef(key, pos&3, want)
		require.Equal(t, wp, gp)
		require.Equal(t, want, got)
	})
}

func FuzzParseClose(f *testing.F) {
	for _, tt := range closeCases {
		f.Add(tt.payload)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		code, reason, err := ParseClose(payload)
		switch {
		case len(payload) > MaxControlPayload:
			require.ErrorIs(t, err, ErrControlTooLong)
			return
		case len(payload) == 0:
			require.NoError(t, err)
			require.Equal(t, StatusNoStatusReceived, code)
			return
		case len(payload) == 1:
			require.ErrorIs(t, err, ErrClosePayloadTooShort)
			return
		}
		require.Equal(t, StatusCode(payload[0])<<8|StatusCode(payload[1]), code)
		require.Equal(t, payload[2:], reason)
		switch {
		case !code.ValidOnWire():
			require.ErrorIs(t, err, ErrInvalidCloseCode)
		case !utf8.Valid(reason):
			require.ErrorIs(t, err, ErrInvalidCloseReason)
		default:
			require.NoError(t, err)
			// A valid payload survives AppendClose unchanged.
			require.Equal(t, payload, AppendClose(nil, code, string(reason)))
		}
	})
}
