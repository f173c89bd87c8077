package redis

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/wsup/websocket"
	"github.com/wsup/websocket/hub"
)

// The pub/sub message format.
//
// The publish script (scripts.go) sends each publication on the topic's
// channel as a header line and the data:
//
//	w1 EPOCH OFFSET TYPE\n DATA
//
// EPOCH is the topic's epoch (hub.ValidEpoch), OFFSET a decimal uint64,
// TYPE 1 (text) or 2 (binary).

// msgVersion starts every message.
const msgVersion = "w1 "

// maxHeader bounds the header line: version, a 64-byte epoch, 20 digits, a
// type and the separators.
const maxHeader = 3 + 64 + 1 + 20 + 1 + 1 + 1

// errBadMessage is wrapped by decode's errors.
var errBadMessage = errors.New("hub/redis: malformed pub/sub message")

// encodeHeader returns the header decode expects, for tests and for the
// script's twin in Go.
func encodeHeader(epoch string, offset uint64, messageType int) []byte {
	return fmt.Appendf(nil, "%s%s %d %d\n", msgVersion, epoch, offset, messageType)
}

// decode reads a pub/sub message of topic. It returns an error wrapping
// errBadMessage for anything the publish script does not write; the data
// returned aliases msg.
func decode(topic string, msg []byte) (hub.Publication, error) {
	bad := func(why string) (hub.Publication, error) {
		return hub.Publication{}, fmt.Errorf("%w on topic %q: %s", errBadMessage, topic, why)
	}
	if !bytes.HasPrefix(msg, []byte(msgVersion)) {
		return bad("unknown version")
	}
	nl := bytes.IndexByte(msg[:min(len(msg), maxHeader+1)], '\n')
	if nl < 0 {
		return bad("no header line")
	}
	fields := bytes.Split(msg[len(msgVersion):nl], []byte{' '})
	if len(fields) != 3 {
		return bad("header fields")
	}
	epoch := string(fields[0])
	if !hub.ValidEpoch(epoch) {
		return bad("epoch")
	}
	off, err := strconv.ParseUint(string(fields[1]), 10, 64)
	if err != nil || off == 0 || fields[1][0] == '0' || fields[1][0] == '+' {
		return bad("offset")
	}
	var typ int
	switch string(fields[2]) {
	case "1":
		typ = websocket.TextMessage
	case "2":
		typ = websocket.BinaryMessage
	default:
		return bad("message type")
	}
	return hub.Publication{Topic: topic, Position: hub.Position{Epoch: epoch, Offset: off}, Type: typ, Data: msg[nl+1:]}, nil
}
