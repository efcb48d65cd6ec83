package rawserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// maxPublishBytes bounds a POST /publish body, as wsfan's default does.
const maxPublishBytes = 1 << 20

// publication is one element of a POST /publish body.
type publication struct {
	Channel string          `json:"channel"`
	Data    json.RawMessage `json:"data"`
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"error":{"code":%q,"message":%q}}`, code, msg)
}

// handlePublish is POST /publish: one publication or an array, all
// checked before any is published, then published in order.
func (s *Server) handlePublish(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Bearer "+s.key {
		s.rejectedAuth.Add(1)
		writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "missing or wrong key")
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPublishBytes+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "cannot read the body")
		return
	}
	if len(body) > maxPublishBytes {
		writeError(w, http.StatusRequestEntityTooLarge, "TOO_LARGE", "body over 1 MiB")
		return
	}
	var pubs []publication
	if b := bytes.TrimLeft(body, " \t\r\n"); len(b) > 0 && b[0] == '[' {
		err = json.Unmarshal(b, &pubs)
	} else {
		pubs = make([]publication, 1)
		err = json.Unmarshal(b, &pubs[0])
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "not a publication or an array of them")
		return
	}
	for _, p := range pubs {
		if len(p.Data) == 0 {
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", "missing data")
			return
		}
		if !validChannel(p.Channel) {
			writeError(w, http.StatusBadRequest, "INVALID_CHANNEL", "not a concrete channel name")
			return
		}
	}
	for _, p := range pubs {
		s.publish(p.Channel, p.Data)
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"accepted":` + strconv.Itoa(len(pubs)) + `}`))
}

// handleMetrics is GET /metrics, in Prometheus text format, under the
// names of wsfan's metrics that the load generator reads.
func (s *Server) handleMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4")
	fmt.Fprintf(w, "wsfan_connections %d\n", s.nConns.Load())
	fmt.Fprintf(w, "wsfan_subscriptions %d\n", s.nSubs.Load())
	fmt.Fprintf(w, "wsfan_channels %d\n", s.nChans.Load())
	fmt.Fprintf(w, "wsfan_connections_accepted_total %d\n", s.accepted.Load())
	fmt.Fprintf(w, "wsfan_publications_total %d\n", s.publications.Load())
	fmt.Fprintf(w, "wsfan_deliveries_total %d\n", s.deliveries.Load())
	fmt.Fprintf(w, "wsfan_socket_writes_total %d\n", s.writes.Load())
	fmt.Fprintf(w, "wsfan_bytes_out_total %d\n", s.bytesOut.Load())
	fmt.Fprintf(w, "wsfan_slow_consumer_disconnects_total 0\n")
	fmt.Fprintf(w, "rawserver_write_error_closes_total %d\n", s.closedByErr.Load())
	fmt.Fprintf(w, "rawserver_publish_unauthorized_total %d\n", s.rejectedAuth.Load())
}
