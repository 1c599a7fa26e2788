package platform

import (
	"sync"
	"sync/atomic"
	"time"
)

// observers are the functions Observe registered. The list is copied on change and read
// without a lock, so that recording an entry costs one atomic load when nobody observes.
type observers struct {
	mu   sync.Mutex                    // serialises changes of list
	list atomic.Pointer[[]*observerFn] // read by notify without mu
}

type observerFn struct{ fn func(*Entry) }

// Observe calls fn with every journal entry as it is recorded, in the goroutine that records
// it, until cancel is called. Unlike Subscribe it never misses an entry, whatever the load:
// it is for counting (wxemu load counts the bot's API calls by errcode), so fn must be quick,
// must not call the platform and must not keep the entry. fn is called from many goroutines at
// once.
func (p *Platform) Observe(fn func(*Entry)) (cancel func()) {
	o := &observerFn{fn: fn}
	p.obs.mu.Lock()
	var list []*observerFn
	if old := p.obs.list.Load(); old != nil {
		list = append(list, *old...)
	}
	list = append(list, o)
	p.obs.list.Store(&list)
	p.obs.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			p.obs.mu.Lock()
			defer p.obs.mu.Unlock()
			var kept []*observerFn
			for _, x := range *p.obs.list.Load() {
				if x != o {
					kept = append(kept, x)
				}
			}
			p.obs.list.Store(&kept)
		})
	}
}

// notify calls the observers with e.
func (o *observers) notify(e *Entry) {
	list := o.list.Load()
	if list == nil {
		return
	}
	for _, x := range *list {
		x.fn(e)
	}
}

// PushLimits are the reply deadline of pushes (wall time) and how many attempts WeChat makes in
// all, as the push engine runs them (the config's push.timeout and push.attempts, or the
// override of Options.PushTimeout).
func (p *Platform) PushLimits() (deadline time.Duration, attempts int) {
	c := p.engine.Config()
	return c.Timeout, c.MaxAttempts
}
