package hubbench

import (
	"bytes"
	"fmt"
	"strconv"
)

// PayloadSize is the size of every published message.
const PayloadSize = 1024

// payload returns the JSON object published as message seq at time t
// (Unix nanoseconds), padded to PayloadSize bytes.
func payload(seq int, t int64) []byte {
	head := fmt.Appendf(nil, `{"seq":%d,"t":%d,"pad":"`, seq, t)
	out := make([]byte, 0, PayloadSize)
	out = append(out, head...)
	for len(out) < PayloadSize-2 {
		out = append(out, 'x')
	}
	return append(out, '"', '}')
}

var seqKey = []byte(`{"seq":`)

// parsePayloads calls f with the sequence number and publish time of
// every payload in msg (a centrifuge frame may hold several). It returns
// an error for a payload it cannot read.
func parsePayloads(msg []byte, f func(seq int, t int64)) error {
	for {
		i := bytes.Index(msg, seqKey)
		if i < 0 {
			return nil
		}
		msg = msg[i+len(seqKey):]
		comma := bytes.IndexByte(msg, ',')
		if comma < 0 || !bytes.HasPrefix(msg[comma:], []byte(`,"t":`)) {
			return fmt.Errorf("hubbench: bad payload %.40q", msg)
		}
		seq, err := strconv.Atoi(string(msg[:comma]))
		if err != nil {
			return fmt.Errorf("hubbench: bad seq %.40q", msg)
		}
		msg = msg[comma+len(`,"t":`):]
		end := bytes.IndexByte(msg, ',')
		if end < 0 {
			return fmt.Errorf("hubbench: bad payload time %.40q", msg)
		}
		t, err := strconv.ParseInt(string(msg[:end]), 10, 64)
		if err != nil {
			return fmt.Errorf("hubbench: bad payload time %.40q", msg)
		}
		f(seq, t)
		msg = msg[end:]
	}
}
