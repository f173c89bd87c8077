package hub

import (
	"context"
	"errors"
	"fmt"
)

// Publication is one message published on a topic, as a Broker carries
// it: Type is websocket.TextMessage or websocket.BinaryMessage.
type Publication struct {
	Topic    string
	Position Position
	Type     int
	Data     []byte
}

// Broker carries publications between hubs: every hub attached to the same
// broker backend (the same process for the in-process broker, the same
// Redis for hub/redis) receives what any of them publishes, on the topics
// it subscribed to. A Broker serves one Hub.
//
// A Broker must be safe for concurrent use. It calls the deliver function
// given to Start for one topic at a time, in offset order; deliver may call
// the broker's History (to fill a gap), so the broker must not hold a lock
// that History needs while it calls deliver.
type Broker interface {
	// Start hands the broker the function that receives publications. The
	// hub calls it once, from New, before any other method.
	Start(deliver func(Publication)) error
	// Publish assigns the publication the next offset of its topic, keeps
	// it in the topic's history when the broker keeps one, and sends it to
	// every subscribed hub. It returns the position assigned, or an error
	// when the publication was not accepted.
	Publish(ctx context.Context, topic string, messageType int, data []byte) (Position, error)
	// Subscribe starts the delivery of topic's publications to this hub.
	Subscribe(ctx context.Context, topic string) error
	// Unsubscribe stops it.
	Unsubscribe(ctx context.Context, topic string) error
	// History returns the oldest publications still kept of topic after
	// since, in offset order, at most limit of them (limit > 0), and the
	// topic's current position (the last offset assigned, zero when none
	// was). When since is of another epoch than the current one (or zero),
	// it returns the oldest kept of the current epoch. Missing
	// publications are not an error: the hub compares offsets.
	History(ctx context.Context, topic string, since Position, limit int) ([]Publication, Position, error)
	// SetPresence records that this hub has n local subscribers on topic.
	// It must not block: a remote broker records it in the background.
	SetPresence(topic string, n int)
	// Presence returns how many subscribers topic has across every hub of
	// the broker backend.
	Presence(ctx context.Context, topic string) (int, error)
	// Close stops the deliveries and releases the broker's resources.
	Close() error
}

// ErrGap is wrapped by every *GapError, for errors.Is.
var ErrGap = errors.New("hub: publications lost")

// GapError says that publications of Topic after Since can no longer be
// delivered: the history no longer holds them (it keeps the last ones
// only, from Oldest on), or the stream started a new epoch (Current.Epoch
// differs from Since.Epoch). The subscriber can go on from Current.
type GapError struct {
	Topic   string
	Since   Position // the last position the subscriber had
	Oldest  Position // the oldest publication still kept (zero: none)
	Current Position // the topic's position when the gap was found
}

func (e *GapError) Error() string {
	if e.Since.Epoch != "" && e.Since.Epoch != e.Current.Epoch {
		return fmt.Sprintf("hub: topic %q: publications after %v lost: the stream restarted at epoch %q", e.Topic, e.Since, e.Current.Epoch)
	}
	return fmt.Sprintf("hub: topic %q: publications after %v lost: the oldest kept is %v", e.Topic, e.Since, e.Oldest)
}

// Unwrap returns ErrGap.
func (e *GapError) Unwrap() error { return ErrGap }
