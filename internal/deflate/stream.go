package deflate

import (
	"errors"
	"io"
)

var errWriterClosed = errors.New("deflate: write to closed message writer")

// Writer starts a message compressed in streaming form (for NextWriter). The
// returned writer compresses what is written to it and writes the compressed
// bytes to dst as flate produces them, always holding back the last 4 bytes;
// Close ends the message with a sync flush and drops the 4-byte tail
// 0x00 0x00 0xff 0xff, so dst receives exactly what Compress would return.
//
// The writer belongs to the Compressor and is reused for the next message:
// it must not be used after Close. Until Close, Compress and Writer report
// an error. If the Compressor was released or broken, or a writer is already
// open, Writer returns a writer whose methods all report that error. An
// error from dst is returned by Write or Close and ends the message.
func (c *Compressor) Writer(dst io.Writer) io.WriteCloser {
	if err := c.check(); err != nil {
		return failedWriter{err}
	}
	c.begin()
	c.d.out.w = dst
	c.mw = messageWriter{c: c, open: true}
	return &c.mw
}

// messageWriter is the io.WriteCloser returned by Compressor.Writer.
type messageWriter struct {
	c    *Compressor
	open bool
	err  error
}

// Write compresses p. It returns len(p) or an error (a write error from dst,
// or use after Close).
func (w *messageWriter) Write(p []byte) (int, error) {
	if !w.open {
		return 0, errWriterClosed
	}
	if w.err != nil {
		return 0, w.err
	}
	if _, err := w.c.d.fw.Write(p); err != nil {
		w.err = err
		return 0, err
	}
	// The deflater copied p into its own history when it was primed, so
	// the dictionary may change under it now.
	w.c.record(p)
	return len(p), nil
}

// Close flushes the message and drops its sync tail. It reports a write
// error from dst, and errWriterClosed when called twice.
func (w *messageWriter) Close() error {
	if !w.open {
		return errWriterClosed
	}
	w.open = false
	c := w.c
	err := w.err
	if err == nil {
		err = c.d.fw.Flush()
	}
	if err == nil && !c.d.out.heldTail() {
		err = errMissingTail
	}
	c.end()
	if err != nil {
		c.fail(err)
	}
	return err
}

// failedWriter reports err from every call.
type failedWriter struct{ err error }

func (f failedWriter) Write([]byte) (int, error) { return 0, f.err }

func (f failedWriter) Close() error { return f.err }
