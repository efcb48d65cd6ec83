package strategies

import (
	"strings"
	"sync"
)

// PerChannel gives each channel its own manager with its own lock; a
// registry map under a sync.RWMutex finds the manager. The registry lock
// and a manager's lock are never held together.
type PerChannel struct {
	mu       sync.RWMutex
	managers map[string]*manager // guarded by mu
}

// manager holds one channel's subscribers.
type manager struct {
	mu   sync.RWMutex
	subs []*Client // guarded by mu; copy-on-write
	dead bool      // guarded by mu: emptied, being removed from the registry
}

func NewPerChannel() *PerChannel {
	return &PerChannel{managers: make(map[string]*manager)}
}

func (p *PerChannel) get(channel string) *manager {
	p.mu.RLock()
	m := p.managers[channel]
	p.mu.RUnlock()
	return m
}

func (p *PerChannel) Subscribe(channel string, c *Client) bool {
	for {
		m := p.get(channel)
		if m == nil {
			p.mu.Lock()
			if m = p.managers[channel]; m == nil {
				m = &manager{}
				p.managers[strings.Clone(channel)] = m
			}
			p.mu.Unlock()
		}
		m.mu.Lock()
		if m.dead { // lost a race with the last Unsubscribe: retry
			m.mu.Unlock()
			continue
		}
		if indexOf(m.subs, c) >= 0 {
			m.mu.Unlock()
			return false
		}
		m.subs = append(m.subs, c)
		m.mu.Unlock()
		return true
	}
}

func (p *PerChannel) Unsubscribe(channel string, c *Client) bool {
	m := p.get(channel)
	if m == nil {
		return false
	}
	m.mu.Lock()
	i := indexOf(m.subs, c)
	if m.dead || i < 0 {
		m.mu.Unlock()
		return false
	}
	if len(m.subs) > 1 {
		m.subs = without(m.subs, i)
		m.mu.Unlock()
		return true
	}
	m.subs, m.dead = nil, true
	m.mu.Unlock()
	p.mu.Lock()
	if p.managers[channel] == m {
		delete(p.managers, channel)
	}
	p.mu.Unlock()
	return true
}

func (p *PerChannel) RemoveAll(c *Client, channels []string) int {
	return unsubscribeEach(p, c, channels)
}

func (p *PerChannel) Walk(channel string, fn func(*Client)) int {
	m := p.get(channel)
	if m == nil {
		return 0
	}
	m.mu.RLock()
	subs := m.subs
	m.mu.RUnlock()
	return walk(subs, fn)
}

func (p *PerChannel) Close() {}
