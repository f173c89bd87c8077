package deflate

import "io"

// inflateTail follows the payload of every message given to flate: the
// 0x00 0x00 0xff 0xff removed by the sender (RFC 7692 section 7.2.2), then a
// final empty stored block so the flate reader ends with a clean io.EOF.
var inflateTail = [...]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// maxEmptyReads bounds consecutive (0, nil) reads from a source.
const maxEmptyReads = 100

// input is the flate.Reader the inflater reads: the message source, buffered,
// followed by inflateTail. Because it implements io.ByteReader, flate reads
// no byte beyond the end of the DEFLATE data it decodes, which lets the
// Decompressor tell where the stream stopped.
type input struct {
	src    io.Reader
	srcErr error // error from src other than io.EOF, once seen
	srcEOF bool
	r, w   int // unread source bytes are buf[r:w]
	tail   int // bytes of inflateTail delivered
	buf    [4096]byte
}

func (in *input) reset(src io.Reader) {
	in.src = src
	in.srcErr = nil
	in.srcEOF = src == nil
	in.r, in.w = 0, 0
	in.tail = 0
}

// fill refills buf from src. It returns a source error, which is also kept
// in srcErr. At the end of src it sets srcEOF and leaves buf empty.
func (in *input) fill() error {
	if in.srcErr != nil {
		return in.srcErr
	}
	for i := 0; i < maxEmptyReads; i++ {
		n, err := in.src.Read(in.buf[:])
		in.r, in.w = 0, n
		if err == io.EOF {
			in.srcEOF = true
			return nil
		}
		if err != nil {
			in.srcErr = err
			if n > 0 {
				return nil // deliver the data first; fill reports err next time
			}
			return err
		}
		if n > 0 {
			return nil
		}
	}
	in.srcErr = io.ErrNoProgress
	return in.srcErr
}

// ReadByte implements io.ByteReader.
func (in *input) ReadByte() (byte, error) {
	if in.r < in.w {
		b := in.buf[in.r]
		in.r++
		return b, nil
	}
	for !in.srcEOF {
		if err := in.fill(); err != nil {
			return 0, err
		}
		if in.r < in.w {
			b := in.buf[in.r]
			in.r++
			return b, nil
		}
	}
	if in.tail < len(inflateTail) {
		b := inflateTail[in.tail]
		in.tail++
		return b, nil
	}
	return 0, io.EOF
}

// Read implements io.Reader (flate uses it for stored blocks).
func (in *input) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	for in.r == in.w && !in.srcEOF {
		if err := in.fill(); err != nil {
			return 0, err
		}
	}
	if in.r < in.w {
		n := copy(p, in.buf[in.r:in.w])
		in.r += n
		return n, nil
	}
	if in.tail < len(inflateTail) {
		n := copy(p, inflateTail[in.tail:])
		in.tail += n
		return n, nil
	}
	return 0, io.EOF
}

// sourceLeft reports whether unread source bytes remain, reading src if
// needed to find out. It returns a source error if that read fails.
func (in *input) sourceLeft() (bool, error) {
	for in.r == in.w && !in.srcEOF {
		if err := in.fill(); err != nil {
			return false, err
		}
	}
	return in.r < in.w, nil
}
