package cloudfn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// FunctionSpec is one cloud function of a Mini Program and the messages pushed to it.
type FunctionSpec struct {
	// App is the alias or appid of a Mini Program app.
	App string
	// Name is the function's name. Default: the folder's base name.
	Name string
	// Dir is the function's folder: index.js, package.json, config.json, node_modules.
	Dir string
	// Env is the cloud environment id. Default "wxemu-" and the appid.
	Env string
	// Timeout is the time limit of one invocation. 0: config.json's "timeout" (seconds), else 3 s.
	Timeout time.Duration
	// Routes are the <MsgType, Event> pairs pushed to the function. Empty: text, image,
	// miniprogrampage and event/user_enter_tempsession.
	Routes []Route
	// ToUserName is what the push carries as ToUserName: "appid" (default, as the docs' example)
	// or "original_id". Deviation: UNCERTAIN in the docs (protocol §8.1), so a knob.
	ToUserName string
	// MsgIDNumber writes MsgId as a JSON number instead of the docs' string. Deviation: whether
	// the live push always writes a string is UNCERTAIN (protocol §8.1), so a knob.
	MsgIDNumber bool
	// Source is what cloud.getWXContext().SOURCE says. Default "wx_client": the push is a
	// user's act in the Mini Program's chat, and the docs give wx_client for calls a Mini
	// Program user's act causes (and for DevTools' local debugging, which wxemu stands in for).
	// Deviation: what WeChat sets for a message push is not documented (protocol §8.4).
	Source string
}

// Route is one <MsgType, Event> pair of the message-push configuration (protocol §8.1).
type Route struct{ MsgType, Event string }

// DefaultRoutes are the messages a Mini Program's customer service receives.
var DefaultRoutes = []Route{{MsgType: "text"}, {MsgType: "image"}, {MsgType: "miniprogrampage"}, {MsgType: "event", Event: "user_enter_tempsession"}}

// The values of FunctionSpec.ToUserName.
const (
	ToAppID      = "appid"
	ToOriginalID = "original_id"
)

// DefaultTimeout is a cloud function's time limit when neither the spec nor config.json sets one.
const DefaultTimeout = 3 * time.Second

// fnConfig is the part of a function's config.json wxemu reads (protocol §8.2).
type fnConfig struct {
	Permissions struct {
		OpenAPI []string `json:"openapi"`
	} `json:"permissions"`
	// Timeout is in seconds.
	Timeout float64 `json:"timeout"`
}

// allows reports whether the configuration grants the openapi api.
func (c *fnConfig) allows(api string) bool {
	for _, p := range c.Permissions.OpenAPI {
		if p == api {
			return true
		}
	}
	return false
}

// readConfig reads dir/config.json. A function without one has no permissions.
func readConfig(dir string) (fnConfig, error) {
	var c fnConfig
	file := filepath.Join(dir, "config.json")
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("read %s: %w", file, err)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return c, fmt.Errorf("%s is empty: write {\"permissions\":{\"openapi\":[…]}}, or remove it", file)
	}
	if err := json.Unmarshal(data, &c); err != nil {
		return c, jsonError(file, data, err)
	}
	if c.Timeout < 0 {
		return c, fmt.Errorf("%s: timeout is %v; it is a number of seconds, 1 to 900", file, c.Timeout)
	}
	return c, nil
}

// jsonError names the place of a JSON error as file:line:column.
func jsonError(file string, data []byte, err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		line, col := position(data, syn.Offset)
		return fmt.Errorf("%s:%d:%d: %s", file, line, col, syn.Error())
	case errors.As(err, &typ):
		line, col := position(data, typ.Offset)
		return fmt.Errorf("%s:%d:%d: %s is %s, not %s", file, line, col, typ.Field, typ.Value, typ.Type)
	}
	return fmt.Errorf("%s: %w", file, err)
}

// position turns a byte offset into a 1-based line and column.
func position(data []byte, off int64) (line, col int) {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - (bytes.LastIndexByte(before, '\n') + 1)
	if col < 1 {
		col = 1
	}
	return line, col
}

// checkFolder checks that dir holds a function Node can load: index.js, and every dependency
// package.json names installed in node_modules.
func checkFolder(name, dir string) error {
	st, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("function %s: folder %s does not exist", name, dir)
	case err != nil:
		return fmt.Errorf("function %s: %w", name, err)
	case !st.IsDir():
		return fmt.Errorf("function %s: %s is not a folder; give the function's folder (index.js, package.json, config.json)", name, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "index.js")); err != nil {
		return fmt.Errorf("function %s: %s is missing: a cloud function's folder holds index.js with exports.main", name, filepath.Join(dir, "index.js"))
	}
	pkgFile := filepath.Join(dir, "package.json")
	data, err := os.ReadFile(pkgFile)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("function %s: read %s: %w", name, pkgFile, err)
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(data, &pkg); err != nil {
		return fmt.Errorf("function %s: %w", name, jsonError(pkgFile, data, err))
	}
	if len(pkg.Dependencies) == 0 {
		return nil
	}
	modules := filepath.Join(dir, "node_modules")
	if _, err := os.Stat(modules); err != nil {
		return fmt.Errorf("function %s: %s is missing: run npm install in %s", name, modules, dir)
	}
	var missing []string
	for dep := range pkg.Dependencies {
		if _, err := os.Stat(filepath.Join(modules, filepath.FromSlash(dep), "package.json")); err != nil {
			missing = append(missing, dep)
		}
	}
	if len(missing) > 0 {
		sort.Strings(missing)
		return fmt.Errorf("function %s: package.json depends on %s, which %s not in %s: run npm install in %s",
			name, strings.Join(missing, ", "), plural(len(missing), "is", "are"), modules, dir)
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
