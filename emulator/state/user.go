package state

import (
	"errors"
	"sort"
	"sync"
	"time"
)

// Typing rules (protocol §4.2).
const (
	// TypingNeedsInteraction: typing is allowed only within this long of the last message
	// between the user and the account, in either direction.
	TypingNeedsInteraction = 30 * time.Second
	// TypingLasts: the typing state ends on its own after this long.
	TypingLasts = 15 * time.Second
)

var (
	// ErrUserUnknown: the openid is not a user of this app. Maps to 40003 invalid openid.
	ErrUserUnknown = errors.New("user: openid is not a user of this app")
	// ErrTypingNoInteraction maps to 45080: no message either way in the last 30 seconds.
	ErrTypingNoInteraction = errors.New("typing: no message between the user and the account in the last 30 seconds")
	// ErrAlreadyTyping maps to 45081.
	ErrAlreadyTyping = errors.New("typing: already typing")
)

// User is a user of one app, as WeChat knows them.
type User struct {
	App        string `json:"app"`
	OpenID     string `json:"openid"`
	Name       string `json:"name,omitempty"`
	Subscribed bool   `json:"subscribed"`
	// LastInteraction is the last message between the user and the account, either way: the
	// typing rule's 30 seconds count from it.
	LastInteraction time.Time `json:"last_interaction,omitzero"`
	// LastMessage is the last message the user sent the account: kfsession/create's "the user
	// talked to the account within 48 hours" counts from it.
	LastMessage time.Time `json:"last_message,omitzero"`
	TypingUntil time.Time `json:"typing_until,omitzero"`
}

// Users holds the users of every app. A user exists once configured or once they interact.
type Users struct {
	mu sync.Mutex // guards m
	m  map[userKey]*User
}

// NewUsers returns an empty user store.
func NewUsers() *Users { return &Users{m: map[userKey]*User{}} }

// Ensure makes the user known to the app, creating them with name and subscribed if new, and
// returns a copy.
func (u *Users) Ensure(app, openid, name string, subscribed bool) User {
	u.mu.Lock()
	defer u.mu.Unlock()
	k := userKey{app, openid}
	rec, ok := u.m[k]
	if !ok {
		rec = &User{App: app, OpenID: openid, Name: name, Subscribed: subscribed}
		u.m[k] = rec
	}
	return *rec
}

// Get returns a copy of a user.
func (u *Users) Get(app, openid string) (User, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	rec, ok := u.m[userKey{app, openid}]
	if !ok {
		return User{}, false
	}
	return *rec, true
}

// List returns copies of every user of app (every app when app is empty), sorted by openid.
func (u *Users) List(app string) []User {
	u.mu.Lock()
	defer u.mu.Unlock()
	var out []User
	for k, rec := range u.m {
		if app == "" || k.app == app {
			out = append(out, *rec)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].App != out[j].App {
			return out[i].App < out[j].App
		}
		return out[i].OpenID < out[j].OpenID
	})
	return out
}

// SetSubscribed records a follow or an unfollow.
func (u *Users) SetSubscribed(app, openid string, subscribed bool) error {
	return u.update(app, openid, func(rec *User) error { rec.Subscribed = subscribed; return nil })
}

// Touch records a message between the user and the account at now, in either direction; it
// also ends any typing state, since sending a message cancels it.
func (u *Users) Touch(app, openid string, now time.Time, cancelTyping bool) error {
	return u.update(app, openid, func(rec *User) error {
		if now.After(rec.LastInteraction) {
			rec.LastInteraction = now
		}
		if cancelTyping {
			rec.TypingUntil = time.Time{}
		}
		return nil
	})
}

// Talked records a message from the user to the account at now: it counts for the typing rule
// (as Touch, leaving any typing state) and as the user's last message.
func (u *Users) Talked(app, openid string, now time.Time) error {
	return u.update(app, openid, func(rec *User) error {
		if now.After(rec.LastInteraction) {
			rec.LastInteraction = now
		}
		if now.After(rec.LastMessage) {
			rec.LastMessage = now
		}
		return nil
	})
}

// StartTyping shows "typing…" to the user (protocol §4.2).
func (u *Users) StartTyping(app, openid string, now time.Time) error {
	return u.update(app, openid, func(rec *User) error {
		if rec.LastInteraction.IsZero() || now.Sub(rec.LastInteraction) > TypingNeedsInteraction {
			return ErrTypingNoInteraction
		}
		if now.Before(rec.TypingUntil) {
			return ErrAlreadyTyping
		}
		rec.TypingUntil = now.Add(TypingLasts)
		return nil
	})
}

// CancelTyping ends the typing state.
func (u *Users) CancelTyping(app, openid string, now time.Time) error {
	return u.update(app, openid, func(rec *User) error {
		if rec.LastInteraction.IsZero() || now.Sub(rec.LastInteraction) > TypingNeedsInteraction {
			return ErrTypingNoInteraction
		}
		rec.TypingUntil = time.Time{}
		return nil
	})
}

func (u *Users) update(app, openid string, f func(*User) error) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	rec, ok := u.m[userKey{app, openid}]
	if !ok {
		return ErrUserUnknown
	}
	return f(rec)
}

// Reset forgets every user.
func (u *Users) Reset() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.m = map[userKey]*User{}
}

// Restore replaces every user with an export.
func (u *Users) Restore(users []User) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.m = make(map[userKey]*User, len(users))
	for _, x := range users {
		rec := x
		u.m[userKey{x.App, x.OpenID}] = &rec
	}
}
