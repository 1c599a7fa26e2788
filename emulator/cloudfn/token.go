package cloudfn

import (
	"sync"

	"github.com/wxemu/wxemu/emulator/platform"
)

// grant is what a wxCloudApiToken stands for: one invocation of a function for a user, with the
// function's permissions as they were when it began. It dies when the invocation ends.
type grant struct {
	fn     *function
	app    *platform.App
	openid string
	inv    string // the invocation's request_id
	source string
	perms  map[string]bool
	ended  string // why the invocation ended; empty while it runs
}

// deadKept is how many ended tokens are remembered, to tell a late call from an unknown token.
const deadKept = 4096

// tokens are the wxCloudApiTokens of the invocations running, and of the last ones that ended.
type tokens struct {
	mu    sync.Mutex // guards live, dead and order
	live  map[string]*grant
	dead  map[string]*grant
	order []string // dead tokens, oldest first
}

func newTokens() tokens {
	return tokens{live: map[string]*grant{}, dead: map[string]*grant{}}
}

// issue makes token stand for g.
func (t *tokens) issue(token string, g *grant) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.live[token] = g
	return token
}

// end kills a token: calls with it are late from now on.
func (t *tokens) end(token, why string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	g, ok := t.live[token]
	if !ok {
		return
	}
	delete(t.live, token)
	ended := *g
	ended.ended = why
	t.dead[token] = &ended
	t.order = append(t.order, token)
	if len(t.order) > deadKept {
		delete(t.dead, t.order[0])
		t.order = t.order[1:]
	}
}

// lookup finds a token: its grant, and whether its invocation still runs. ok is false for a
// token no invocation had (or one ended too long ago to remember).
func (t *tokens) lookup(token string) (g grant, live, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, found := t.live[token]; found {
		return *p, true, true
	}
	if p, found := t.dead[token]; found {
		return *p, false, true
	}
	return grant{}, false, false
}
