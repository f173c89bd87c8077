// Package interop holds interoperability tests that drive the
// github.com/wsup/websocket server with third-party clients:
// gorilla/websocket, coder/websocket and Node's ws package. It has no
// non-test API; see README.md for how to run it.
package interop
