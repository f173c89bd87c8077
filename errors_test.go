package websocket

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHandshakeErrorMessage(t *testing.T) {
	err := HandshakeError{Status: http.StatusForbidden, Err: ErrOriginDenied}
	assert.Equal(t, "websocket: request origin not allowed (answered 403 Forbidden)", err.Error())
	assert.Equal(t, "websocket: handshake failed (answered 500 Internal Server Error)",
		HandshakeError{Status: 500}.Error())
	assert.ErrorIs(t, err, ErrOriginDenied)
}
