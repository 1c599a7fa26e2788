package main

import (
	"flag"
	"fmt"
	"sort"
	"strings"

	"github.com/wxemu/wxemu/emulator/config"
)

// targets are the bots' callback URLs given on the command line of serve and run:
//
//	--target URL        the Official Accounts of the config that have no url:
//	--target-mp URL     the Mini Programs of the config that have no url:
//	--target ALIAS=URL  one app, by alias or appid, whatever its config says
//
// --target URL points only the Official Accounts at the bot: a Mini Program bot is another
// program, with other credentials, and pushing a Mini Program's users to an Official Account's
// bot only produces signature failures.
type targets struct {
	oa, mp string
	apps   map[string]string // by alias or appid, in the order given
	keys   []string
}

func (t *targets) register(fs *flag.FlagSet) {
	fs.Var(targetFlag{t}, "target", "the Official Account's bot: its callback `URL`, for every Official Account without a url in\nthe config; or ALIAS=URL for one app (repeatable)")
	fs.Func("target-mp", "the Mini Program's bot: its callback `URL`, for every Mini Program without a url in the\nconfig", func(v string) error {
		if err := checkURL(v); err != nil {
			return err
		}
		t.mp = v
		return nil
	})
}

// targetFlag is the flag.Value of --target.
type targetFlag struct{ t *targets }

func (f targetFlag) String() string {
	if f.t == nil {
		return ""
	}
	return f.t.oa
}

func (f targetFlag) Set(v string) error {
	if key, url, ok := strings.Cut(v, "="); ok && key != "" && !strings.ContainsAny(key, "/:") {
		if err := checkURL(url); err != nil {
			return fmt.Errorf("%s=URL: %w", key, err)
		}
		if f.t.apps == nil {
			f.t.apps = map[string]string{}
		}
		if _, dup := f.t.apps[key]; !dup {
			f.t.keys = append(f.t.keys, key)
		}
		f.t.apps[key] = url
		return nil
	}
	if err := checkURL(v); err != nil {
		return err
	}
	f.t.oa = v
	return nil
}

func checkURL(v string) error {
	if !strings.HasPrefix(v, "http://") && !strings.HasPrefix(v, "https://") {
		return fmt.Errorf("%q is not a callback URL: write it whole, e.g. http://127.0.0.1:8080/wx", v)
	}
	return nil
}

// given reports whether any target was given.
func (t *targets) given() bool { return t.oa != "" || t.mp != "" || len(t.apps) > 0 }

// resolve turns the targets into the callback URL of each app they set, by alias, for the
// emulator. fallback, when not empty, is the URL of every app left without one (the bot
// `wxemu run --exec` starts). It refuses an alias the config does not have, and a bare URL for
// a kind of app the config has none of.
func (t *targets) resolve(cfg *config.Config, fallback string) (map[string]string, error) {
	out := map[string]string{}
	hasKind := map[string]bool{}
	for _, a := range cfg.Apps {
		hasKind[a.Kind] = true
	}
	if t.oa != "" && !hasKind["oa"] {
		return nil, fmt.Errorf("--target URL points the Official Accounts at a bot, and the config has none: give --target-mp URL for a Mini Program, or --target ALIAS=URL")
	}
	if t.mp != "" && !hasKind["mp"] {
		return nil, fmt.Errorf("--target-mp URL points the Mini Programs at a bot, and the config has none: give --target URL for an Official Account, or --target ALIAS=URL")
	}
	for _, key := range t.keys {
		a, ok := cfg.App(key)
		if !ok {
			return nil, fmt.Errorf("--target %s=URL: no app %q%s; the apps are %s", key, key, didYouMean(key, appKeys(cfg)), strings.Join(aliases(cfg), ", "))
		}
		out[a.Alias] = t.apps[key]
	}
	for _, a := range cfg.Apps {
		// An app whose messages go to its cloud-hosting container has no callback URL to give.
		if _, set := out[a.Alias]; set || a.URL != "" || a.Container != nil {
			continue
		}
		switch {
		case a.Kind == "oa" && t.oa != "":
			out[a.Alias] = t.oa
		case a.Kind == "mp" && t.mp != "":
			out[a.Alias] = t.mp
		case fallback != "":
			out[a.Alias] = fallback
		}
	}
	return out, nil
}

// missing says how to give app a bot, for an app that has none.
func missingBot(a *config.App, exec bool) string {
	flag := "--target URL"
	if a.Kind == "mp" {
		flag = "--target-mp URL"
	}
	s := fmt.Sprintf("app %s has no bot to push to: give %s, --target %s=URL", a.Alias, flag, a.Alias)
	if exec {
		s += " or --exec CMD"
	}
	return s
}

func aliases(cfg *config.Config) []string {
	var out []string
	for _, a := range cfg.Apps {
		out = append(out, a.Alias)
	}
	sort.Strings(out)
	return out
}
