package server

import (
	"crypto/subtle"
	"net/http"
	"reflect"
	"strings"

	"wsfan/auth"
	"wsfan/config"
)

// policy is the part of the configuration that SIGHUP reloads without
// dropping a connection. It is immutable; Reload swaps the whole value.
type policy struct {
	publishKeys [][]byte
	verifier    *auth.Verifier
	// rules decide subscriptions; nil when none are configured (auth off
	// and no [[auth.rules]]): every valid channel is open.
	rules *auth.Rules
}

func newPolicy(cfg *config.Config) (*policy, error) {
	p := &policy{}
	for _, k := range cfg.PublishKeys {
		p.publishKeys = append(p.publishKeys, []byte(k))
	}
	v, err := auth.NewVerifier(cfg.Auth)
	if err != nil {
		return nil, err
	}
	p.verifier = v
	if len(cfg.Auth.Rules) > 0 {
		if p.rules, err = auth.CompileRules(cfg.Auth.Rules); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// allow decides whether id may subscribe to sub.
func (p *policy) allow(id auth.Identity, sub string) (bool, string) {
	if p.rules == nil {
		return true, ""
	}
	return p.rules.Allow(id, sub)
}

// ReloadFile re-reads the configuration file at path and applies its
// reloadable keys (SIGHUP). A file that does not load or validate is
// rejected as a whole and the running configuration stays. The outcome is
// counted in wsfan_config_reloads_total{result}.
func (s *Server) ReloadFile(path string) error {
	cfg, err := config.Load(path)
	if err == nil {
		err = s.Reload(cfg)
	}
	if err != nil {
		s.m.reloadsFailed.Inc()
		s.log.Error("reload rejected; the running configuration stays", "err", err)
		return err
	}
	s.m.reloadsOK.Inc()
	return nil
}

// Reload applies cfg's reloadable keys (publish_keys, the JWT keys and
// checks of [auth], and the channel rules) atomically. cfg must
// be validated. Keys that need a restart are reported, not applied. On error
// the old policy stays.
func (s *Server) Reload(cfg *config.Config) error {
	p, err := newPolicy(cfg)
	if err != nil {
		return err
	}
	s.policy.Store(p)
	if restart := s.restartKeys(cfg); len(restart) > 0 {
		s.log.Warn("reload: these keys changed but need a restart", "keys", restart)
	}
	s.log.Info("reloaded", "publish_keys", len(p.publishKeys), "auth", cfg.Auth.Enabled(),
		"rules", len(cfg.Auth.Rules))
	return nil
}

// restartKeys lists keys that differ from the running configuration and
// that only a restart applies.
func (s *Server) restartKeys(cfg *config.Config) []string {
	var keys []string
	old := s.cfg
	if cfg.Listen != old.Listen {
		keys = append(keys, "listen")
	}
	if cfg.AdminListen != old.AdminListen {
		keys = append(keys, "admin_listen")
	}
	if cfg.IndexShards != old.IndexShards {
		keys = append(keys, "index_shards")
	}
	if cfg.CPULimit != old.CPULimit {
		keys = append(keys, "cpu_limit")
	}
	if cfg.CertFile != old.CertFile || cfg.KeyFile != old.KeyFile {
		keys = append(keys, "cert_file/key_file")
	}
	if !reflect.DeepEqual(cfg.Limits, old.Limits) {
		keys = append(keys, "[limits]")
	}
	if !reflect.DeepEqual(cfg.NATS, old.NATS) {
		keys = append(keys, "[nats]")
	}
	if !reflect.DeepEqual(cfg.History, old.History) {
		keys = append(keys, "[history]")
	}
	return keys
}

// publishAuthorized compares the bearer key with every configured key in
// constant time.
func (s *Server) publishAuthorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(h) <= len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return false
	}
	key := []byte(strings.TrimSpace(h[len(prefix):]))
	ok := 0
	for _, k := range s.policy.Load().publishKeys {
		ok |= subtle.ConstantTimeCompare(key, k)
	}
	return ok == 1
}
