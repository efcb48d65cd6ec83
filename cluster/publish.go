package cluster

import (
	"errors"
	"fmt"

	"wsfan/codec"
	"wsfan/index"
)

var (
	// ErrUnavailable is wrapped by Publish's error when NATS cannot take the
	// batch now: disconnected, reconnecting, closed, or no confirmation
	// within publish_timeout. The publish API answers 503 UNAVAILABLE.
	ErrUnavailable = errors.New("cluster: NATS unavailable")
	// ErrTooLarge is wrapped by Publish's error when a publication's data is
	// over the NATS server's max_payload. Nothing of the batch was published;
	// the publish API answers 413 TOO_LARGE.
	ErrTooLarge = errors.New("cluster: publication over the NATS max_payload")
)

// Publish publishes each publication, in order, on subject prefix + channel
// with the data as body, and returns once the NATS server has confirmed that
// it received all of them.
//
// What nil means: the bridge wrote the batch to its connection and then a
// PING, and the server's PONG came back within publish_timeout on that same
// connection, with no reconnect in between. A NATS server handles a
// connection's input in order, so it had processed every publication by then:
// it had matched it against the subscriptions it knew and queued it for the
// subscribers' connections, including routes to the other servers of a NATS
// cluster. It is not a JetStream acknowledgement: nothing is persisted, and a
// node that is disconnected from NATS at that moment misses the publication.
//
// What an error means:
//   - index.ErrInvalidChannel (wrapped): a channel is not a valid concrete
//     channel; nothing was published. Callers validate first.
//   - ErrTooLarge (wrapped): a data is over the server's max_payload;
//     nothing was published.
//   - ErrUnavailable (wrapped): the bridge is not connected (nothing was
//     published), or the connection failed or was re-established during the
//     call, or the confirmation did not arrive in time. Any prefix of the
//     batch, possibly all of it, may have been delivered. A retry may
//     duplicate publications; no publication is held back to be sent later,
//     because the connection buffers nothing while disconnected.
//
// Publish may be called from any goroutine; concurrent batches interleave in
// NATS in no particular order. While disconnected it returns at once. While
// connected it blocks for at most publish_timeout, plus, in the moment a
// connection is lost, one NATS dial attempt (nats.go's 2 s connect timeout).
func (b *Bridge) Publish(pubs []codec.Publication) error {
	for i := range pubs {
		if !index.ValidChannel(pubs[i].Channel) {
			return fmt.Errorf("publication %d: channel %q: %w", i, pubs[i].Channel, index.ErrInvalidChannel)
		}
	}
	// Checked first, without nats.go's connection lock, which nats.go holds
	// while it dials during an outage.
	if !b.Connected() {
		return fmt.Errorf("%w: %s", ErrUnavailable, b.Status())
	}
	nc := b.nc
	maxPayload := nc.MaxPayload()
	for i := range pubs {
		if n := int64(len(pubs[i].Data)); maxPayload > 0 && n > maxPayload {
			return fmt.Errorf("publication %d: data is %d bytes, the NATS server allows %d: %w",
				i, n, maxPayload, ErrTooLarge)
		}
	}
	// Reconnects, read before and after, shows a connection lost and
	// re-established during the call: publications written to the old
	// connection may be lost while the PONG comes back on the new one.
	reconnects := nc.Stats().Reconnects
	for i := range pubs {
		if err := nc.Publish(b.prefix+pubs[i].Channel, pubs[i].Data); err != nil {
			return fmt.Errorf("%w: cannot publish publication %d: %w", ErrUnavailable, i, err)
		}
	}
	if err := nc.FlushTimeout(b.cfg.PublishTimeout); err != nil {
		return fmt.Errorf("%w: the NATS server did not confirm the batch (publish_timeout %v): %w",
			ErrUnavailable, b.cfg.PublishTimeout, err)
	}
	if nc.Stats().Reconnects != reconnects {
		return fmt.Errorf("%w: the NATS connection was re-established during the publish", ErrUnavailable)
	}
	b.out.Add(uint64(len(pubs)))
	return nil
}
