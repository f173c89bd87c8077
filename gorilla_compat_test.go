package websocket

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Tests that code written for gorilla/websocket v1.5.3 keeps working: each
// asserts what such a program expects of the API.

// TestGorillaHandshakeErrorValue: gorilla's HandshakeError is a value type,
// found by a type assertion (as gorilla's examples do) and by errors.As
// with a value target.
func TestGorillaHandshakeErrorValue(t *testing.T) {
	var up Upgrader
	rec := httptest.NewRecorder()
	_, err := up.Upgrade(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", nil), nil)
	require.Error(t, err)

	he, ok := err.(HandshakeError)
	require.True(t, ok, "err.(HandshakeError) must hold, got %T", err)
	assert.Equal(t, http.StatusUpgradeRequired, he.Status)
	assert.Equal(t, rec.Code, he.Status)

	tests := []struct {
		name string
		err  error
	}{
		{"returned", err},
		{"wrapped", errors.Join(errors.New("context"), err)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var v HandshakeError
			require.ErrorAs(t, tc.err, &v)
			assert.Equal(t, http.StatusUpgradeRequired, v.Status)
			assert.ErrorIs(t, tc.err, ErrMissingUpgrade)

			// Code written for the pointer form keeps finding it.
			var p *HandshakeError
			require.ErrorAs(t, tc.err, &p)
			assert.Equal(t, v, *p)
		})
	}
}
