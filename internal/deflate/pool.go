package deflate

import (
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// Compression levels, with compress/flate's values (klauspost/compress
// uses the same numbers; its ConstantCompression is compress/flate's
// HuffmanOnly).
const (
	levelHuffmanOnly = flate.ConstantCompression // -2
	levelNone        = flate.NoCompression       // 0
	levelBest        = flate.BestCompression     // 9
	levelDefault     = 6                         // what -1 and out-of-range levels mean
)

// deflater is a pooled klauspost flate.Writer bound to its own output sink,
// so a pooled deflater never references the Compressor that last used it.
type deflater struct {
	fw  *flate.Writer
	out sink
}

// encoderKind identifies one pool of deflaters: a level of a 15-bit
// writer, or (for windows below 15 bits) a window writer, whose LZ77 search
// never reaches further back than its window.
type encoderKind struct {
	level      int // levelHuffmanOnly..levelBest; ignored when windowBits < 15
	windowBits int // MinWindowBits..MaxWindowBits
}

// One pool per level of 15-bit writers (index level-levelHuffmanOnly) and
// one per window size below 15 bits (index windowBits-MinWindowBits).
var (
	levelPools  [levelBest - levelHuffmanOnly + 1]sync.Pool
	windowPools [MaxWindowBits - MinWindowBits]sync.Pool
)

func (k encoderKind) pool() *sync.Pool {
	if k.windowBits < MaxWindowBits {
		return &windowPools[k.windowBits-MinWindowBits]
	}
	return &levelPools[k.level-levelHuffmanOnly]
}

// getDeflater returns a deflater of kind k whose stream starts with dict as
// its history (nil for none).
func getDeflater(k encoderKind, dict []byte) *deflater {
	d, ok := k.pool().Get().(*deflater)
	if !ok {
		d = new(deflater)
		var err error
		if k.windowBits < MaxWindowBits {
			d.fw, err = flate.NewWriterWindow(&d.out, 1<<k.windowBits)
		} else {
			d.fw, err = flate.NewWriter(&d.out, k.level)
		}
		if err != nil {
			// Unreachable: NewCompressor validated level and window.
			panic("deflate: invalid encoder reached the pool: " + err.Error())
		}
	}
	// ResetDict, never Reset: Reset would prime the stream with the
	// dictionary the writer was last given, which the peer does not have.
	d.fw.ResetDict(&d.out, dict)
	return d
}

// putDeflater returns d to the pool of kind k, dropping its references to
// the caller's dictionary and output.
func putDeflater(k encoderKind, d *deflater) {
	d.out.reset()
	d.fw.ResetDict(&d.out, nil)
	k.pool().Put(d)
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
		f.in.reset(src)
		f.rd = flate.NewReader(f.in.reader())
		f.fr = f.rd.(flate.Resetter)
	} else {
		f.in.reset(src)
	}
	// Reset never fails: the error is for interface compatibility.
	_ = f.fr.Reset(f.in.reader(), dict)
	return f
}

// putInflater returns f to the pool, dropping its references to the source
// and dictionary.
func putInflater(f *inflater) {
	f.in.reset(nil)
	_ = f.fr.Reset(f.in.reader(), nil)
	readerPool.Put(f)
}
