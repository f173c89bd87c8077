package deflate

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInputSourceLeft: after some bytes were taken through the buffered
// reader, sourceLeft counts only the source's unread bytes, never the tail
// that the buffer may already hold, however the source chunks its reads.
func TestInputSourceLeft(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 1000) // more than one buffer
	tests := []struct {
		name     string
		size     int // source bytes
		consumed int // bytes read through the buffered reader
		want     bool
	}{
		{name: "empty source", size: 0, consumed: 0, want: false},
		{name: "nothing read", size: 3, consumed: 0, want: true},
		{name: "one byte left", size: 3, consumed: 2, want: true},
		{name: "all read, tail buffered", size: 3, consumed: 3, want: false},
		{name: "all read and part of the tail", size: 3, consumed: 5, want: false},
		{name: "one byte left past a buffer", size: len(data), consumed: len(data) - 1, want: true},
		{name: "all read past a buffer", size: len(data), consumed: len(data), want: false},
	}
	for _, tc := range tests {
		for i, src := range sources(data[:tc.size]) {
			var in input
			in.reset(src)
			for range tc.consumed {
				_, err := in.reader().ReadByte()
				require.NoError(t, err, "%s, source %d", tc.name, i)
			}
			got, err := in.sourceLeft()
			require.NoError(t, err, "%s, source %d", tc.name, i)
			assert.Equal(t, tc.want, got, "%s, source %d", tc.name, i)
		}
	}
}

// TestInputTailAndErrors: the reader yields the source, then the tail,
// then io.EOF; a source error comes after the bytes delivered with it and
// is kept; a source that never makes progress gets io.ErrNoProgress.
func TestInputTailAndErrors(t *testing.T) {
	var in input
	in.reset(bytes.NewReader([]byte("ab")))
	got, err := io.ReadAll(in.reader())
	require.NoError(t, err)
	assert.Equal(t, append([]byte("ab"), inflateTail[:]...), got)

	boom := errors.New("boom")
	in.reset(iotest.TimeoutReader(bytes.NewReader([]byte("abc"))))
	b, err := in.reader().ReadByte()
	require.NoError(t, err)
	assert.Equal(t, byte('a'), b)
	_, _ = in.reader().Discard(2)
	_, err = in.sourceLeft()
	assert.ErrorIs(t, err, iotest.ErrTimeout)
	assert.ErrorIs(t, in.srcErr, iotest.ErrTimeout)

	in.reset(iotest.ErrReader(boom))
	_, err = in.reader().ReadByte()
	assert.ErrorIs(t, err, boom)
	assert.ErrorIs(t, in.srcErr, boom)

	in.reset(zeroReader{})
	_, err = in.reader().ReadByte()
	assert.ErrorIs(t, err, io.ErrNoProgress)
	_, err = in.sourceLeft()
	assert.ErrorIs(t, err, io.ErrNoProgress)
}
