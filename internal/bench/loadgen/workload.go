package loadgen

import (
	"fmt"
	"math/rand"
	"strconv"
)

// Kind selects what a workload measures.
type Kind string

// Workload kinds.
const (
	// Throughput keeps InFlight messages outstanding per connection and
	// counts verified echoes.
	Throughput Kind = "throughput"
	// Latency is Throughput plus a round-trip time sample per message.
	Latency Kind = "latency"
	// Idle opens Conns connections, leaves them idle and measures the
	// server's resident memory growth.
	Idle Kind = "idle"
	// Broadcast opens Conns connections to a broadcast server and, round
	// after round, sends one message on the first connection and waits
	// until every connection has received and verified it.
	Broadcast Kind = "broadcast"
	// Churn keeps Conns clients each repeating: connect, upgrade, one
	// verified echo, closing handshake, close.
	Churn Kind = "churn"
)

// Payload kinds.
const (
	PayloadText   = "text"   // printable ASCII, sent as text messages
	PayloadBinary = "binary" // pseudo-random bytes, sent as binary messages
	PayloadJSON   = "json"   // compressible JSON document, sent as text
)

// Workload describes one load pattern. The zero value is invalid; use one of
// Workloads or fill every field and call Validate.
type Workload struct {
	Name     string `json:"name"`     // short identifier, e.g. "bin1k"
	Title    string `json:"title"`    // human-readable label for tables
	Kind     Kind   `json:"kind"`     // what is measured
	Payload  string `json:"payload"`  // PayloadText, PayloadBinary or PayloadJSON
	Size     int    `json:"size"`     // payload bytes per message
	Conns    int    `json:"conns"`    // concurrent connections
	InFlight int    `json:"inflight"` // outstanding messages per connection (1 for Idle, Broadcast and Churn)
	Compress bool   `json:"compress"` // offer permessage-deflate and compress frames
	// Takeover offers permessage-deflate with context takeover in both
	// directions (as browsers do) instead of no context takeover.
	Takeover bool `json:"takeover,omitempty"`
}

// Bounds enforced by Validate.
const (
	MaxSize      = 8 << 20
	MaxLoadConns = 10000
	MaxIdleConns = 50000
	MaxInFlight  = 64
	MaxChurners  = 1024
)

// Workloads is the built-in table, in the order the compare driver runs it.
// It must not be modified.
var Workloads = []Workload{
	{Name: "text32", Title: "text 32 B, 100 conns × 8", Kind: Throughput, Payload: PayloadText, Size: 32, Conns: 100, InFlight: 8},
	{Name: "bin1k", Title: "binary 1 KiB, 100 × 8", Kind: Throughput, Payload: PayloadBinary, Size: 1 << 10, Conns: 100, InFlight: 8},
	{Name: "bin64k", Title: "binary 64 KiB, 16 × 2", Kind: Throughput, Payload: PayloadBinary, Size: 64 << 10, Conns: 16, InFlight: 2},
	{Name: "bin1m", Title: "binary 1 MiB, 4 × 1", Kind: Throughput, Payload: PayloadBinary, Size: 1 << 20, Conns: 4, InFlight: 1},
	{Name: "deflate16k", Title: "deflate JSON 16 KiB, 16 × 2", Kind: Throughput, Payload: PayloadJSON, Size: 16 << 10, Conns: 16, InFlight: 2, Compress: true},
	{Name: "latency32", Title: "latency text 32 B, 50 × 1", Kind: Latency, Payload: PayloadText, Size: 32, Conns: 50, InFlight: 1},
	{Name: "idle10k", Title: "idle, 10,000 conns", Kind: Idle, Payload: PayloadText, Size: 32, Conns: 10000, InFlight: 1},
	// Compressed idle connections, measured after one 1 KiB JSON echo each
	// (compressed both ways), as the larger of RSS and Go heap growth.
	{Name: "idledeflate", Title: "idle deflate, takeover both ways, 1 KiB echo", Kind: Idle, Payload: PayloadJSON, Size: 1 << 10, Conns: 2000, InFlight: 1, Compress: true, Takeover: true},
	{Name: "idledeflatenct", Title: "idle deflate, no context takeover, 1 KiB echo", Kind: Idle, Payload: PayloadJSON, Size: 1 << 10, Conns: 2000, InFlight: 1, Compress: true},
	{Name: "bcast10k", Title: "broadcast text 1 KiB to 10,000 conns", Kind: Broadcast, Payload: PayloadText, Size: 1 << 10, Conns: 10000, InFlight: 1},
	{Name: "bcast1k-deflate", Title: "broadcast JSON 1 KiB, deflate, to 1,000 conns", Kind: Broadcast, Payload: PayloadJSON, Size: 1 << 10, Conns: 1000, InFlight: 1, Compress: true},
	{Name: "churn", Title: "churn: connect, upgrade, echo 32 B, close; 100 at a time", Kind: Churn, Payload: PayloadText, Size: 32, Conns: 100, InFlight: 1},
}

// LookupWorkload returns the built-in workload called name, or an error
// naming the valid choices.
func LookupWorkload(name string) (Workload, error) {
	for _, w := range Workloads {
		if w.Name == name {
			return w, nil
		}
	}
	names := make([]string, len(Workloads))
	for i, w := range Workloads {
		names[i] = w.Name
	}
	return Workload{}, fmt.Errorf("loadgen: unknown workload %q (have %v)", name, names)
}

// Validate reports the first field of w that is out of bounds.
func (w Workload) Validate() error {
	switch w.Kind {
	case Throughput, Latency, Broadcast:
		if w.Conns < 1 || w.Conns > MaxLoadConns {
			return fmt.Errorf("loadgen: %s: conns %d not in [1, %d]", w.Name, w.Conns, MaxLoadConns)
		}
	case Idle:
		if w.Conns < 1 || w.Conns > MaxIdleConns {
			return fmt.Errorf("loadgen: %s: conns %d not in [1, %d]", w.Name, w.Conns, MaxIdleConns)
		}
	case Churn:
		if w.Conns < 1 || w.Conns > MaxChurners {
			return fmt.Errorf("loadgen: %s: conns %d not in [1, %d]", w.Name, w.Conns, MaxChurners)
		}
	default:
		return fmt.Errorf("loadgen: %s: unknown kind %q", w.Name, w.Kind)
	}
	switch w.Payload {
	case PayloadText, PayloadBinary, PayloadJSON:
	default:
		return fmt.Errorf("loadgen: %s: unknown payload %q", w.Name, w.Payload)
	}
	if w.Size < 1 || w.Size > MaxSize {
		return fmt.Errorf("loadgen: %s: size %d not in [1, %d]", w.Name, w.Size, MaxSize)
	}
	if w.InFlight < 1 || w.InFlight > MaxInFlight {
		return fmt.Errorf("loadgen: %s: inflight %d not in [1, %d]", w.Name, w.InFlight, MaxInFlight)
	}
	return nil
}

// opcode returns the message opcode the workload sends.
func (w Workload) opcode() byte {
	if w.Payload == PayloadBinary {
		return opBinary
	}
	return opText
}

// makePayload returns a deterministic payload of exactly size bytes of the
// given kind. Unknown kinds yield binary data.
func makePayload(kind string, size int) []byte {
	rng := rand.New(rand.NewSource(int64(size)))
	p := make([]byte, 0, size)
	switch kind {
	case PayloadText:
		const alphabet = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		for len(p) < size {
			p = append(p, alphabet[rng.Intn(len(alphabet))])
		}
		return p
	case PayloadJSON:
		return makeJSON(rng, size)
	default:
		p = p[:size]
		for i := range p {
			p[i] = byte(rng.Intn(256))
		}
		return p
	}
}

// makeJSON builds a JSON array of small records padded to exactly size bytes
// (a too-small size yields a padded string literal instead).
func makeJSON(rng *rand.Rand, size int) []byte {
	names := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}
	tags := []string{"red", "green", "blue", "admin", "user", "beta", "eu", "us"}
	p := []byte{'['}
	for i := 0; ; i++ {
		rec := fmt.Sprintf(`{"id":%d,"name":%q,"score":%d.%02d,"active":%t,"tags":[%q,%q],"pad":"`,
			i, names[rng.Intn(len(names))], rng.Intn(1000), rng.Intn(100), rng.Intn(2) == 1,
			tags[rng.Intn(len(tags))], tags[rng.Intn(len(tags))])
		// Each record is preceded by a comma (except the first) and ends
		// with `"}`; the document ends with `]`.
		need := len(rec) + 3
		if i > 0 {
			need++
		}
		if len(p)+need > size {
			break
		}
		if i > 0 {
			p = append(p, ',')
		}
		p = append(p, rec...)
		p = append(p, '"', '}')
	}
	if len(p) == 1 {
		return padString(size)
	}
	// Pad the last record's "pad" field so the document is exactly size bytes.
	p = p[:len(p)-2]
	for len(p)+3 < size {
		p = strconv.AppendInt(p, int64(rng.Intn(10)), 10)
	}
	p = append(p, '"', '}', ']')
	return p
}

// padString returns a JSON string literal of exactly size bytes (or size
// bytes of quotes-free filler when size < 2).
func padString(size int) []byte {
	p := make([]byte, size)
	for i := range p {
		p[i] = 'x'
	}
	if size >= 2 {
		p[0], p[size-1] = '"', '"'
	}
	return p
}
