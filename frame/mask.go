package frame

import (
	"encoding/binary"
	"math/bits"
)

// Mask XORs b in place with the 4-byte masking key, starting at key
// offset pos, and returns the key offset for the byte after b, which is
// (pos+len(b)) & 3. Only the low two bits of pos are used, so any int is
// accepted. Masking is its own inverse, so the same call unmasks. Mask
// processes eight bytes at a time, never allocates and is safe for
// concurrent use on distinct slices.
func Mask(key [4]byte, pos int, b []byte) int {
	pos &= 3
	n := len(b)
	if n < 16 {
		for i := range b {
			b[i] ^= key[(pos+i)&3]
		}
		return (pos + n) & 3
	}
	// Build a 64-bit little-endian word whose byte i is key[(pos+i)&3].
	k32 := binary.LittleEndian.Uint32(key[:])
	k32 = bits.RotateLeft32(k32, -8*pos)
	k64 := uint64(k32) | uint64(k32)<<32
	i := 0
	for ; n-i >= 64; i += 64 {
		c := b[i : i+64 : i+64]
		binary.LittleEndian.PutUint64(c[0:8], binary.LittleEndian.Uint64(c[0:8])^k64)
		binary.LittleEndian.PutUint64(c[8:16], binary.LittleEndian.Uint64(c[8:16])^k64)
		binary.LittleEndian.PutUint64(c[16:24], binary.LittleEndian.Uint64(c[16:24])^k64)
		binary.LittleEndian.PutUint64(c[24:32], binary.LittleEndian.Uint64(c[24:32])^k64)
		binary.LittleEndian.PutUint64(c[32:40], binary.LittleEndian.Uint64(c[32:40])^k64)
		binary.LittleEndian.PutUint64(c[40:48], binary.LittleEndian.Uint64(c[40:48])^k64)
		binary.LittleEndian.PutUint64(c[48:56], binary.LittleEndian.Uint64(c[48:56])^k64)
		binary.LittleEndian.PutUint64(c[56:64], binary.LittleEndian.Uint64(c[56:64])^k64)
	}
	for ; n-i >= 8; i += 8 {
		c := b[i : i+8 : i+8]
		binary.LittleEndian.PutUint64(c, binary.LittleEndian.Uint64(c)^k64)
	}
	// i is a multiple of 8, so the key phase is still pos.
	for ; i < n; i++ {
		b[i] ^= key[(pos+i)&3]
	}
	return (pos + n) & 3
}
