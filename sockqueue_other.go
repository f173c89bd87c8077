//go:build !linux

package websocket

import "net"

// kernelPending reports that the unread bytes of nc are unknown: only
// Linux is asked (sockqueue_linux.go).
func kernelPending(net.Conn) (int, bool) { return 0, false }

// kernelUnacked reports that the unacknowledged bytes of nc are unknown.
func kernelUnacked(net.Conn) (int, bool) { return 0, false }
