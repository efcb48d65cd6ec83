package main

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"
)

// validate rejects nonsense, naming the flag.
func (o *options) validate() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if o.Conns <= 0 {
		bad("-conns must be positive")
	}
	if o.Ramp <= 0 {
		bad("-ramp must be positive")
	}
	if o.Procs < 1 || o.Procs > 16 {
		bad("-procs must be in [1, 16]")
	}
	if o.SrcAddrs < 1 || o.SrcAddrs > 250 {
		bad("-src-addrs must be in [1, 250]")
	}
	if o.InFlight < 1 {
		bad("-in-flight must be positive")
	}
	if o.FrameReader != "raw" && o.FrameReader != "nbio" {
		bad("-frame-reader must be raw or nbio, not %q", o.FrameReader)
	}
	switch o.Dist {
	case distAll:
		if o.Tokens > 90 {
			bad("-dist all with -tokens %d passes max_subscriptions_per_conn (100)", o.Tokens)
		}
	case distUniform, distZipf:
		if o.PerConn < 0 || o.PerConn > o.Tokens {
			bad("-per-conn must be in [0, -tokens]")
		}
	default:
		bad("-dist must be all, uniform or zipf, not %q", o.Dist)
	}
	if o.Tokens < 0 {
		bad("-tokens must not be negative")
	}
	if o.Dist == distZipf && o.ZipfS <= 0 {
		bad("-zipf-s must be positive")
	}
	if o.Rate < 0 || o.UserFrac < 0 || o.UserFrac > 1 {
		bad("-rate must not be negative and -user-frac must be in [0, 1]")
	}
	if o.Rate > 0 && o.UserFrac < 1 && o.Tokens == 0 {
		bad("-rate needs -tokens (or -user-frac 1)")
	}
	if o.UserFrac > 0 && !o.User {
		bad("-user-frac needs -user")
	}
	if o.Rate > 0 && o.Duration <= 0 && o.HotSteps == 0 {
		bad("-rate needs -duration")
	}
	if o.HotSteps > 0 && (o.HotFactor <= 1 || o.Step <= 0) {
		bad("-hot-steps needs -hot-factor > 1 and -step > 0")
	}
	if o.Churn < 0 || o.ChurnPar < 1 {
		bad("-churn must not be negative and -churn-par must be positive")
	}
	if o.StormRounds < 0 || o.Observers < 0 {
		bad("-storm-rounds and -observers must not be negative")
	}
	if o.isStorm() && (o.HotSteps > 0 || o.Churn > 0) {
		bad("-storm-rounds does not combine with -hot-steps or -churn")
	}
	if o.isStorm() && o.Rate > 0 && o.Observers == 0 {
		bad("-storm-rounds with -rate needs -observers: latency is measured on connections that stay")
	}
	if o.Interval < 100*time.Millisecond {
		bad("-interval must be at least 100ms")
	}
	if o.ChartsFrom != "" && o.Report == "" {
		bad("-charts-from needs -report")
	}
	if o.PingInterval < 0 || o.ConflateInterval < 0 {
		bad("-ping-interval and -conflate-interval must not be negative")
	}
	switch o.Target {
	case targetWsfan:
	case targetRaw:
		if !o.Spawn {
			bad("-target raw needs -spawn (the raw server is run by this program)")
		}
	default:
		bad("-target must be wsfan or raw, not %q", o.Target)
	}
	switch o.Reference {
	case "":
	case targetRaw:
		if !o.Spawn || o.Target != targetWsfan {
			bad("-reference raw needs -spawn and -target wsfan")
		}
	default:
		bad("-reference must be raw or empty, not %q", o.Reference)
	}
	if len(o.Conflate) > 0 && (o.Target == targetRaw || o.Reference != "") {
		bad("-conflate: the raw reference server does not conflate")
	}
	if (o.Companion || o.NoConflation) && (len(o.Conflate) == 0 || o.Rate <= 0 || o.isHot() || o.Reference != "") {
		bad("-companion and -no-conflation need -conflate and a constant -rate (no -hot-steps, no -reference)")
	}
	if o.Deflate < 0 || o.Deflate > 1 || (o.Deflate > 0 && o.FrameReader == "nbio") {
		bad("-deflate %v: a share from 0 to 1, with the raw frame reader", o.Deflate)
	}
	if o.Book < 0 || o.Book > 5000 {
		bad("-book %d: price levels a side, 0 to 5000", o.Book)
	}
	if o.ConflateInterval > 0 && len(o.Conflate) == 0 {
		bad("-conflate-interval needs -conflate")
	}
	serverFlags := o.PingInterval > 0 || len(o.Conflate) > 0 || o.ConflateInterval > 0 || o.ServerConfig != "" || o.ServerTOML != ""
	if serverFlags && !o.Spawn {
		bad("-ping-interval, -conflate, -conflate-interval, -server-config and -server-toml configure a spawned server: they need -spawn")
	}
	if o.Spawn {
		if _, err := serverConfig(1, 2, 0, o); err != nil {
			bad("%v", err)
		}
	}
	if !o.Spawn {
		if err := checkLoopbackURL(o.URL, "ws"); err != nil {
			bad("-url: %v", err)
		}
		if err := checkLoopbackURL(o.Admin, "http"); err != nil {
			bad("-admin: %v", err)
		}
	}
	return errors.Join(errs...)
}

// checkLoopbackURL accepts scheme://<loopback IP or localhost>:port/...:
// load runs target this machine's loopback only.
func checkLoopbackURL(raw, scheme string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("cannot parse %q: %w", raw, err)
	}
	if u.Scheme != scheme {
		return fmt.Errorf("%q: scheme must be %s", raw, scheme)
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%q: host must be a loopback address", raw)
	}
	return nil
}
