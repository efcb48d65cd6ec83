// Package promtext reads the Prometheus text exposition format that
// /metrics serves, for tests that check what a scrape sees. Its function
// is pure.
package promtext
