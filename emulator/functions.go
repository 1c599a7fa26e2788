package emulator

import (
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	"github.com/wxemu/wxemu/emulator/cloudfn"
	"github.com/wxemu/wxemu/emulator/config"
)

// FunctionSpecs are the cloud functions a configuration declares (apps[].cloud), as the function
// host runs them.
func FunctionSpecs(cfg *config.Config) []cloudfn.FunctionSpec {
	var out []cloudfn.FunctionSpec
	for _, a := range cfg.Apps {
		if a.Cloud == nil {
			continue
		}
		for _, f := range a.Cloud.Functions {
			s := cloudfn.FunctionSpec{
				App: a.AppID, Name: f.Name, Dir: f.Dir, Env: a.Cloud.Env, Timeout: time.Duration(f.Timeout),
				ToUserName: a.Cloud.ToUserName, MsgIDNumber: a.Cloud.MsgID == "number", Source: a.Cloud.Source,
			}
			for _, r := range f.Routes {
				s.Routes = append(s.Routes, cloudfn.Route{MsgType: r.MsgType, Event: r.Event})
			}
			out = append(out, s)
		}
	}
	return out
}

// ParseFunctionFlag reads `--function [APP=]DIR`: the app defaults to the first Mini Program.
func ParseFunctionFlag(cfg *config.Config, v string) (cloudfn.FunctionSpec, error) {
	app, dir := "", v
	if i := indexEq(v); i > 0 {
		app, dir = v[:i], v[i+1:]
	}
	if app == "" {
		for _, a := range cfg.Apps {
			if a.Kind == config.KindMP {
				app = a.Alias
				break
			}
		}
		if app == "" {
			return cloudfn.FunctionSpec{}, fmt.Errorf("--function %s: the configuration has no Mini Program app to route messages from; add one (kind: mp) or name it: --function APP=DIR", v)
		}
	}
	a, ok := cfg.App(app)
	if !ok {
		return cloudfn.FunctionSpec{}, fmt.Errorf("--function %s: the configuration has no app %q", v, app)
	}
	if a.Kind != config.KindMP {
		return cloudfn.FunctionSpec{}, fmt.Errorf("--function %s: app %s is an Official Account; cloud functions receive a Mini Program's messages", v, app)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return cloudfn.FunctionSpec{}, fmt.Errorf("--function %s: %w", v, err)
	}
	s := cloudfn.FunctionSpec{App: a.AppID, Dir: abs}
	if a.Cloud != nil {
		s.Env, s.ToUserName, s.MsgIDNumber, s.Source = a.Cloud.Env, a.Cloud.ToUserName, a.Cloud.MsgID == "number", a.Cloud.Source
	}
	return s, nil
}

// indexEq finds the = of APP=DIR, not one inside a path such as ./a=b (a path has a separator
// before it).
func indexEq(v string) int {
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '=':
			return i
		case '/', '\\', '.':
			return -1
		}
	}
	return -1
}

// withGateway serves the cloud functions' /admin gateway beside the API on one listener.
func withGateway(api, gateway http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/admin" {
			gateway.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, r)
	})
}
