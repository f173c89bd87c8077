// Package deflate implements the permessage-deflate WebSocket extension of
// RFC 7692 on top of the standard library's compress/flate: negotiation of
// the Sec-WebSocket-Extensions header (server side), per-message compression
// and per-message decompression.
//
// # Wiring on a server
//
// After [Negotiate] accepted an offer with [Params] p, a server connection
// builds one [Compressor] for the messages it sends and one [Decompressor]
// for the messages it receives:
//
//	c := NewCompressor(level, p.ServerMaxWindowBits, !p.ServerNoContextTakeover)
//	d := NewDecompressor(!p.ClientNoContextTakeover, p.ClientMaxWindowBits)
//
// A compressed message is sent with RSV1 set on its first frame; its payload
// is what [Compressor.Compress] returns (or what the [Compressor.Writer]
// wrote). A received message with RSV1 set is read by calling
// [Decompressor.Reset] with a reader of the concatenated, unmasked frame
// payloads that returns io.EOF at the end of the message, then reading
// [Decompressor.Read] until io.EOF. Both types must be released with Release
// when the connection closes.
//
// # Window sizes and context takeover (the honest route)
//
// compress/flate always uses a 32 KiB window and cannot be told to use a
// smaller one. When the peer limits our window with server_max_window_bits=N
// (N < 15) the [Compressor] therefore splits every message into chunks of at
// most 2^N input bytes and compresses each chunk with a freshly reset
// flate.Writer followed by a sync flush. A chunk's compressor has no history,
// so no back-reference crosses a chunk boundary and no distance exceeds 2^N;
// the sync flush keeps the stream byte aligned and non-final, so the
// concatenation of chunks is one valid DEFLATE stream. This holds for N = 8
// as well: zlib rounds a requested 8-bit window up to 9 bits on its
// compression side, but we promise 8 and never emit a distance above 256, so
// a peer inflating with a 256-byte (or 512-byte) window decodes our output.
//
// The price: with N < 15 the compression ratio is lower (matches cannot reach
// across chunks and each chunk ends with a 4-5 byte empty stored block), and
// context takeover cannot be kept honestly (stdlib history would reach 32 KiB
// back), so every chunk, including the first chunk of each message, is
// compressed without history even when context takeover was negotiated. A
// compressor may always decline to refer to earlier messages (the absence of
// *_no_context_takeover is a permission, not an obligation: the peer merely
// keeps a dictionary we do not use); it only costs ratio. It also costs CPU: every chunk gets
// its own Huffman tables, and resetting a flate.Writer at levels 2..9 clears
// about 640 KiB of hash tables. Measured on a 16 KiB JSON message
// (BenchmarkCompressSmallWindow), N = 8 gives 2.5-3.2 times the bytes of
// N = 15 and takes 6-9 times as long; N = 12 costs 10-20% more bytes and
// about 25% more time.
//
// With a 15-bit window and context takeover the [Compressor] keeps one
// flate.Writer for the whole connection (about 800 KiB of memory per
// connection: compress/flate's hash tables and buffers). Without context
// takeover a flate.Writer is taken from a per-level pool for each message
// and returned at the end of the message, so an idle connection holds no
// compressor. Levels NoCompression and HuffmanOnly emit no back-references
// at all; they never chunk and never keep a writer between messages.
//
// The [Decompressor] accepts any back-reference the DEFLATE format allows
// inside a message (it is liberal in what it receives); across messages with
// context takeover it keeps exactly the last 2^N bytes of output (N being the
// peer's negotiated window), in a buffer of that size, and hands them to a
// pooled flate reader as its dictionary. An idle connection holds that
// window only, never an inflater.
package deflate
