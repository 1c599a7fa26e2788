package main

// The client of a running `wxemu serve`: the commands user, clock, journal, token and apps act
// through its control API (/_emu/v1), and address apps by alias and users by name.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/wxemu/wxemu/emulator/apiserver"
	"github.com/wxemu/wxemu/emulator/clock"
	"github.com/wxemu/wxemu/emulator/platform"
)

// defaultEmuURL is where the remote commands look for wxemu serve without --emu or WXEMU_URL:
// the listen address of the embedded config.
const defaultEmuURL = "http://127.0.0.1:7700"

// emuEnv names the variable that gives the remote commands the address of wxemu serve.
const emuEnv = "WXEMU_URL"

// actsThroughServe is how the help of a remote command says where serve is.
const actsThroughServe = "Acts through serve's control API (--emu URL, or $" + emuEnv + "; default " + defaultEmuURL + ")."

// remoteCommand is the opening every remote command shares: a flag set with --emu and --json,
// the help, parsing the command line, and reaching serve.
type remoteCommand struct {
	name   string
	fs     *flag.FlagSet // the command adds its own flags
	emu    emuFlag
	asJSON *bool
}

// newRemoteCommand makes command name, whose help is usage and then its flags; jsonHelp says what
// --json prints.
func newRemoteCommand(name, usage, jsonHelp string) *remoteCommand {
	c := &remoteCommand{name: name, fs: flag.NewFlagSet(name, flag.ContinueOnError)}
	c.emu.register(c.fs)
	c.asJSON = c.fs.Bool("json", false, jsonHelp)
	c.fs.Usage = func() {
		fmt.Fprint(c.fs.Output(), usage+"\n\nFlags:\n")
		printFlags(c.fs.Output(), c.fs)
	}
	return c
}

// parse parses the command line as parseInterspersed does: the positional arguments, and an exit
// code ≥ 0 when the command should stop.
func (c *remoteCommand) parse(args []string, stdout, stderr io.Writer) ([]string, int) {
	return parseInterspersed(c.fs, args, stdout, stderr)
}

// connect returns the client of serve and the context of the command, which ends at SIGINT or
// SIGTERM and, when timeout is not 0, after timeout; the caller defers stop. An exit code ≥ 0
// says the address of serve is wrong.
func (c *remoteCommand) connect(stderr io.Writer, timeout time.Duration) (r *remote, ctx context.Context, stop func(), code int) {
	r, err := c.emu.client(c.name)
	if err != nil {
		return nil, nil, nil, usageError(stderr, c.name, "%v", err)
	}
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if timeout == 0 {
		return r, ctx, stopSignals, -1
	}
	ctx, cancel := clock.WithTimeout(ctx, timeout)
	return r, ctx, func() { cancel(); stopSignals() }, -1
}

// emuFlag is the --emu flag every remote command has.
type emuFlag struct{ url string }

func (e *emuFlag) register(fs *flag.FlagSet) {
	fs.StringVar(&e.url, "emu", "", "the `URL` of the running wxemu serve (default $"+emuEnv+", or "+defaultEmuURL+")")
}

// client returns the client of the wxemu serve the flag, the environment or the default names.
func (e *emuFlag) client(cmd string) (*remote, error) {
	raw, from := e.url, "--emu"
	if raw == "" {
		raw, from = os.Getenv(emuEnv), emuEnv
	}
	if raw == "" {
		raw, from = defaultEmuURL, ""
	}
	base, err := normalizeEmuURL(raw)
	if err != nil {
		if from != "" {
			return nil, fmt.Errorf("%s %q: %w", from, raw, err)
		}
		return nil, err
	}
	return &remote{cmd: cmd, base: base, from: from, http: &http.Client{Transport: &http.Transport{Proxy: nil}}}, nil
}

// normalizeEmuURL accepts what a person would type: 127.0.0.1:7700, http://localhost:7700/, or
// the control API's own URL.
func normalizeEmuURL(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("not the address of wxemu serve: write it as http://127.0.0.1:7700")
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), "/_emu/v1")
	u.RawQuery, u.Fragment = "", ""
	return strings.TrimSuffix(u.String(), "/"), nil
}

// remote is a client of one wxemu serve.
type remote struct {
	cmd  string // the subcommand, for messages
	base string
	from string // where base came from: --emu, WXEMU_URL, or "" for the default
	http *http.Client

	apps  []apiserver.AppInfo // read once, by appsList
	users []platform.User     // read once, by usersList
}

// controlError is a refusal of the control API: its status and its message, which says what
// failed and how to fix it.
type controlError struct {
	Method, Path string
	Status       int
	Message      string
}

func (e *controlError) Error() string { return e.Message }

// exitCode is the exit status for a failed call: the usage code when what was typed is wrong
// (400, 404), 1 for a refusal or a failure.
func exitCode(err error) int {
	var ce *controlError
	if errors.As(err, &ce) && (ce.Status == http.StatusBadRequest || ce.Status == http.StatusNotFound) {
		return exitUsage
	}
	var ue *usageErr
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitFail
}

// usageErr is a mistake on the command line found while talking to serve (an unknown user).
type usageErr struct{ msg string }

func (e *usageErr) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageErr{fmt.Sprintf(format, args...)} }

// fail prints err for a person and returns the exit code.
func (r *remote) fail(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "wxemu %s: %v\n", r.cmd, err)
	if exitCode(err) == exitUsage {
		fmt.Fprintf(stderr, "Run 'wxemu %s --help' for usage.\n", r.cmd)
	}
	return exitCode(err)
}

// call makes one request of the control API and decodes the answer into out (when not nil).
func (r *remote) call(ctx context.Context, method, path string, query url.Values, body []byte, out any) error {
	u := r.base + "/_emu/v1" + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	authorize(req)
	resp, err := r.http.Do(req)
	if err != nil {
		return r.unreachable(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	return r.decode(method, path, resp, data, out)
}

func (r *remote) decode(method, path string, resp *http.Response, data []byte, out any) error {
	isJSON := strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json")
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error string `json:"error"`
		}
		if isJSON && json.Unmarshal(data, &e) == nil && e.Error != "" {
			return &controlError{Method: method, Path: path, Status: resp.StatusCode, Message: e.Error}
		}
		return r.notWxemu(resp.StatusCode)
	}
	if !isJSON {
		return r.notWxemu(resp.StatusCode)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: the answer of %s is not what this wxemu understands (%v); is it a wxemu of another version?", method, path, r.base, err)
	}
	return nil
}

// unreachable explains a request that got no answer: usually no wxemu serve runs there.
func (r *remote) unreachable(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	where := "the default address"
	switch r.from {
	case "--emu":
		where = "--emu"
	case emuEnv:
		where = "$" + emuEnv
	}
	return fmt.Errorf("no wxemu serve answers at %s (%s, %v): start one with `wxemu serve`, or give its address with --emu URL or %s", r.base, where, err, emuEnv)
}

func (r *remote) notWxemu(status int) error {
	return fmt.Errorf("%s answered HTTP %d, and not as wxemu's control API: is this the address of wxemu serve (not your bot's)?", r.base, status)
}

// appsList is GET /_emu/v1/apps, read once.
func (r *remote) appsList(ctx context.Context) ([]apiserver.AppInfo, error) {
	if r.apps != nil {
		return r.apps, nil
	}
	var out struct {
		Apps []apiserver.AppInfo `json:"apps"`
	}
	if err := r.call(ctx, http.MethodGet, "/apps", nil, nil, &out); err != nil {
		return nil, err
	}
	r.apps = out.Apps
	return r.apps, nil
}

// usersList is GET /_emu/v1/users: every user of every app, read once.
func (r *remote) usersList(ctx context.Context) ([]platform.User, error) {
	if r.users != nil {
		return r.users, nil
	}
	var out struct {
		Users []platform.User `json:"users"`
	}
	if err := r.call(ctx, http.MethodGet, "/users", nil, nil, &out); err != nil {
		return nil, err
	}
	r.users = out.Users
	if r.users == nil {
		r.users = []platform.User{}
	}
	return r.users, nil
}

// app finds an app by alias or appid; key "" is the only app, when there is one.
func (r *remote) app(ctx context.Context, key string) (apiserver.AppInfo, error) {
	apps, err := r.appsList(ctx)
	if err != nil {
		return apiserver.AppInfo{}, err
	}
	if key == "" {
		if len(apps) == 1 {
			return apps[0], nil
		}
		return apiserver.AppInfo{}, usagef("name the app: %s", strings.Join(appAliases(apps), " or "))
	}
	for _, a := range apps {
		if a.Alias == key || a.AppID == key {
			return a, nil
		}
	}
	var keys []string
	for _, a := range apps {
		keys = append(keys, a.Alias, a.AppID)
	}
	return apiserver.AppInfo{}, usagef("no app %q%s; the apps of %s are %s", key, didYouMean(key, keys), r.base, strings.Join(appAliases(apps), ", "))
}

func appAliases(apps []apiserver.AppInfo) []string {
	var out []string
	for _, a := range apps {
		out = append(out, a.Alias)
	}
	return out
}

// who is a user of an app, as the remote commands address them.
type who struct {
	app    apiserver.AppInfo
	openid string
	name   string // "" for an openid serve knows no name of
}

// label is how reports name the user: alice, or the openid.
func (w who) label() string {
	if w.name != "" {
		return w.name
	}
	return w.openid
}

// user resolves a user given as NAME, NAME@APP, OPENID or OPENID@APP; appKey (--app), when not
// empty, names the app too. A bare name is the first app's, in the order of the config, that has
// a user of that name. An openid serve does not know yet is a new user of the app named.
func (r *remote) user(ctx context.Context, spec, appKey string) (who, error) {
	name, suffix, hasApp := strings.Cut(spec, "@")
	if hasApp {
		if suffix == "" {
			return who{}, usagef("%q: name the app after the @, e.g. %s@oa", spec, name)
		}
		if appKey != "" && appKey != suffix {
			return who{}, usagef("%s names app %s and --app names %s: say one", spec, suffix, appKey)
		}
		appKey = suffix
	}
	if name == "" {
		return who{}, usagef("the user is missing: a name (alice), name@app (alice@mp) or an openid")
	}
	apps, err := r.appsList(ctx)
	if err != nil {
		return who{}, err
	}
	users, err := r.usersList(ctx)
	if err != nil {
		return who{}, err
	}
	var scope []apiserver.AppInfo
	if appKey != "" {
		a, err := r.app(ctx, appKey)
		if err != nil {
			return who{}, err
		}
		scope = []apiserver.AppInfo{a}
	} else {
		scope = apps
	}
	for _, a := range scope {
		for _, u := range users {
			if u.App == a.AppID && (u.Name == name || u.OpenID == name) {
				return who{app: a, openid: u.OpenID, name: u.Name}, nil
			}
		}
	}
	if looksLikeOpenID(name) {
		if len(scope) == 1 {
			return who{app: scope[0], openid: name}, nil
		}
		return who{}, usagef("%s is a user of no app yet: say which app, e.g. %s@%s", name, name, scope[0].Alias)
	}
	var names []string
	seen := map[string]bool{}
	for _, a := range scope {
		for _, u := range users {
			if u.App == a.AppID && u.Name != "" && !seen[u.Name] {
				seen[u.Name] = true
				names = append(names, u.Name)
			}
		}
	}
	sort.Strings(names)
	where := "serve"
	if len(scope) == 1 {
		where = "app " + scope[0].Alias
	}
	if len(names) == 0 {
		return who{}, usagef("%s has no user called %q: give an openid instead", where, name)
	}
	return who{}, usagef("%s has no user called %q%s; its users are %s, or give an openid", where, name, didYouMean(name, names), strings.Join(names, ", "))
}

// looksLikeOpenID tells an openid from a name: WeChat's are 28 characters and start with "o".
func looksLikeOpenID(s string) bool {
	return len(s) >= 20 && !strings.ContainsAny(s, " \t/?#")
}

// names maps the openids of every known user to their names, for reports.
func (r *remote) names(ctx context.Context) map[string]string {
	out := map[string]string{}
	users, err := r.usersList(ctx)
	if err != nil {
		return out
	}
	for _, u := range users {
		if u.Name != "" {
			out[u.App+"/"+u.OpenID] = u.Name
		}
	}
	return out
}

// lastSeq is the newest sequence number of the journal: what an action's entries come after.
func (r *remote) lastSeq(ctx context.Context) (uint64, error) {
	var out struct {
		LastSeq uint64 `json:"last_seq"`
	}
	if err := r.call(ctx, http.MethodGet, "/journal", url.Values{"limit": {"1"}}, nil, &out); err != nil {
		return 0, err
	}
	return out.LastSeq, nil
}

// authorize sends the control plane's token, $WXEMU_CONTROL_TOKEN, when set: serve requires it
// when it listens beyond loopback, or when given --control-token.
func authorize(req *http.Request) {
	if token := os.Getenv(controlTokenEnv); token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
}
