package deflate

import (
	"errors"
	"fmt"
)

// This file holds a deliberately simple, independent DEFLATE decoder
// (RFC 1951) used only by tests: it decodes bit by bit and records the
// largest back-reference distance, which compress/flate cannot tell us.

var (
	lengthBase  = [29]int{3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258}
	lengthExtra = [29]uint{0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0}
	distBase    = [30]int{1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577}
	distExtra   = [30]uint{0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13}
	clenOrder   = [19]int{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}
)

var errTestInflate = errors.New("test inflate: invalid stream")

// bitReader reads DEFLATE bits, least significant first.
type bitReader struct {
	data []byte
	pos  int
	buf  uint32
	n    uint
}

func (b *bitReader) bits(n uint) (int, error) {
	for b.n < n {
		if b.pos >= len(b.data) {
			return 0, fmt.Errorf("%w: out of input", errTestInflate)
		}
		b.buf |= uint32(b.data[b.pos]) << b.n
		b.pos++
		b.n += 8
	}
	v := int(b.buf & (1<<n - 1))
	b.buf >>= n
	b.n -= n
	return v, nil
}

// align drops the bits up to the next byte boundary.
func (b *bitReader) align() { b.buf, b.n = 0, 0 }

// huffman is a canonical Huffman code: count of codes per length and the
// symbols ordered by code.
type huffman struct {
	count  [16]int
	symbol []int
}

func newHuffman(lengths []int) (*huffman, error) {
	h := &huffman{symbol: make([]int, 0, len(lengths))}
	for _, l := range lengths {
		h.count[l]++
	}
	h.count[0] = 0
	left := 1
	for l := 1; l < 16; l++ {
		left <<= 1
		left -= h.count[l]
		if left < 0 {
			return nil, fmt.Errorf("%w: over-subscribed code", errTestInflate)
		}
	}
	for l := 1; l < 16; l++ {
		for sym, sl := range lengths {
			if sl == l {
				h.symbol = append(h.symbol, sym)
			}
		}
	}
	return h, nil
}

func (b *bitReader) decode(h *huffman) (int, error) {
	code, first, index := 0, 0, 0
	for l := 1; l < 16; l++ {
		bit, err := b.bits(1)
		if err != nil {
			return 0, err
		}
		code |= bit
		count := h.count[l]
		if code-first < count {
			return h.symbol[index+code-first], nil
		}
		index += count
		first = (first + count) << 1
		code <<= 1
	}
	return 0, fmt.Errorf("%w: bad code", errTestInflate)
}

// testInflate decodes a DEFLATE stream that must end with a final block.
// Back-references may reach into hist (previous output). It returns the new
// output and the largest distance used.
func testInflate(hist, data []byte) (out []byte, maxDist int, err error) {
	br := &bitReader{data: data}
	buf := append([]byte(nil), hist...)
	for {
		final, err := br.bits(1)
		if err != nil {
			return nil, 0, err
		}
		typ, err := br.bits(2)
		if err != nil {
			return nil, 0, err
		}
		switch typ {
		case 0:
			buf, err = testStored(br, buf)
		case 1:
			buf, err = testCodes(br, buf, fixedLit, fixedDist, &maxDist)
		case 2:
			var lit, dist *huffman
			if lit, dist, err = testDynamic(br); err == nil {
				buf, err = testCodes(br, buf, lit, dist, &maxDist)
			}
		default:
			err = fmt.Errorf("%w: block type 3", errTestInflate)
		}
		if err != nil {
			return nil, 0, err
		}
		if final == 1 {
			return buf[len(hist):], maxDist, nil
		}
	}
}

func testStored(br *bitReader, buf []byte) ([]byte, error) {
	br.align()
	if br.pos+4 > len(br.data) {
		return nil, fmt.Errorf("%w: short stored header", errTestInflate)
	}
	n := int(br.data[br.pos]) | int(br.data[br.pos+1])<<8
	nn := int(br.data[br.pos+2]) | int(br.data[br.pos+3])<<8
	if n != ^nn&0xffff {
		return nil, fmt.Errorf("%w: stored length mismatch", errTestInflate)
	}
	br.pos += 4
	if br.pos+n > len(br.data) {
		return nil, fmt.Errorf("%w: short stored block", errTestInflate)
	}
	buf = append(buf, br.data[br.pos:br.pos+n]...)
	br.pos += n
	return buf, nil
}

var fixedLit, fixedDist = func() (*huffman, *huffman) {
	var l [288]int
	for i := range l {
		switch {
		case i < 144:
			l[i] = 8
		case i < 256:
			l[i] = 9
		case i < 280:
			l[i] = 7
		default:
			l[i] = 8
		}
	}
	d := make([]int, 30)
	for i := range d {
		d[i] = 5
	}
	lit, _ := newHuffman(l[:])
	dist, _ := newHuffman(d)
	return lit, dist
}()

func testDynamic(br *bitReader) (*huffman, *huffman, error) {
	hlit, err := br.bits(5)
	if err != nil {
		return nil, nil, err
	}
	hdist, err := br.bits(5)
	if err != nil {
		return nil, nil, err
	}
	hclen, err := br.bits(4)
	if err != nil {
		return nil, nil, err
	}
	nlen, ndist, ncode := hlit+257, hdist+1, hclen+4
	var cl [19]int
	for i := 0; i < ncode; i++ {
		if cl[clenOrder[i]], err = br.bits(3); err != nil {
			return nil, nil, err
		}
	}
	clh, err := newHuffman(cl[:])
	if err != nil {
		return nil, nil, err
	}
	lengths := make([]int, 0, nlen+ndist)
	for len(lengths) < nlen+ndist {
		sym, err := br.decode(clh)
		if err != nil {
			return nil, nil, err
		}
		if sym < 16 {
			lengths = append(lengths, sym)
			continue
		}
		val, rep := 0, 0
		switch sym {
		case 16:
			if len(lengths) == 0 {
				return nil, nil, fmt.Errorf("%w: repeat with no length", errTestInflate)
			}
			val = lengths[len(lengths)-1]
			rep, err = br.bits(2)
			rep += 3
		case 17:
			rep, err = br.bits(3)
			rep += 3
		default:
			rep, err = br.bits(7)
			rep += 11
		}
		if err != nil {
			return nil, nil, err
		}
		if len(lengths)+rep > nlen+ndist {
			return nil, nil, fmt.Errorf("%w: too many lengths", errTestInflate)
		}
		for ; rep > 0; rep-- {
			lengths = append(lengths, val)
		}
	}
	lit, err := newHuffman(lengths[:nlen])
	if err != nil {
		return nil, nil, err
	}
	dist, err := newHuffman(lengths[nlen:])
	if err != nil {
		return nil, nil, err
	}
	return lit, dist, nil
}

func testCodes(br *bitReader, buf []byte, lit, dist *huffman, maxDist *int) ([]byte, error) {
	for {
		sym, err := br.decode(lit)
		if err != nil {
			return nil, err
		}
		switch {
		case sym < 256:
			buf = append(buf, byte(sym))
			continue
		case sym == 256:
			return buf, nil
		case sym > 285:
			return nil, fmt.Errorf("%w: bad length symbol", errTestInflate)
		}
		sym -= 257
		extra, err := br.bits(lengthExtra[sym])
		if err != nil {
			return nil, err
		}
		length := lengthBase[sym] + extra
		dsym, err := br.decode(dist)
		if err != nil {
			return nil, err
		}
		if dsym > 29 {
			return nil, fmt.Errorf("%w: bad distance symbol", errTestInflate)
		}
		if extra, err = br.bits(distExtra[dsym]); err != nil {
			return nil, err
		}
		d := distBase[dsym] + extra
		if d > len(buf) {
			return nil, fmt.Errorf("%w: distance %d too far back", errTestInflate, d)
		}
		*maxDist = max(*maxDist, d)
		for i := 0; i < length; i++ {
			buf = append(buf, buf[len(buf)-d])
		}
	}
}
