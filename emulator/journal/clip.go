package journal

import (
	"strconv"
	"unicode/utf8"
)

// BodyLimit is how much of any one body an entry keeps: a push's request and answer, a cloud
// function's output, an exchange's bodies. A bot may answer up to push.max_reply_bytes (1 MiB by
// default), and the journal holds thousands of entries; what is cut is said where it was cut.
const BodyLimit = ExchangeBodyLimit

// ClipBody keeps at most limit bytes of s, cut on a character boundary, and says how much went:
// "… (983040 bytes dropped)".
func ClipBody(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := max(limit, 0)
	for back := 0; cut > 0 && back < utf8.UTFMax-1 && !utf8.RuneStart(s[cut]); back++ {
		cut--
	}
	return s[:cut] + "… (" + strconv.Itoa(len(s)-cut) + " bytes dropped)"
}

// clipEntry clips the large bodies of e to BodyLimit. A push's result is shared with the caller
// that judged it, so it is copied before it is changed, never changed in place.
func clipEntry(e *Entry) {
	switch {
	case e.Push != nil && e.Push.Result != nil:
		r := e.Push.Result
		big := len(r.Request.Body) > BodyLimit || len(r.Request.Plaintext) > BodyLimit || len(r.UserSees) > BodyLimit
		if a := r.Answer; a != nil {
			big = big || len(a.Body) > BodyLimit || len(a.Decrypted) > BodyLimit
		}
		for _, at := range r.Attempts {
			for _, o := range at.Output {
				big = big || len(o.Text) > BodyLimit
			}
		}
		if !big {
			return
		}
		c := *r
		c.Request.Body = ClipBody(c.Request.Body, BodyLimit)
		c.Request.Plaintext = ClipBody(c.Request.Plaintext, BodyLimit)
		c.UserSees = ClipBody(c.UserSees, BodyLimit)
		if r.Answer != nil {
			a := *r.Answer
			a.Body = ClipBody(a.Body, BodyLimit)
			a.Decrypted = ClipBody(a.Decrypted, BodyLimit)
			c.Answer = &a
		}
		c.Attempts = append(c.Attempts[:0:0], r.Attempts...)
		for i := range c.Attempts {
			out := append(c.Attempts[i].Output[:0:0], c.Attempts[i].Output...)
			for k := range out {
				out[k].Text = ClipBody(out[k].Text, BodyLimit)
			}
			c.Attempts[i].Output = out
		}
		p := *e.Push
		p.Result = &c
		e.Push = &p
	case e.Log != nil && len(e.Log.Text) > BodyLimit:
		l := *e.Log
		l.Text = ClipBody(l.Text, BodyLimit)
		e.Log = &l
	case e.KF != nil && e.KF.Message != nil && len(e.KF.Message.Content) > BodyLimit:
		k := *e.KF
		m := *k.Message
		m.Content = ClipBody(m.Content, BodyLimit)
		k.Message = &m
		e.KF = &k
	}
}
