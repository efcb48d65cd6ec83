// Package config loads, defaults and validates wsfan's TOML configuration,
// and prints it back as TOML (-check-config, the start-up log).
//
// Concurrency: a Config is plain data. Load and Parse return a new value,
// and the server treats it as read-only once started (a SIGHUP reload
// builds a new one). Zero values mean "use the default"; Validate rejects
// nonsense with a message that names the offending key.
package config
