// Package defaults fills configuration fields left at their zero value,
// the one rule every section of config.toml follows ("0 or absent: the
// default"). Its functions are generic, pure and safe for concurrent use on
// distinct values.
package defaults
