package deflate

import (
	"compress/flate"
	"io"
	"sync"
)

// deflater is a flate.Writer bound to its own output sink, so a pooled
// deflater never references the Compressor that last used it.
type deflater struct {
	fw  *flate.Writer
	out sink
}

// writerPools holds one pool per compression level HuffmanOnly..BestCompression
// (index level-flate.HuffmanOnly): a flate.Writer's level is fixed at creation.
var writerPools [flate.BestCompression - flate.HuffmanOnly + 1]sync.Pool

// getDeflater returns a deflater for level (already validated), reset so its
// stream starts without history.
func getDeflater(level int) *deflater {
	pool := &writerPools[level-flate.HuffmanOnly]
	if d, ok := pool.Get().(*deflater); ok {
		d.fw.Reset(&d.out)
		return d
	}
	d := new(deflater)
	fw, err := flate.NewWriter(&d.out, level)
	if err != nil {
		// Unreachable: level was validated by NewCompressor.
		panic("deflate: invalid level reached the writer pool: " + err.Error())
	}
	d.fw = fw
	return d
}

// putDeflater returns d to the pool of level.
func putDeflater(level int, d *deflater) {
	d.out.reset()
	writerPools[level-flate.HuffmanOnly].Put(d)
}

// inflater is a pooled flate reader with the input adapter it reads from.
type inflater struct {
	fr flate.Resetter
	rd io.Reader
	in input
}

var readerPool sync.Pool

// getInflater returns an inflater reading src followed by the RFC 7692
// tail, primed with dict (may be nil).
func getInflater(src io.Reader, dict []byte) *inflater {
	f, ok := readerPool.Get().(*inflater)
	if !ok {
		f = new(inflater)
		f.rd = flate.NewReader(&f.in)
		f.fr = f.rd.(flate.Resetter)
	}
	f.in.reset(src)
	// Reset of the stdlib reader never fails.
	_ = f.fr.Reset(&f.in, dict)
	return f
}

// putInflater returns f to the pool, dropping its reference to the source.
func putInflater(f *inflater) {
	f.in.reset(nil)
	readerPool.Put(f)
}
