package config

import (
	"errors"
	"fmt"
	"net"
	"time"
	"wsfan/codec"
	"wsfan/index"
)

// Validate checks every key and returns an error naming the first bad one.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	checkAddr := func(key, v string) {
		if _, _, err := net.SplitHostPort(v); err != nil {
			bad(key, "%q is not host:port (%v)", v, err)
		}
	}
	checkAddr("listen", c.Listen)
	checkAddr("admin_listen", c.AdminListen)
	if _, port, _ := net.SplitHostPort(c.Listen); c.Listen == c.AdminListen && port != "0" {
		bad("admin_listen", "must differ from listen: the publish API is never on the public listener")
	}
	for i, k := range c.PublishKeys {
		if len(k) < MinPublishKeyLen {
			bad("publish_keys", "key %d is %d bytes; want at least %d", i, len(k), MinPublishKeyLen)
		}
	}
	if n := c.IndexShards; n < 1 || n > 4096 || n&(n-1) != 0 {
		bad("index_shards", "%d is not a power of two in [1, 4096]", n)
	}
	positive := func(key string, v int) {
		if v < 0 {
			bad(key, "%d is negative", v)
		}
	}
	positive("max_connections", c.MaxConnections)
	positive("max_subscriptions_per_conn", c.MaxSubscriptionsPerConn)
	if n, fit := c.MaxChannelsPerCommand, c.maxChannelsPerCommand(); n < 1 || n > fit {
		bad("max_channels_per_command", "%d is outside [1, %d]: an ack for %d channels may take %d bytes, and must fit in half of max_pending_bytes (%d)",
			n, fit, n, n*codec.MaxAckBytesPerChannel, c.MaxPendingBytes)
	}
	positive("max_publish_bytes", c.MaxPublishBytes)
	if c.MaxMessageBytes < 64 || c.MaxMessageBytes > 1<<20 {
		bad("max_message_bytes", "%d is outside [64, 1048576]", c.MaxMessageBytes)
	}
	if c.MaxPendingBytes < 4096 {
		bad("max_pending_bytes", "%d is below 4096", c.MaxPendingBytes)
	}
	if c.CompressionLevel < 1 || c.CompressionLevel > 9 {
		bad("compression_level", "%d is outside [1, 9]", c.CompressionLevel)
	}
	if c.CompressionMinBytes < 1 || c.CompressionMinBytes > 1<<20 {
		bad("compression_min_bytes", "%d is outside [1, 1048576]", c.CompressionMinBytes)
	}
	if c.PingInterval < 100*time.Millisecond {
		bad("ping_interval", "%v is below 100ms", c.PingInterval)
	}
	if c.IdleTimeout <= c.PingInterval {
		bad("idle_timeout", "%v must exceed ping_interval (%v)", c.IdleTimeout, c.PingInterval)
	}
	if c.DrainPeriod < 0 {
		bad("drain_period", "%v is negative", c.DrainPeriod)
	}
	if c.ShutdownTimeout <= c.DrainPeriod {
		bad("shutdown_timeout", "%v must exceed drain_period (%v)", c.ShutdownTimeout, c.DrainPeriod)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("log_format", "%q is neither \"text\" nor \"json\"", c.LogFormat)
	}
	if _, err := c.SlogLevel(); err != nil {
		bad("log_level", "%v", err)
	}
	for i, p := range c.History.Channels {
		if !index.ValidPattern(p) {
			bad("history.channels", "entry %d (%q) is not a channel or pattern", i, p)
		}
	}
	if c.History.Size < 1 || c.History.Size > 100000 {
		bad("history.size", "%d is outside [1, 100000]", c.History.Size)
	}
	if c.History.MaxBytes < 1<<20 {
		bad("history.max_bytes", "%d is below 1 MiB", c.History.MaxBytes)
	}
	if c.History.TTL < time.Second {
		bad("history.ttl", "%v is below 1s", c.History.TTL)
	}
	for i, p := range c.Conflation.Channels {
		if !index.ValidPattern(p) {
			bad("conflation.channels", "entry %d (%q) is not a channel or pattern", i, p)
		}
	}
	if v := c.Conflation.Interval; v < time.Millisecond || v > time.Minute {
		bad("conflation.interval", "%v is outside [1ms, 1m]", v)
	}
	if v := c.Conflation.SocketSendBuffer; v != -1 && (v < 2048 || v > 64<<20) {
		bad("conflation.socket_send_buffer", "%d is neither -1 nor in [2048, 67108864]", v)
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		bad("cert_file", "cert_file and key_file must be set together")
	}
	for _, sub := range []error{c.Auth.Validate(), c.Limits.Validate(), c.NATS.Validate()} {
		if sub != nil {
			errs = append(errs, sub)
		}
	}
	if c.CPULimit < 0 || c.CPULimit > 1024 {
		bad("cpu_limit", "%d is outside [0, 1024]", c.CPULimit)
	}
	return errors.Join(errs...)
}

// maxChannelsPerCommand is the largest max_channels_per_command whose acks
// fit in half of max_pending_bytes, at least 1.
func (c *Config) maxChannelsPerCommand() int {
	return max(1, c.MaxPendingBytes/2/codec.MaxAckBytesPerChannel)
}
