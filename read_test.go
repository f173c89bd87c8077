package websocket

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStaleReader: a message reader fails once the next message is asked
// for, and the unread rest of its message is skipped.
func TestStaleReader(t *testing.T) {
	sc, cc := connPair(t)
	require.NoError(t, cc.WriteMessage(TextMessage, []byte("first message")))
	require.NoError(t, cc.WriteMessage(TextMessage, []byte("second")))
	_, r1, err := sc.NextReader()
	require.NoError(t, err)
	buf := make([]byte, 5)
	_, err = io.ReadFull(r1, buf)
	require.NoError(t, err)
	_, r2, err := sc.NextReader()
	require.NoError(t, err)
	_, err = r1.Read(buf)
	assert.ErrorIs(t, err, errStaleReader)
	got, err := io.ReadAll(r2)
	require.NoError(t, err)
	assert.Equal(t, "second", string(got))
}
