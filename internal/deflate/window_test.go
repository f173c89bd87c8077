package deflate

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWindow(t *testing.T) {
	tests := []struct {
		name   string
		size   int
		writes []int
	}{
		{"empty", 8, nil},
		{"partial", 8, []int{3}},
		{"exact", 8, []int{8}},
		{"wrap", 8, []int{5, 5}},
		{"wrap twice", 8, []int{7, 7, 7}},
		{"larger than window", 8, []int{3, 20}},
		{"bytes between writes", 16, []int{5, 0, 9, 4, 1, 30, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkWindow(t, tt.size, tt.writes)
		})
	}
}

// checkWindow writes len(writes) chunks and compares bytes() with the tail
// of the concatenation after every write.
func checkWindow(t *testing.T, size int, writes []int) {
	w := window{size: size}
	var all []byte
	next := byte(0)
	for _, n := range writes {
		p := make([]byte, n)
		for i := range p {
			p[i] = next
			next++
		}
		w.write(p)
		all = append(all, p...)
		assert.Equal(t, string(lastBytes(all, size)), string(w.bytes()))
	}
	assert.Equal(t, string(lastBytes(all, size)), string(w.bytes()))
	w.drop()
	assert.Empty(t, w.bytes())
}

func TestReverseBytes(t *testing.T) {
	for n := range 70 {
		b := randomBytes(uint64(n), n)
		want := slices.Clone(b)
		slices.Reverse(want)
		reverseBytes(b)
		assert.Equal(t, want, b, "length %d", n)
	}
}

func FuzzWindow(f *testing.F) {
	f.Add(uint8(8), []byte{3, 5, 0, 20})
	f.Add(uint8(1), []byte{1, 1, 1})
	f.Fuzz(func(t *testing.T, size uint8, writes []byte) {
		if size == 0 || len(writes) > 64 {
			return
		}
		ns := make([]int, len(writes))
		for i, n := range writes {
			ns[i] = int(n)
		}
		checkWindow(t, int(size), ns)
	})
}
