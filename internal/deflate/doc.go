// Package deflate implements the permessage-deflate WebSocket extension of
// RFC 7692 on top of github.com/klauspost/compress/flate: negotiation of
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
// # Memory: nothing kept that can be rebuilt
//
// No compressor and no inflater lives with a connection. Each message
// borrows a flate writer from a pool (one pool per level, and one per window
// size below 15 bits) and returns it at the end of the message; each
// received message borrows a pooled flate reader. Between messages a
// connection keeps only what the protocol forces it to remember:
//
//   - with context takeover on what it sends: the last min([DictSize],
//     2^N) bytes of plaintext it sent (N its negotiated window), handed to
//     the next message's writer as a dictionary. A compressor may always
//     decline to refer to earlier messages (takeover is a permission, not an
//     obligation), so referring only to the last 8 KiB is correct; measured
//     on JSON (BenchmarkTakeoverDesign) it keeps the wire size of a writer
//     kept whole per connection (several hundred KiB) within 1 %;
//   - with context takeover on what it receives: the last 2^N bytes of
//     inflated output (N the peer's window), which the peer may refer to,
//     handed to the next message's reader as its dictionary.
//
// Both buffers grow with what was exchanged (a connection that sent one
// 1 KiB message keeps about 1 KiB), up to their limit. Without context
// takeover in either direction an idle connection keeps no buffer at all.
//
// # Window sizes (the honest route)
//
// When the peer limits our window with server_max_window_bits=N (N < 15),
// every level that finds matches is replaced by klauspost/compress's
// window-limited encoder (flate.NewWriterWindow with 2^N bytes): no
// back-reference reaches further than 2^N bytes, including references
// into the dictionary of earlier messages, so context takeover works at
// every window size. This holds for N = 8 as well: zlib rounds a requested
// 8-bit window up to 9 bits on its compression side, but we promise 8 and
// never emit a distance above 256. Levels NoCompression and HuffmanOnly
// emit no back-references at all and ignore the window.
//
// The [Decompressor] accepts any back-reference the DEFLATE format allows
// inside a message (it is liberal in what it receives) and refuses, as
// corrupt, one that reaches before the start of the history it keeps.
package deflate
