// Package frame encodes and decodes RFC 6455 WebSocket frame headers,
// applies the client-to-server payload mask and handles close frame
// payloads and status codes.
//
// The package is deliberately low level: it knows nothing about
// connection state, negotiated extensions or message reassembly. No
// function in it allocates, except that the Append functions grow dst
// when it lacks capacity (and reader/writer arguments may allocate on
// their own). None of them keep
// references to their arguments beyond the call (except where a returned
// slice is documented to alias an input).
//
// The websocket package parses headers in place from its own read buffer
// (Parse) and encodes them into its write buffer (AppendHeader). ReadHeader
// and WriteHeader are for code that has only an io.Reader or io.Writer:
// test peers that send frames a client library never would, proxies that
// inspect frames, fuzzers (see the ReadHeader example).
//
// The close status codes are named here once (StatusCode); the websocket
// package's Close... constants, under gorilla/websocket's names, are their
// int values.
//
// All functions are safe for concurrent use as long as callers do not
// share the byte slices or scratch buffers they pass in.
package frame
