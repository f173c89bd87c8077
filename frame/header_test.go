package frame

import (
	"bytes"
	"errors"
	"io"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// headerCases are valid headers with their exact minimal wire encoding.
var headerCases = []struct {
	name string
	h    Header
	wire []byte
}{
	{"empty text", Header{Fin: true, Opcode: OpText}, []byte{0x81, 0x00}},
	{"len 1 unfinished binary", Header{Opcode: OpBinary, Length: 1}, []byte{0x02, 0x01}},
	{"len 125", Header{Fin: true, Opcode: OpBinary, Length: 125}, []byte{0x82, 0x7d}},
	{"len 126", Header{Fin: true, Opcode: OpBinary, Length: 126}, []byte{0x82, 0x7e, 0x00, 0x7e}},
	{"len 65535", Header{Fin: true, Opcode: OpBinary, Length: 65535}, []byte{0x82, 0x7e, 0xff, 0xff}},
	{"len 65536", Header{Fin: true, Opcode: OpBinary, Length: 65536},
		[]byte{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}},
	{"len max", Header{Fin: true, Opcode: OpBinary, Length: math.MaxInt64},
		[]byte{0x82, 0x7f, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
	{"masked len 0", Header{Fin: true, Opcode: OpPing, Masked: true, Key: testKey},
		[]byte{0x89, 0x80, 0x37, 0xfa, 0x21, 0x3d}},
	{"masked len 125", Header{Fin: true, Opcode: OpText, Masked: true, Key: testKey, Length: 125},
		[]byte{0x81, 0xfd, 0x37, 0xfa, 0x21, 0x3d}},
	{"masked len 126", Header{Fin: true, Opcode: OpText, Masked: true, Key: testKey, Length: 126},
		[]byte{0x81, 0xfe, 0x00, 0x7e, 0x37, 0xfa, 0x21, 0x3d}},
	{"masked len 65535", Header{Opcode: OpContinuation, Masked: true, Key: testKey, Length: 65535},
		[]byte{0x00, 0xfe, 0xff, 0xff, 0x37, 0xfa, 0x21, 0x3d}},
	{"masked len 65536", Header{Fin: true, Opcode: OpBinary, Masked: true, Key: testKey, Length: 65536},
		[]byte{0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 0x37, 0xfa, 0x21, 0x3d}},
	{"masked len max", Header{Fin: true, Opcode: OpBinary, Masked: true, Key: testKey, Length: math.MaxInt64},
		[]byte{0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x37, 0xfa, 0x21, 0x3d}},
	{"rsv1", Header{Fin: true, Rsv1: true, Opcode: OpText, Length: 3}, []byte{0xc1, 0x03}},
	{"rsv2", Header{Rsv2: true, Opcode: OpText}, []byte{0x21, 0x00}},
	{"rsv3", Header{Rsv3: true, Opcode: OpText}, []byte{0x11, 0x00}},
	{"all bits reserved opcode", Header{Fin: true, Rsv1: true, Rsv2: true, Rsv3: true, Opcode: 0xF, Length: 5},
		[]byte{0xff, 0x05}},
	{"close", Header{Fin: true, Opcode: OpClose, Length: 2}, []byte{0x88, 0x02}},
	{"pong", Header{Fin: true, Opcode: OpPong}, []byte{0x8a, 0x00}},
}

func TestAppendHeaderAndParse(t *testing.T) {
	for _, tt := range headerCases {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, len(tt.wire), tt.h.Size(), "Size")
			assert.Equal(t, len(tt.wire), HeaderSize(tt.wire[0], tt.wire[1]), "HeaderSize")

			got, err := AppendHeader([]byte("prefix"), tt.h)
			require.NoError(t, err)
			assert.Equal(t, append([]byte("prefix"), tt.wire...), got)

			// Trailing payload bytes must be left alone.
			in := append(append([]byte{}, tt.wire...), 0xAA, 0xBB)
			h, n, err := Parse(in)
			require.NoError(t, err)
			assert.Equal(t, len(tt.wire), n)
			assert.Equal(t, tt.h, h)

			// Every strict prefix is short.
			for i := 0; i < len(tt.wire); i++ {
				h, n, err := Parse(tt.wire[:i])
				assert.ErrorIs(t, err, ErrShortHeader, "prefix %d", i)
				assert.Zero(t, n)
				assert.Equal(t, Header{}, h)
			}
		})
	}
}

func TestParseNonMinimalLength(t *testing.T) {
	// RFC 6455 asks senders for minimal encodings; Parse accepts either.
	h, n, err := Parse([]byte{0x82, 0x7e, 0x00, 0x05})
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	assert.Equal(t, int64(5), h.Length)

	h, n, err = Parse([]byte{0x82, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0})
	require.NoError(t, err)
	assert.Equal(t, 10, n)
	assert.Equal(t, int64(0), h.Length)
}

func TestParseLengthOverflow(t *testing.T) {
	for _, wire := range [][]byte{
		{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0},
		{0x82, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		{0x82, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4},
	} {
		h, n, err := Parse(wire)
		assert.ErrorIs(t, err, ErrLengthOverflow)
		assert.Zero(t, n)
		assert.Equal(t, Header{}, h)
	}
}

func TestHeaderSize(t *testing.T) {
	for b1 := 0; b1 < 256; b1++ {
		want := 2
		switch b1 & 0x7f {
		case 126:
			want = 4
		case 127:
			want = 10
		}
		if b1&0x80 != 0 {
			want += 4
		}
		assert.Equal(t, want, HeaderSize(0x81, byte(b1)), "b1=%#x", b1)
	}
}

func TestAppendHeaderNegativeLength(t *testing.T) {
	dst := []byte{1, 2, 3}
	got, err := AppendHeader(dst, Header{Fin: true, Opcode: OpText, Length: -1})
	assert.ErrorIs(t, err, ErrNegativeLength)
	assert.Equal(t, []byte{1, 2, 3}, got)
	assert.Equal(t, 2, Header{Length: -1}.Size())
}

func TestAppendHeaderOpcodeLowBitsOnly(t *testing.T) {
	got, err := AppendHeader(nil, Header{Fin: true, Opcode: 0x12})
	require.NoError(t, err)
	assert.Equal(t, []byte{0x82, 0x00}, got)
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		h    Header
		want error
	}{
		{"text", Header{Fin: true, Opcode: OpText, Length: 1 << 40}, nil},
		{"unfinished binary", Header{Opcode: OpBinary, Length: 10}, nil},
		{"continuation", Header{Opcode: OpContinuation}, nil},
		{"rsv bits ignored", Header{Fin: true, Rsv1: true, Rsv2: true, Rsv3: true, Opcode: OpText}, nil},
		{"close 125", Header{Fin: true, Opcode: OpClose, Length: 125}, nil},
		{"ping 0", Header{Fin: true, Opcode: OpPing}, nil},
		{"pong 125", Header{Fin: true, Opcode: OpPong, Length: 125}, nil},
		{"reserved 0x3", Header{Fin: true, Opcode: 0x3}, ErrReservedOpcode},
		{"reserved 0x7", Header{Fin: true, Opcode: 0x7}, ErrReservedOpcode},
		{"reserved 0xB", Header{Fin: true, Opcode: 0xB}, ErrReservedOpcode},
		{"reserved 0xF long fragmented", Header{Opcode: 0xF, Length: 500}, ErrReservedOpcode},
		{"close 126", Header{Fin: true, Opcode: OpClose, Length: 126}, ErrControlTooLong},
		{"ping huge", Header{Fin: true, Opcode: OpPing, Length: math.MaxInt64}, ErrControlTooLong},
		{"pong long fragmented", Header{Opcode: OpPong, Length: 126}, ErrControlTooLong},
		{"ping fragmented", Header{Opcode: OpPing, Length: 1}, ErrControlFragmented},
		{"close fragmented", Header{Opcode: OpClose}, ErrControlFragmented},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.h.Check()
			if tt.want == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tt.want)
			}
		})
	}
}

func TestReadHeader(t *testing.T) {
	var buf [MaxHeaderSize]byte
	for _, tt := range headerCases {
		t.Run(tt.name, func(t *testing.T) {
			payload := []byte("payload")
			r := bytes.NewReader(append(append([]byte{}, tt.wire...), payload...))
			h, err := ReadHeader(r, &buf)
			require.NoError(t, err)
			assert.Equal(t, tt.h, h)
			rest, err := io.ReadAll(r)
			require.NoError(t, err)
			assert.Equal(t, payload, rest, "ReadHeader must not consume payload")

			// One byte at a time through a reader that returns tiny reads.
			h, err = ReadHeader(&oneByteReader{b: tt.wire}, &buf)
			require.NoError(t, err)
			assert.Equal(t, tt.h, h)

			for i := 1; i < len(tt.wire); i++ {
				_, err := ReadHeader(bytes.NewReader(tt.wire[:i]), &buf)
				assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "prefix %d", i)
			}
		})
	}
}

func TestReadHeaderErrors(t *testing.T) {
	var buf [MaxHeaderSize]byte
	_, err := ReadHeader(bytes.NewReader(nil), &buf)
	assert.ErrorIs(t, err, io.EOF)

	_, err = ReadHeader(bytes.NewReader([]byte{0x82, 0x7f, 0x80, 0, 0, 0, 0, 0, 0, 0}), &buf)
	assert.ErrorIs(t, err, ErrLengthOverflow)

	boom := errors.New("boom")
	_, err = ReadHeader(&errReader{data: []byte{0x82, 0x7e}, err: boom}, &buf)
	assert.ErrorIs(t, err, boom)
}

func TestWriteHeader(t *testing.T) {
	var buf [MaxHeaderSize]byte
	for _, tt := range headerCases {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, WriteHeader(&out, tt.h, &buf))
			assert.Equal(t, tt.wire, out.Bytes())
		})
	}
}

func TestWriteHeaderErrors(t *testing.T) {
	var buf [MaxHeaderSize]byte
	var out bytes.Buffer
	assert.ErrorIs(t, WriteHeader(&out, Header{Length: -5}, &buf), ErrNegativeLength)
	assert.Zero(t, out.Len())

	boom := errors.New("boom")
	assert.ErrorIs(t, WriteHeader(failWriter{n: 1, err: boom}, Header{Fin: true}, &buf), boom)
	assert.ErrorIs(t, WriteHeader(failWriter{n: 1}, Header{Fin: true}, &buf), io.ErrShortWrite)
}

func TestHeaderZeroAllocs(t *testing.T) {
	wire := []byte{0x82, 0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x37, 0xfa, 0x21, 0x3d}
	h := Header{Fin: true, Opcode: OpBinary, Masked: true, Key: testKey, Length: 1 << 40}
	dst := make([]byte, 0, MaxHeaderSize)
	var buf [MaxHeaderSize]byte
	r := bytes.NewReader(wire)
	var sink Header

	assert.Zero(t, testing.AllocsPerRun(100, func() {
		sink, _, _ = Parse(wire)
	}), "Parse")
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		dst, _ = AppendHeader(dst[:0], h)
	}), "AppendHeader")
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		r.Reset(wire)
		sink, _ = ReadHeader(r, &buf)
	}), "ReadHeader")
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		_ = WriteHeader(io.Discard, h, &buf)
	}), "WriteHeader")
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		_ = sink.Check()
		_ = sink.Opcode.String()
	}), "Check/String")
	assert.Equal(t, int64(math.MaxInt64), sink.Length)
}

type oneByteReader struct{ b []byte }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.b[0]
	r.b = r.b[1:]
	return 1, nil
}

type errReader struct {
	data []byte
	err  error
}

func (r *errReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

type failWriter struct {
	n   int
	err error
}

func (w failWriter) Write(p []byte) (int, error) { return min(w.n, len(p)), w.err }
