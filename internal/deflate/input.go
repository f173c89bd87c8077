package deflate

import (
	"bufio"
	"io"
)

// inflateTail follows the payload of every message given to flate: the
// 0x00 0x00 0xff 0xff removed by the sender (RFC 7692 section 7.2.2), then a
// final empty stored block so the flate reader ends with a clean io.EOF.
var inflateTail = [...]byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

// maxEmptyReads bounds consecutive (0, nil) reads from a source.
const maxEmptyReads = 100

// inputBufferSize is the read-ahead of the buffered reader flate decodes
// from, and so the most compressed bytes taken from the source before the
// inflated output is read.
const inputBufferSize = 4096

// input is what the inflater reads: the message source followed by
// inflateTail, through a bufio.Reader. flate decodes a *bufio.Reader with
// direct calls (klauspost/compress special-cases the type); any other
// io.ByteReader costs an interface call per compressed byte. The buffer
// reads ahead, so bytes past the end of a DEFLATE stream may be in it:
// sourceLeft accounts for them.
type input struct {
	src    io.Reader
	srcErr error // error from src other than io.EOF, once seen
	srcEOF bool
	tail   int // bytes of inflateTail delivered to br
	br     bufio.Reader
}

// reader returns the reader flate decodes.
func (in *input) reader() *bufio.Reader { return &in.br }

func (in *input) reset(src io.Reader) {
	in.src = src
	in.srcErr = nil
	in.srcEOF = src == nil
	in.tail = 0
	if src == nil {
		in.br.Reset(nil)
		return
	}
	if in.br.Size() != inputBufferSize {
		in.br = *bufio.NewReaderSize(in, inputBufferSize)
		return
	}
	in.br.Reset(in)
}

// Read implements io.Reader for br: bytes from src, then inflateTail, then
// io.EOF. A source error is returned (after any bytes that came with it)
// and kept in srcErr.
func (in *input) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if in.srcErr != nil {
		return 0, in.srcErr
	}
	if !in.srcEOF {
		for i := 0; i < maxEmptyReads; i++ {
			n, err := in.src.Read(p)
			if err == io.EOF {
				in.srcEOF = true
				if n > 0 {
					return n, nil
				}
				break
			}
			if err != nil {
				in.srcErr = err
				return n, err
			}
			if n > 0 {
				return n, nil
			}
		}
		if !in.srcEOF {
			in.srcErr = io.ErrNoProgress
			return 0, in.srcErr
		}
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
//
// The tail is delivered only after the source's end, and br holds the
// last bytes delivered to it, so of br's buffered bytes the last in.tail
// are the tail's and any before them the source's.
func (in *input) sourceLeft() (bool, error) {
	for {
		if in.br.Buffered() > in.tail {
			return true, nil
		}
		if in.srcEOF {
			return false, nil
		}
		if _, err := in.br.Peek(1); err != nil && in.br.Buffered() == 0 {
			return false, err
		}
	}
}
