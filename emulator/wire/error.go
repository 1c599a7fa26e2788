package wire

import "fmt"

// Error is a refusal on the wire: the errcode WeChat answers with, and a detail for a person
// (what exactly was wrong and where, e.g. `text.content is empty`) that the journal shows. The
// detail never reaches the bot: WeChat's errmsg is fixed per code (see Errmsg).
type Error struct {
	Code   int
	Detail string
}

// Errorf makes an Error with a formatted detail.
func Errorf(code int, format string, args ...any) *Error {
	return &Error{Code: code, Detail: fmt.Sprintf(format, args...)}
}

func (e *Error) Error() string {
	if msg, ok := Errmsg(e.Code); ok {
		return fmt.Sprintf("errcode %d %s: %s", e.Code, msg, e.Detail)
	}
	return fmt.Sprintf("errcode %d: %s", e.Code, e.Detail)
}
