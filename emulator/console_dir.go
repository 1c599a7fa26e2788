package emulator

import (
	"github.com/wxemu/wxemu/emulator/apiserver"
	"github.com/wxemu/wxemu/emulator/console"
)

// SetConsoleDir serves the web console's files from dir, read on every request, instead of
// those built into the binary (wxemu serve --console-dir, while developing the console). Call
// it before Start.
func (e *Emulator) SetConsoleDir(dir string) { e.api.SetConsole(console.Handler(dir)) }

// ConsoleURL is the web console's address once started; with a control token it carries it
// as ?token=, which the page keeps in sessionStorage.
func (e *Emulator) ConsoleURL() string {
	u := e.URL() + apiserver.ConsolePath
	if tok := e.api.ControlAccess().Token; tok != "" {
		u += "?token=" + tok
	}
	return u
}
