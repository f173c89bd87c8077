package echo

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestUnmask8(t *testing.T) {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	for _, n := range []int{0, 1, 3, 4, 7, 8, 9, 15, 16, 17, 125, 1031} {
		p := make([]byte, n)
		want := make([]byte, n)
		for i := range p {
			p[i] = byte(i * 7)
			want[i] = p[i] ^ key[i&3]
		}
		unmask8(p, binary.LittleEndian.Uint32(key[:]))
		assert.Equal(t, want, p, "length %d", n)
	}
}
