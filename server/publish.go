package server

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"wsfan/cluster"
	"wsfan/codec"
	"wsfan/index"
)

// servePublish is POST /publish (PROTOCOL.md, "Publish API").
func (s *Server) servePublish(w http.ResponseWriter, r *http.Request) {
	if !s.publishAuthorized(r) {
		s.publishError(w, http.StatusUnauthorized, codec.CodeUnauthorized, "missing or wrong publish key")
		return
	}
	if s.draining.Load() {
		s.publishError(w, http.StatusServiceUnavailable, codec.CodeUnavailable, "the server is draining")
		return
	}
	limit := int64(s.cfg.MaxPublishBytes)
	if r.ContentLength > limit {
		s.publishError(w, http.StatusRequestEntityTooLarge, codec.CodeTooLarge,
			fmt.Sprintf("body is %d bytes; max_publish_bytes is %d", r.ContentLength, limit))
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(s.adminLim.body))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var (
			tooBig  *http.MaxBytesError
			timeout net.Error
		)
		switch {
		case errors.As(err, &tooBig):
			s.publishError(w, http.StatusRequestEntityTooLarge, codec.CodeTooLarge,
				fmt.Sprintf("body exceeds max_publish_bytes (%d)", limit))
		case errors.As(err, &timeout) && timeout.Timeout():
			w.Header().Set("Connection", "close")
			s.publishError(w, http.StatusRequestTimeout, codec.CodeBadRequest,
				fmt.Sprintf("the body did not arrive within %v", s.adminLim.body))
		default:
			s.publishError(w, http.StatusBadRequest, codec.CodeBadRequest, "cannot read body")
		}
		return
	}
	pubs, err := codec.DecodePublish(body)
	if err != nil {
		code, msg := codec.CodeBadRequest, "malformed publication"
		var ce *codec.Error
		if errors.As(err, &ce) {
			code, msg = ce.Code, ce.Message
		}
		s.publishError(w, http.StatusBadRequest, code, msg)
		return
	}
	for i := range pubs {
		if ch := pubs[i].Channel; !index.ValidChannel(ch) {
			msg := fmt.Sprintf("invalid channel %q", ch)
			if index.ValidPattern(ch) {
				msg = fmt.Sprintf("channel %q is a wildcard pattern; publications name a concrete channel", ch)
			}
			if len(pubs) > 1 {
				msg = fmt.Sprintf("publication %d: %s", i, msg)
			}
			s.publishError(w, http.StatusBadRequest, codec.CodeInvalidChannel, msg)
			return
		}
	}
	switch {
	case s.stream != nil:
		if !s.publishStream(w, r, pubs) {
			return
		}
	case s.bus != nil:
		// Cluster mode: the publication reaches every node, this one
		// included, through NATS.
		if err := s.bus.Publish(pubs); err != nil {
			if errors.Is(err, cluster.ErrTooLarge) {
				s.publishError(w, http.StatusRequestEntityTooLarge, codec.CodeTooLarge, msgOverMaxPayload)
				return
			}
			s.log.Warn("publish through NATS failed", "err", err)
			s.publishError(w, http.StatusServiceUnavailable, codec.CodeUnavailable, "the cluster bus is down")
			return
		}
	case !s.hub.Publish(pubs):
		s.publishError(w, http.StatusServiceUnavailable, codec.CodeUnavailable, "the server is draining")
		return
	}
	var b [32]byte
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(codec.AppendPublishAccepted(b[:0], len(pubs)))
}

// msgOverMaxPayload is the 413 of a publication NATS cannot carry.
const msgOverMaxPayload = "data exceeds the NATS server's max_payload"

// publishStream stores pubs in the JetStream stream (each node then
// delivers them, this one included) and reports whether JetStream
// acknowledged every one; if not, it answered the error (PROTOCOL.md, "On
// JetStream").
func (s *Server) publishStream(w http.ResponseWriter, r *http.Request, pubs []codec.Publication) bool {
	cp := make([]cluster.Pub, len(pubs))
	for i, p := range pubs {
		cp[i] = cluster.Pub{Channel: p.Channel, Data: p.Data, ID: p.ID}
	}
	err := s.stream.Publish(r.Context(), cp)
	switch {
	case err == nil:
		return true
	case errors.Is(err, cluster.ErrInvalidID):
		s.publishError(w, http.StatusBadRequest, codec.CodeBadRequest,
			"id: at most 64 bytes, no control characters, no space at either end")
	case errors.Is(err, cluster.ErrTooLarge):
		s.publishError(w, http.StatusRequestEntityTooLarge, codec.CodeTooLarge, msgOverMaxPayload)
	case errors.Is(err, index.ErrInvalidChannel):
		s.publishError(w, http.StatusBadRequest, codec.CodeInvalidChannel, err.Error())
	default:
		s.log.Warn("publish to JetStream failed", "err", err)
		s.publishError(w, http.StatusServiceUnavailable, codec.CodeUnavailable, "JetStream did not store the publications")
	}
	return false
}

func (s *Server) publishError(w http.ResponseWriter, status int, code, msg string) {
	s.m.publishRejected.Inc()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(codec.AppendPublishError(nil, code, msg))
}
