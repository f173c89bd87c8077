package websocket

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strconv"
)

// SOCKS5 protocol constants (RFC 1928, RFC 1929).
const (
	socksVersion       = 5
	socksAuthVersion   = 1 // username/password subnegotiation version
	socksMethodNone    = 0
	socksMethodPass    = 2
	socksNoAcceptable  = 0xff
	socksCmdConnect    = 1
	socksAddrIPv4      = 1
	socksAddrDomain    = 3
	socksAddrIPv6      = 4
	socksDefaultPort   = "1080"
	socksMaxFieldBytes = 255
)

var (
	// errSOCKSAuth is wrapped by the error DialContext returns when the
	// SOCKS5 proxy rejects the user name and password, or accepts none of
	// the authentication methods offered.
	errSOCKSAuth = errors.New("websocket: SOCKS5 proxy authentication failed")
	// errSOCKSProtocol is wrapped when the proxy's answers do not follow
	// RFC 1928.
	errSOCKSProtocol = errors.New("websocket: SOCKS5 protocol error")
)

// socksReplies are the meanings of the SOCKS5 reply codes (RFC 1928
// section 6).
var socksReplies = [...]string{
	1: "general SOCKS server failure",
	2: "connection not allowed by ruleset",
	3: "network unreachable",
	4: "host unreachable",
	5: "connection refused",
	6: "TTL expired",
	7: "command not supported",
	8: "address type not supported",
}

// socksReplyText names a SOCKS5 reply code.
func socksReplyText(code byte) string {
	if int(code) < len(socksReplies) && socksReplies[code] != "" {
		return socksReplies[code]
	}
	return "unknown reply code " + strconv.Itoa(int(code))
}

// socksConnect asks the SOCKS5 proxy connected on nc to connect to addr
// (host:port), authenticating with proxyURL's user name and password (RFC
// 1929) when it holds user information and the proxy asks for it. A host
// name is sent as a domain name, for the proxy to resolve; an IP literal as
// an address. It reads exactly the proxy's answers, so nc then carries the
// tunnel. It is bounded by nc's deadline and does not close nc.
func socksConnect(nc net.Conn, proxyURL *url.URL, addr string) error {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("websocket: SOCKS5 target %q: %w", addr, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return fmt.Errorf("websocket: SOCKS5 target port %q: %w", portStr, err)
	}
	req := []byte{socksVersion, socksCmdConnect, 0}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Is4() {
			req = append(req, socksAddrIPv4)
		} else {
			req = append(req, socksAddrIPv6)
		}
		req = append(req, ip.AsSlice()...)
	} else {
		if len(host) > socksMaxFieldBytes {
			return fmt.Errorf("websocket: SOCKS5 target host name is longer than %d bytes", socksMaxFieldBytes)
		}
		req = append(req, socksAddrDomain, byte(len(host)))
		req = append(req, host...)
	}
	req = binary.BigEndian.AppendUint16(req, uint16(port))

	var user, password string
	methods := []byte{socksMethodNone}
	if u := proxyURL.User; u != nil {
		user = u.Username()
		password, _ = u.Password()
		if user == "" || len(user) > socksMaxFieldBytes || len(password) > socksMaxFieldBytes {
			return fmt.Errorf("websocket: SOCKS5 user name must be 1 to %d bytes and password at most %d", socksMaxFieldBytes, socksMaxFieldBytes)
		}
		methods = append(methods, socksMethodPass)
	}

	greeting := append([]byte{socksVersion, byte(len(methods))}, methods...)
	if _, err := nc.Write(greeting); err != nil {
		return fmt.Errorf("websocket: writing SOCKS5 greeting: %w", err)
	}
	var choice [2]byte
	if _, err := io.ReadFull(nc, choice[:]); err != nil {
		return fmt.Errorf("websocket: reading SOCKS5 method choice: %w", err)
	}
	if choice[0] != socksVersion {
		return fmt.Errorf("%w: version %d in the method choice", errSOCKSProtocol, choice[0])
	}
	switch choice[1] {
	case socksMethodNone:
	case socksMethodPass:
		if len(methods) < 2 {
			return fmt.Errorf("%w: proxy chose username/password authentication, which was not offered", errSOCKSProtocol)
		}
		if err := socksAuthenticate(nc, user, password); err != nil {
			return err
		}
	case socksNoAcceptable:
		if len(methods) < 2 {
			return fmt.Errorf("%w: proxy accepts no offered method (no authentication; the proxy URL holds no user name)", errSOCKSAuth)
		}
		return fmt.Errorf("%w: proxy accepts no offered method (no authentication, username/password)", errSOCKSAuth)
	default:
		return fmt.Errorf("%w: proxy chose method %d, which was not offered", errSOCKSProtocol, choice[1])
	}

	if _, err := nc.Write(req); err != nil {
		return fmt.Errorf("websocket: writing SOCKS5 CONNECT request: %w", err)
	}
	return socksReadReply(nc)
}

// socksAuthenticate runs the username/password subnegotiation (RFC 1929).
func socksAuthenticate(nc net.Conn, user, password string) error {
	msg := make([]byte, 0, 3+len(user)+len(password))
	msg = append(msg, socksAuthVersion, byte(len(user)))
	msg = append(msg, user...)
	msg = append(msg, byte(len(password)))
	msg = append(msg, password...)
	if _, err := nc.Write(msg); err != nil {
		return fmt.Errorf("websocket: writing SOCKS5 credentials: %w", err)
	}
	var status [2]byte
	if _, err := io.ReadFull(nc, status[:]); err != nil {
		return fmt.Errorf("websocket: reading SOCKS5 authentication status: %w", err)
	}
	if status[0] != socksAuthVersion {
		return fmt.Errorf("%w: version %d in the authentication status", errSOCKSProtocol, status[0])
	}
	if status[1] != 0 {
		return fmt.Errorf("%w: user name and password rejected (status %d)", errSOCKSAuth, status[1])
	}
	return nil
}

// socksReadReply reads the proxy's reply to CONNECT, bound address
// included, and returns an error wrapping errProxyRefused for a failure
// reply.
func socksReadReply(nc net.Conn) error {
	var head [4]byte
	if _, err := io.ReadFull(nc, head[:]); err != nil {
		return fmt.Errorf("websocket: reading SOCKS5 CONNECT reply: %w", err)
	}
	if head[0] != socksVersion {
		return fmt.Errorf("%w: version %d in the CONNECT reply", errSOCKSProtocol, head[0])
	}
	if head[1] != 0 {
		return fmt.Errorf("%w: SOCKS5 reply %d: %s", errProxyRefused, head[1], socksReplyText(head[1]))
	}
	var n int
	switch head[3] {
	case socksAddrIPv4:
		n = net.IPv4len
	case socksAddrIPv6:
		n = net.IPv6len
	case socksAddrDomain:
		var l [1]byte
		if _, err := io.ReadFull(nc, l[:]); err != nil {
			return fmt.Errorf("websocket: reading SOCKS5 CONNECT reply: %w", err)
		}
		n = int(l[0])
	default:
		return fmt.Errorf("%w: address type %d in the CONNECT reply", errSOCKSProtocol, head[3])
	}
	bound := make([]byte, n+2) // address and port
	if _, err := io.ReadFull(nc, bound); err != nil {
		return fmt.Errorf("websocket: reading SOCKS5 CONNECT reply: %w", err)
	}
	return nil
}
