package strategies

import (
	"strings"
	"sync"
)

// RWMap is the predecessor's index: one map under one sync.RWMutex.
// Snapshots are copy-on-write as in wsfan/index.
type RWMap struct {
	mu   sync.RWMutex
	subs map[string][]*Client // guarded by mu; no empty slices
}

func NewRWMap() *RWMap {
	return &RWMap{subs: make(map[string][]*Client)}
}

func (m *RWMap) Subscribe(channel string, c *Client) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	subs, ok := m.subs[channel]
	if indexOf(subs, c) >= 0 {
		return false
	}
	if !ok {
		channel = strings.Clone(channel)
	}
	// In place past len is safe: readers hold subs[:len:len] prefixes.
	m.subs[channel] = append(subs, c)
	return true
}

func (m *RWMap) Unsubscribe(channel string, c *Client) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	subs := m.subs[channel]
	i := indexOf(subs, c)
	if i < 0 {
		return false
	}
	if len(subs) == 1 {
		delete(m.subs, channel)
	} else {
		m.subs[channel] = without(subs, i)
	}
	return true
}

func (m *RWMap) RemoveAll(c *Client, channels []string) int {
	return unsubscribeEach(m, c, channels)
}

func (m *RWMap) Walk(channel string, fn func(*Client)) int {
	m.mu.RLock()
	subs := m.subs[channel]
	m.mu.RUnlock()
	return walk(subs, fn)
}

func (m *RWMap) Close() {}
