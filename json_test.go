package websocket

import (
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestJSON(t *testing.T) {
	sc, cc := connPair(t)
	type msg struct {
		Name string
		N    int
	}
	require.NoError(t, cc.WriteJSON(msg{"a", 1}))
	var got msg
	require.NoError(t, sc.ReadJSON(&got))
	assert.Equal(t, msg{"a", 1}, got)
	assert.Error(t, cc.WriteJSON(func() {}), "unencodable value")
	require.NoError(t, cc.WriteMessage(TextMessage, nil))
	assert.ErrorIs(t, sc.ReadJSON(&got), io.ErrUnexpectedEOF)
}
