package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// publisherSenders is how many POST /publish requests may be in flight.
const publisherSenders = 4

// publisher posts publications to the admin API at a rate that may change
// while it runs, spread over the channels by the plan's popularity. Each
// publication's data is {"t":<send time, Unix ns>}, or with values
// {"t":...,"n":<value number>}, n counting the publications 1, 2, ...
// in the order they were put in requests. Its counters may be read from
// any goroutine.
type publisher struct {
	url, key string
	client   *http.Client
	plan     *plan
	conns    int     // connections: user channels are user.0 .. user.(conns-1)
	userFrac float64 // share of publications to user channels
	subs     map[string]int
	batch    int  // fixed batch size; 0: by rate
	values   bool // data carries "n"
	tokens   int  // token channels, for publishLast

	rate atomic.Uint64 // float64 bits, publications per second

	value                  atomic.Int64 // the last value number given
	sent, accepted, failed atomic.Int64
	expected               atomic.Int64 // deliveries the accepted publications owe

	mu         sync.Mutex
	books      []string          // -book: order books to add to the data, in turn
	perChannel map[string]uint64 // accepted publications per channel; guarded by mu
	errs       map[string]int64  // guarded by mu
}

func newPublisher(o *options, p *plan, subs map[string]int) *publisher {
	return &publisher{
		url:        strings.TrimRight(o.Admin, "/") + "/publish",
		key:        o.Key,
		client:     &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: publisherSenders}},
		plan:       p,
		conns:      o.Conns,
		userFrac:   o.UserFrac,
		subs:       subs,
		batch:      o.Batch,
		values:     o.LastValue,
		tokens:     o.Tokens,
		books:      books(o.Book),
		perChannel: map[string]uint64{},
		errs:       map[string]int64{},
	}
}

// books returns the order books of -book levels; nil for none.
func books(levels int) []string {
	if levels <= 0 {
		return nil
	}
	return orderBooks(levels)
}

func (p *publisher) setRate(r float64) { p.rate.Store(math.Float64bits(r)) }
func (p *publisher) getRate() float64  { return math.Float64frombits(p.rate.Load()) }

// batchSize is the publications per POST at rate r: about 100 POSTs a
// second, unless -batch fixes it.
func (p *publisher) batchSize(r float64) int {
	if p.batch > 0 {
		return p.batch
	}
	return max(1, int(math.Ceil(r/100)))
}

// run publishes until ctx is done. A batch that cannot start on time
// (every sender busy) starts late: the achieved rate shows it.
func (p *publisher) run(ctx context.Context, seed uint64) {
	batches := make(chan []string, publisherSenders)
	var wg sync.WaitGroup
	for range publisherSenders {
		wg.Go(func() {
			for b := range batches {
				p.post(b)
			}
		})
	}
	r := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	defer func() {
		close(batches)
		wg.Wait()
	}()
	due := time.Now() // the first batch goes at once
	for {
		rate := p.getRate()
		if rate <= 0 {
			return
		}
		n := p.batchSize(rate)
		chans := make([]string, n)
		for i := range chans {
			chans[i] = p.pick(r)
		}
		if d := time.Until(due); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		} else if d < -time.Second {
			due = time.Now() // far behind: do not burst to catch up
		}
		select {
		case <-ctx.Done():
			return
		case batches <- chans:
		}
		due = due.Add(time.Duration(float64(n) / rate * float64(time.Second)))
	}
}

// pick draws a publication's channel.
func (p *publisher) pick(r *rand.Rand) string {
	if p.userFrac > 0 && r.Float64() < p.userFrac {
		return userChannel(r.IntN(p.conns))
	}
	return tokenChannel(p.plan.pop.sample(r))
}

// post sends one batch, stamping the send time (and, with values, the
// value numbers first, first+1, ...) into its publications; ok reports
// whether the server accepted it.
func (p *publisher) post(chans []string) (first int64, ok bool) {
	var body bytes.Buffer
	t := strconv.FormatInt(time.Now().UnixNano(), 10)
	if p.values {
		first = p.value.Add(int64(len(chans))) - int64(len(chans)) + 1
	}
	body.WriteByte('[')
	for i, ch := range chans {
		if i > 0 {
			body.WriteByte(',')
		}
		body.WriteString(`{"channel":"`)
		body.WriteString(ch)
		body.WriteString(`","data":{"t":`)
		body.WriteString(t)
		if p.values {
			body.WriteString(`,"n":`)
			body.WriteString(strconv.FormatInt(first+int64(i), 10))
		}
		if len(p.books) > 0 {
			body.WriteString(`,"book":`)
			body.WriteString(p.books[int(p.sent.Load()+int64(i))%len(p.books)])
		}
		body.WriteString(`}}`)
	}
	body.WriteByte(']')
	p.sent.Add(int64(len(chans)))
	req, _ := http.NewRequest(http.MethodPost, p.url, &body)
	req.Header.Set("Authorization", "Bearer "+p.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		p.fail(len(chans), "error: "+err.Error())
		return first, false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		p.fail(len(chans), fmt.Sprintf("HTTP %d", resp.StatusCode))
		return first, false
	}
	exp := 0
	p.mu.Lock()
	for _, ch := range chans {
		p.perChannel[ch]++
		exp += p.subs[ch]
	}
	p.mu.Unlock()
	p.expected.Add(int64(exp))
	p.accepted.Add(int64(len(chans)))
	return first, true
}

// publishLast publishes, once run has returned, one more value on every
// token channel, alone in its request and after every other has been
// answered, so that it is each channel's last publication; it returns the
// values the server accepted, by channel. On a conflated channel that
// last publication must still reach every subscriber.
func (p *publisher) publishLast() map[string]int64 {
	last := map[string]int64{}
	for k := range p.tokens {
		ch := tokenChannel(k)
		if v, ok := p.post([]string{ch}); ok {
			last[ch] = v
		}
	}
	return last
}

func (p *publisher) fail(n int, reason string) {
	p.failed.Add(int64(n))
	reason = clip(reason, 80)
	p.mu.Lock()
	p.errs[reason] += int64(n)
	p.mu.Unlock()
}

// acceptedPerChannel returns a copy of the accepted counts.
func (p *publisher) acceptedPerChannel() map[string]uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	m := make(map[string]uint64, len(p.perChannel))
	for k, v := range p.perChannel {
		m[k] = v
	}
	return m
}
