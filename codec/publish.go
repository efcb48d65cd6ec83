package codec

import (
	"bytes"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// Publication is one entry of a POST /publish body.
type Publication struct {
	// Channel is the channel name as sent; DecodePublish does not validate it.
	Channel string
	// Data is the publisher's JSON value, byte for byte (surrounding
	// whitespace trimmed). Each Data is its own copy: it does not alias the
	// body, and keeping one (in history, say) does not pin the others.
	Data []byte
	// ID is the publication's optional "id", an idempotency key: with
	// JetStream it is passed as Nats-Msg-Id, so that a retried publication
	// is stored once (cluster.Stream checks it); elsewhere it is ignored.
	ID string
}

// DecodePublish parses a publish body: one object {"channel":...,"data":...}
// or a non-empty JSON array of them, in order; each may carry an "id"
// (a string).
//
// Keys are matched case-sensitively, unknown fields are ignored, and a
// repeated key counts once (the last one). "data" may be any JSON value,
// null included; "channel" must be a string. The body must be valid UTF-8:
// the data is relayed verbatim inside WebSocket text frames, which RFC 6455
// requires to be UTF-8. On failure DecodePublish returns a *Error with
// CodeBadRequest whose message names the field and, in a batch, the index
// (from 0) of the publication at fault; nothing is returned then. Channel
// names are not validated (the caller does, with CodeInvalidChannel). Nothing
// returned aliases body.
func DecodePublish(body []byte) ([]Publication, error) {
	pubs, err := decodePublish(body)
	if err != nil {
		return nil, err
	}
	return pubs, nil
}

func decodePublish(body []byte) ([]Publication, *Error) {
	if !json.Valid(body) {
		return nil, badRequest("not JSON")
	}
	if !utf8.Valid(body) {
		return nil, badRequest("not valid UTF-8")
	}
	i := skipWS(body, 0)
	v := body[i:valueEnd(body, i)]
	switch v[0] {
	case '{':
		p, err := decodePublication(v, "")
		if err != nil {
			return nil, err
		}
		return []Publication{p}, nil
	case '[':
		var pubs []Publication
		for e := newElements(v); ; {
			el, ok := e.next()
			if !ok {
				break
			}
			where := "index " + strconv.Itoa(len(pubs)) + ": "
			if el[0] != '{' {
				return nil, badRequest(where + "not a JSON object")
			}
			p, err := decodePublication(el, where)
			if err != nil {
				return nil, err
			}
			pubs = append(pubs, p)
		}
		if len(pubs) == 0 {
			return nil, badRequest("empty batch")
		}
		return pubs, nil
	default:
		return nil, badRequest("not a JSON object or array")
	}
}

// decodePublication parses one publication object; where prefixes error
// messages ("" for a single publication, "index N: " in a batch).
func decodePublication(obj []byte, where string) (Publication, *Error) {
	var channel, data, id []byte
	for m := newMembers(obj); ; {
		key, val, ok := m.next()
		if !ok {
			break
		}
		switch {
		case stringIs(key, "channel"):
			channel = val
		case stringIs(key, "data"):
			data = val
		case stringIs(key, "id"):
			id = val
		}
	}
	if channel == nil {
		return Publication{}, badRequest(where + "missing field channel")
	}
	if !isString(channel) {
		return Publication{}, badRequest(where + "field channel must be a string")
	}
	if data == nil {
		return Publication{}, badRequest(where + "missing field data")
	}
	p := Publication{Channel: unquote(channel), Data: bytes.Clone(data)}
	if id != nil && !bytes.Equal(id, []byte("null")) {
		if !isString(id) {
			return Publication{}, badRequest(where + "field id must be a string")
		}
		p.ID = unquote(id)
	}
	return p, nil
}

// AppendPublishAccepted appends the publish API's success body
// {"accepted":N} and returns the extended slice.
func AppendPublishAccepted(dst []byte, n int) []byte {
	dst = append(dst, `{"accepted":`...)
	dst = strconv.AppendInt(dst, int64(n), 10)
	return append(dst, '}')
}

// AppendPublishError appends the publish API's error body
// {"error":{"code":...,"message":...}} and returns the extended slice.
func AppendPublishError(dst []byte, code, message string) []byte {
	dst = append(dst, `{"error":{"code":`...)
	dst = AppendJSONString(dst, code)
	dst = append(dst, `,"message":`...)
	dst = AppendJSONString(dst, message)
	return append(dst, "}}"...)
}
