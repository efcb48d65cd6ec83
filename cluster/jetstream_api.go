package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
)

// JetStream's API answers to a publication, as Publish reads them.

// pubAck is JetStream's answer to a publication or an atomic batch.
type pubAck struct {
	Stream    string    `json:"stream"`
	Seq       uint64    `json:"seq"`
	Duplicate bool      `json:"duplicate"`
	Count     int       `json:"count"`
	Error     *apiError `json:"error"`
}

// apiError is a JetStream API error.
type apiError struct {
	Code        int    `json:"code"`
	ErrCode     int    `json:"err_code"`
	Description string `json:"description"`
}

func (e *apiError) Error() string {
	return fmt.Sprintf("JetStream: %s (%d/%d)", e.Description, e.Code, e.ErrCode)
}

// conflict reports a wrong last sequence: another publication got there
// first.
func (e *apiError) conflict() bool {
	return e.ErrCode == errCodeWrongLastSeq || e.ErrCode == errCodeWrongLastSeqConstant
}

// actualLast is the channel's actual last stream sequence that a wrong last
// sequence error states ("wrong last sequence: 42"), or 0 when it says none.
func (e *apiError) actualLast() uint64 {
	_, v, ok := strings.Cut(e.Description, ": ")
	if !ok || e.ErrCode != errCodeWrongLastSeq {
		return 0
	}
	n, _ := strconv.ParseUint(v, 10, 64)
	return n
}

// batchRefused reports an atomic batch refused as a whole for a reason the
// message-by-message way does not have: an id stored already, too many
// batches in flight, batches disabled or incomplete, an unsupported header,
// a batch too long (10199, 10174, 10176, 10177, 10201, 10210).
func (e *apiError) batchRefused() bool {
	switch e.ErrCode {
	case 10174, 10176, 10177, 10199, errCodeBatchDuplicate, 10210:
		return true
	}
	return false
}

// request sends m and returns JetStream's acknowledgement.
func (s *Stream) request(ctx context.Context, m *nats.Msg) (*pubAck, error) {
	resp, err := s.nc.RequestMsgWithContext(ctx, m)
	if err != nil {
		return nil, err
	}
	var ack pubAck
	if err := json.Unmarshal(resp.Data, &ack); err != nil || ack.Error == nil && ack.Stream == "" {
		return nil, fmt.Errorf("JetStream: not an acknowledgement: %.100q", resp.Data)
	}
	return &ack, nil
}

// classify wraps a publish failure in ErrTooLarge or ErrUnavailable.
func classify(err error) error {
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.ErrCode == errCodeMsgTooLarge, errors.Is(err, nats.ErrMaxPayload):
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	case errors.Is(err, nats.ErrNoResponders):
		return fmt.Errorf("%w: JetStream did not answer (not running, or the stream is missing): %w", ErrUnavailable, err)
	case errors.As(err, &ae):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	default:
		return fmt.Errorf("%w: no acknowledgement (the publication may have been stored): %w", ErrUnavailable, err)
	}
}
