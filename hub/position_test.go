package hub_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/hub"
)

func fmtSscan(s string, a ...any) (int, error) { return fmt.Sscan(s, a...) }

var positionCases = []struct {
	token string
	want  hub.Position
	ok    bool
}{
	{"", hub.Position{}, true},
	{":0", hub.Position{}, true},
	{"abc:0", hub.Position{Epoch: "abc"}, true},
	{"e-1_x:42", hub.Position{Epoch: "e-1_x", Offset: 42}, true},
	{"e:18446744073709551615", hub.Position{Epoch: "e", Offset: 1<<64 - 1}, true},
	{"e:18446744073709551616", hub.Position{}, false},
	{"e", hub.Position{}, false},
	{"e:", hub.Position{}, false},
	{"e:01", hub.Position{}, false},
	{"e:+1", hub.Position{}, false},
	{"e:-1", hub.Position{}, false},
	{"e:1:2", hub.Position{}, false},
	{"e f:1", hub.Position{}, false},
	{"é:1", hub.Position{}, false},
	{string(make([]byte, 65)) + ":1", hub.Position{}, false},
}

func TestParsePosition(t *testing.T) {
	for _, tc := range positionCases {
		got, err := hub.ParsePosition(tc.token)
		if !tc.ok {
			assert.ErrorIs(t, err, hub.ErrBadPosition, "%q", tc.token)
			continue
		}
		require.NoError(t, err, "%q", tc.token)
		assert.Equal(t, tc.want, got, "%q", tc.token)
		if tc.token != "" {
			assert.Equal(t, tc.token, got.String(), "round trip")
		}
	}
}

// FuzzParsePosition checks that any token either fails with
// ErrBadPosition or parses to a position that prints back to it.
func FuzzParsePosition(f *testing.F) {
	for _, tc := range positionCases {
		f.Add(tc.token)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := hub.ParsePosition(s)
		if err != nil {
			require.ErrorIs(t, err, hub.ErrBadPosition)
			return
		}
		if s == "" {
			require.True(t, p.IsZero())
			return
		}
		require.Equal(t, s, p.String())
		require.True(t, p.Epoch == "" || hub.ValidEpoch(p.Epoch))
	})
}
