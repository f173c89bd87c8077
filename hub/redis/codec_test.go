package redis

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/wsup/websocket/hub"
)

var decodeCases = []struct {
	name string
	msg  string
	want hub.Position
	typ  int
	data string
	ok   bool
}{
	{"text", "w1 abc 1 1\nhello", hub.Position{Epoch: "abc", Offset: 1}, 1, "hello", true},
	{"binary, empty", "w1 e-_9 18446744073709551615 2\n", hub.Position{Epoch: "e-_9", Offset: 1<<64 - 1}, 2, "", true},
	{"data with newlines", "w1 e 7 1\na\nb w1", hub.Position{Epoch: "e", Offset: 7}, 1, "a\nb w1", true},
	{"other version", "w2 e 1 1\nx", hub.Position{}, 0, "", false},
	{"no newline", "w1 e 1 1", hub.Position{}, 0, "", false},
	{"offset 0", "w1 e 0 1\nx", hub.Position{}, 0, "", false},
	{"leading zero", "w1 e 01 1\nx", hub.Position{}, 0, "", false},
	{"signed offset", "w1 e +1 1\nx", hub.Position{}, 0, "", false},
	{"offset overflow", "w1 e 18446744073709551616 1\nx", hub.Position{}, 0, "", false},
	{"control type", "w1 e 1 9\nx", hub.Position{}, 0, "", false},
	{"empty epoch", "w1  1 1\nx", hub.Position{}, 0, "", false},
	{"bad epoch", "w1 é 1 1\nx", hub.Position{}, 0, "", false},
	{"four fields", "w1 e 1 1 1\nx", hub.Position{}, 0, "", false},
	{"header too long", "w1 " + string(bytes.Repeat([]byte("e"), 100)) + " 1 1\nx", hub.Position{}, 0, "", false},
}

func TestDecode(t *testing.T) {
	for _, tc := range decodeCases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decode("topic", []byte(tc.msg))
			if !tc.ok {
				assert.ErrorIs(t, err, errBadMessage)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, hub.Publication{Topic: "topic", Position: tc.want, Type: tc.typ, Data: []byte(tc.data)}, p)
		})
	}
}

// FuzzDecode checks that decode rejects with errBadMessage or returns a
// publication whose re-encoding is the message.
func FuzzDecode(f *testing.F) {
	for _, tc := range decodeCases {
		f.Add([]byte(tc.msg))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		p, err := decode("t", msg)
		if err != nil {
			require.ErrorIs(t, err, errBadMessage)
			return
		}
		again := append(encodeHeader(p.Position.Epoch, p.Position.Offset, p.Type), p.Data...)
		require.Equal(t, msg, again)
	})
}
