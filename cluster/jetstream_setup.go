package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Opening the stream: created when missing, checked when present, and its
// epoch.

// setupTimeout bounds the JetStream requests of ConnectStream.
func setupTimeout(cfg Config) time.Duration { return max(5*time.Second, cfg.PublishTimeout) }

// streamConfig is the stream wsfan creates.
func (s *Stream) streamConfig() jetstream.StreamConfig {
	j := s.cfg.JetStream
	return jetstream.StreamConfig{
		Name:               j.Stream,
		Description:        "wsfan: every channel's publications (created by wsfan)",
		Subjects:           []string{s.prefix + ">"},
		Retention:          jetstream.LimitsPolicy,
		Discard:            jetstream.DiscardOld,
		Storage:            jetstream.FileStorage,
		Replicas:           j.Replicas,
		MaxAge:             j.MaxAge,
		MaxMsgsPerSubject:  int64(j.MaxMsgsPerChannel),
		MaxMsgs:            -1,
		MaxBytes:           -1,
		Duplicates:         min(dedupeWindow, j.MaxAge),
		AllowDirect:        true,
		AllowAtomicPublish: true,
	}
}

// setup returns the stream's info, creating the stream when it is missing
// and checking it when it exists.
func (s *Stream) setup(ctx context.Context) (*jetstream.StreamInfo, error) {
	st, err := s.js.Stream(ctx, s.name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		st, err = s.js.CreateStream(ctx, s.streamConfig())
		if err == nil {
			s.log.Info("JetStream stream created", "subjects", s.prefix+">")
		} else if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			st, err = s.js.Stream(ctx, s.name) // another node was first
		}
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open JetStream stream %s: %w", s.name, err)
	}
	info := st.CachedInfo()
	hard, soft := s.compare(&info.Config)
	if len(hard) > 0 {
		return nil, fmt.Errorf("JetStream stream %s cannot be used by wsfan: %s", s.name, strings.Join(hard, "; "))
	}
	for _, w := range soft {
		s.log.Warn("JetStream stream differs from nats.jetstream; the stream's value applies", "difference", w)
	}
	return info, nil
}

// compare checks an existing stream's configuration: hard lists what wsfan
// cannot work with, soft what differs from nats.jetstream but only changes
// limits.
func (s *Stream) compare(c *jetstream.StreamConfig) (hard, soft []string) {
	want := s.streamConfig()
	covered := false
	for _, subj := range c.Subjects {
		covered = covered || coversPrefix(subj, s.prefix)
	}
	if !covered {
		hard = append(hard, fmt.Sprintf("subjects %q do not cover %q", c.Subjects, s.prefix+">"))
	}
	// The problems, each with whether the stream has it.
	for _, p := range []struct {
		has  bool
		hard bool // the stream cannot work; else only a limit differs
		what string
	}{
		{c.Retention != jetstream.LimitsPolicy, true, fmt.Sprintf("retention is %s, not limits", c.Retention)},
		{c.Discard != jetstream.DiscardOld, true, "discard is new, not old (publications would be refused when a channel is full)"},
		{c.MaxMsgsPerSubject <= 0, true, "max_msgs_per_subject is unlimited (recovery reads a channel's whole history)"},
		{!c.AllowDirect, true, "allow_direct is off (numbering and recovery read with direct get)"},
		{c.NoAck, true, "no_ack is on (publishing waits for acknowledgements)"},
		{c.Mirror != nil, true, "it is a mirror (it cannot be published to)"},
		{c.Sealed, true, "it is sealed"},
		{c.AllowMsgCounter, true, "allow_msg_counter is on (it takes counter increments only)"},
		{c.SubjectTransform != nil, true, "it has a subject transform (subjects would not name channels)"},
		{c.Replicas != want.Replicas, false, fmt.Sprintf("replicas: stream %d, nats.jetstream %d", c.Replicas, want.Replicas)},
		{c.MaxAge != want.MaxAge, false, fmt.Sprintf("max_age: stream %v, nats.jetstream %v", c.MaxAge, want.MaxAge)},
		{c.MaxMsgsPerSubject != want.MaxMsgsPerSubject, false, fmt.Sprintf("max_msgs_per_channel: stream %d, nats.jetstream %d",
			c.MaxMsgsPerSubject, want.MaxMsgsPerSubject)},
		{c.Storage != jetstream.FileStorage, false, "storage is memory: a NATS restart loses the stream"},
		{c.Duplicates <= 0, false, "no duplicates window: publication ids are not deduplicated"},
		{!c.AllowAtomicPublish, false, "allow_atomic is off: a multi-publication request is published one by one, not atomically"},
		{c.MaxMsgs > 0 || c.MaxBytes > 0, false, "max_msgs or max_bytes is set: channels may lose history before max_age"},
	} {
		switch {
		case p.has && p.hard:
			hard = append(hard, p.what)
		case p.has:
			soft = append(soft, p.what)
		}
	}
	return hard, soft
}

// coversPrefix reports whether the stream subject subj takes every subject
// prefix + ">" (prefix non-empty, ending in '.').
func coversPrefix(subj, prefix string) bool {
	want := strings.Split(strings.TrimSuffix(prefix, "."), ".")
	for i, tok := range strings.Split(subj, ".") {
		switch {
		case tok == ">":
			return true
		case i >= len(want):
			return false // a '*' or name here takes one token of the channel only
		case tok != "*" && tok != want[i]:
			return false
		}
	}
	return false
}

// streamEpoch names a stream's incarnation: the same string on every node
// for the same stream, different once it is deleted and recreated. It is
// 11 characters of base64url.
func streamEpoch(name string, created time.Time) string {
	h := sha256.Sum256([]byte(name + "\x00" + strconv.FormatInt(created.UnixNano(), 10)))
	return base64.RawURLEncoding.EncodeToString(h[:8])
}

func (s *Stream) setEpoch(info *jetstream.StreamInfo) {
	e := streamEpoch(info.Config.Name, info.Created)
	s.epoch.Store(&e)
}
