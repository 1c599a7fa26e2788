package platform

import (
	"context"
	"sync/atomic"

	"github.com/wxemu/wxemu/emulator/journal"
	"github.com/wxemu/wxemu/emulator/wire"
)

// ViaCloud marks an API call a Mini Program cloud function made through cloud.openapi.
const ViaCloud = journal.ViaCloud

// Function is a Mini Program cloud function that WeChat pushes some of an app's messages to
// instead of its callback URL (protocol §8.1).
type Function interface {
	// Name names the function in the journal and in messages.
	Name() string
	// Invoke runs the function with the push m, its header filled in, for the user openid, and
	// judges what it returned: the verdict has the shape of a push to a callback URL, so the
	// rest of WeChat (transcript, transfer, journal) treats both alike.
	Invoke(ctx context.Context, app *App, openid string, m *wire.Message) *PushResult
}

// FunctionRouter gives the function a message of an app is routed to by its <MsgType, Event>
// pair, or nil when the message goes to the callback URL.
type FunctionRouter func(app *App, m *wire.Message) Function

// functions is the router of cloud functions, set once before the first message.
type functions struct {
	router atomic.Pointer[FunctionRouter]
}

// SetFunctions routes messages to cloud functions. The function host calls it once it has
// started, before any user acts.
func (p *Platform) SetFunctions(r FunctionRouter) { p.fns.router.Store(&r) }

// functionFor is the function a message goes to, or nil.
func (p *Platform) functionFor(app *App, m *wire.Message) Function {
	r := p.fns.router.Load()
	if r == nil || *r == nil {
		return nil
	}
	return (*r)(app, m)
}

// deliverPush pushes m to where WeChat sends the app's messages of its kind: the cloud function it
// is routed to, else the callback URL. reached is false when there is neither.
func (p *Platform) deliverPush(ctx context.Context, app *App, openid string, m *wire.Message) (res *PushResult, reached bool) {
	if fn := p.functionFor(app, m); fn != nil {
		return fn.Invoke(ctx, app, openid, m), true
	}
	if app.target == nil {
		return nil, false
	}
	return p.engine.Push(ctx, app.target, m), true
}

// reaches reports whether a message of the app goes anywhere: a function or the callback URL.
func (p *Platform) reaches(app *App, m *wire.Message) bool {
	return app.target != nil || p.functionFor(app, m) != nil
}
