package strategies

import (
	"strings"
	"sync"
)

// Actor serves every call on one goroutine that owns the map, as a hub
// goroutine does: callers send a request and wait for the reply. Reply
// channels are pooled, so a call allocates nothing once warm.
type Actor struct {
	reqs chan request
	done chan struct{}
}

type op uint8

const (
	opSubscribe op = iota
	opUnsubscribe
	opRemoveAll
	opLookup
)

type request struct {
	op       op
	channel  string
	client   *Client
	channels []string
	reply    chan reply
}

type reply struct {
	n    int
	subs []*Client
}

// actorQueue is the request channel's buffer: callers on every core queue
// up without waiting for the actor to take each one.
const actorQueue = 256

var replies = sync.Pool{New: func() any { return make(chan reply, 1) }}

func NewActor() *Actor {
	a := &Actor{reqs: make(chan request, actorQueue), done: make(chan struct{})}
	go a.run()
	return a
}

func (a *Actor) run() {
	defer close(a.done)
	subs := make(map[string][]*Client) // owned by this goroutine
	unsubscribe := func(channel string, c *Client) int {
		s := subs[channel]
		i := indexOf(s, c)
		switch {
		case i < 0:
			return 0
		case len(s) == 1:
			delete(subs, channel)
		default:
			subs[channel] = without(s, i)
		}
		return 1
	}
	for r := range a.reqs {
		var out reply
		switch r.op {
		case opSubscribe:
			s, ok := subs[r.channel]
			if indexOf(s, r.client) < 0 {
				if !ok {
					r.channel = strings.Clone(r.channel)
				}
				subs[r.channel] = append(s, r.client)
				out.n = 1
			}
		case opUnsubscribe:
			out.n = unsubscribe(r.channel, r.client)
		case opRemoveAll:
			for _, ch := range r.channels {
				out.n += unsubscribe(ch, r.client)
			}
		case opLookup:
			s := subs[r.channel]
			out.subs = s[:len(s):len(s)]
		}
		r.reply <- out
	}
}

func (a *Actor) call(r request) reply {
	ch := replies.Get().(chan reply)
	r.reply = ch
	a.reqs <- r
	out := <-ch
	replies.Put(ch)
	return out
}

func (a *Actor) Subscribe(channel string, c *Client) bool {
	return a.call(request{op: opSubscribe, channel: channel, client: c}).n == 1
}

func (a *Actor) Unsubscribe(channel string, c *Client) bool {
	return a.call(request{op: opUnsubscribe, channel: channel, client: c}).n == 1
}

func (a *Actor) RemoveAll(c *Client, channels []string) int {
	return a.call(request{op: opRemoveAll, client: c, channels: channels}).n
}

func (a *Actor) Walk(channel string, fn func(*Client)) int {
	return walk(a.call(request{op: opLookup, channel: channel}).subs, fn)
}

// Close stops the actor's goroutine; the actor must not be used after.
func (a *Actor) Close() {
	close(a.reqs)
	<-a.done
}
