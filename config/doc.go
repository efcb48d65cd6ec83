// Package config loads, defaults and validates wsfan's TOML configuration.
//
// A Config is plain data: Load returns a new value, and the server treats it
// as read-only once started. Zero values mean "use the default"; Validate
// rejects nonsense with a message that names the offending key.
package config
