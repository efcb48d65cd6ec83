// Package configtest holds what the tests of every configuration section
// check: that the section decodes from TOML strictly, takes its defaults
// and validates, and that an invalid value is reported by its key. Its
// functions are for tests only and safe for concurrent use.
package configtest
