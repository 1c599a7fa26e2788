// Package console is wxemu's web console: plain HTML, CSS and native ES modules embedded in the
// binary, with no build step and no request to any host but wxemu. It is a client of the
// control API and its journal stream only; the API server serves its files (apiserver.SetConsole)
// under /_emu/console/ and at / to a browser, with the control plane's access rules.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"os"
)

//go:embed static
var files embed.FS

// Static is the console's files: index.html, its modules and its style sheet.
func Static() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err) // the directory is embedded above
	}
	return sub
}

// Handler serves the console's files by name, index.html at "/". With devDir set, the files
// are read from that directory on every request (wxemu serve --console-dir, while developing
// the console); otherwise from the binary.
func Handler(devDir string) http.Handler {
	fsys := Static()
	if devDir != "" {
		fsys = os.DirFS(devDir)
	}
	files := http.FileServerFS(fsys)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if devDir != "" {
			w.Header().Set("Cache-Control", "no-store")
		} else {
			w.Header().Set("Cache-Control", "no-cache")
		}
		files.ServeHTTP(w, r)
	})
}
