package echo

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHandler(t *testing.T) {
	for _, impl := range Impls {
		for _, compress := range []bool{false, true} {
			h, err := Handler(impl, Options{Compress: compress})
			require.NoError(t, err, impl)
			assert.NotNil(t, h, impl)
		}
	}
	for _, impl := range []string{"", "nope", "Gorilla"} {
		_, err := Handler(impl, Options{})
		assert.Error(t, err, impl)
	}
}
