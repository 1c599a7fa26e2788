package load

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/wxemu/wxemu/emulator/config"
	"github.com/wxemu/wxemu/emulator/scenario"
	"github.com/wxemu/wxemu/emulator/wire"
)

// Item is one kind of message of a mix, with its weight.
type Item struct {
	Name    string       // as written in the mix: text, image, click, subscribe …
	Weight  int          // parts of the whole
	Message wire.Message // what a user sends: the type's demo values, and the text for text
}

// Mix is what the users send, in proportion: each push is one of its items, chosen so that
// every sum-of-weights pushes hold each item exactly weight times, spread out.
type Mix []Item

// DefaultMix is the mix of a run that names none.
const DefaultMix = "text=100"

// ParseMix reads a mix such as "text=70,click=20,image=10" for an app of kind: message types
// (text, image, voice, video, shortvideo, location, link, miniprogrampage) and events by name,
// in any case (click is CLICK, user_enter_tempsession is Mini Programs' entry). A text carries
// text. Every mistake is named with where it is and what would be right.
func ParseMix(spec string, kind wire.Kind, text string) (Mix, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, errors.New("the mix is empty: write NAME=WEIGHT,…, e.g. text=70,click=20,image=10")
	}
	names, byName := mixNames(kind)
	var mix Mix
	seen := map[string]int{}
	for i, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		where := fmt.Sprintf("item %d", i+1)
		if part == "" {
			return nil, fmt.Errorf("%s is empty: write NAME=WEIGHT between the commas, e.g. text=70,click=30", where)
		}
		name, w, ok := strings.Cut(part, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, fmt.Errorf("%s %q has no weight: write %s=WEIGHT, e.g. %s=10", where, part, name, name)
		}
		weight, err := strconv.Atoi(strings.TrimSpace(w))
		if err != nil || weight <= 0 {
			return nil, fmt.Errorf("%s %q: the weight %q is not a whole number above 0 (weights are parts of the whole, e.g. text=70,click=30)", where, part, w)
		}
		m, ok := byName[strings.ToLower(name)]
		if !ok {
			if other, elsewhere := otherKind(name, kind); elsewhere {
				return nil, fmt.Errorf("%s %q: %s is not pushed to %s, only to %s; the messages of %s are %s", where, part, other, kindName(kind), kindName(otherKindOf(kind)), kindName(kind), strings.Join(names, ", "))
			}
			msg := fmt.Sprintf("%s %q: unknown message %q", where, part, name)
			if s, ok := config.Suggest(name, names); ok {
				msg += fmt.Sprintf(" (did you mean %s?)", s)
			}
			return nil, fmt.Errorf("%s; the messages of %s are %s", msg, kindName(kind), strings.Join(names, ", "))
		}
		key := m.MsgType + "/" + m.Event
		if j, dup := seen[key]; dup {
			return nil, fmt.Errorf("%s %q: %s is in the mix already (item %d); give each message once", where, part, name, j)
		}
		seen[key] = i + 1
		if m.MsgType == "text" {
			m.Content = text
		}
		if err := m.Check(kind); err != nil {
			return nil, fmt.Errorf("%s %q: %w", where, part, err)
		}
		mix = append(mix, Item{Name: name, Weight: weight, Message: m})
	}
	return mix, nil
}

// mixNames lists the messages a user of an app of kind can send, by the names a mix takes.
func mixNames(kind wire.Kind) ([]string, map[string]wire.Message) {
	var names []string
	by := map[string]wire.Message{}
	for _, t := range wire.InboundTypes() {
		if !t.Receives(kind) || strings.HasPrefix(t.Event, "kf_") {
			// kf_* events are WeChat's own, never a user's.
			continue
		}
		name := t.MsgType
		if t.Event != "" {
			name = strings.ToLower(t.Event)
		}
		if _, dup := by[name]; dup {
			continue
		}
		names = append(names, name)
		by[name] = wire.Demo(t.MsgType, t.Event)
	}
	return names, by
}

func otherKindOf(k wire.Kind) wire.Kind {
	if k == wire.MP {
		return wire.OA
	}
	return wire.MP
}

// otherKind reports whether name is a message of the other kind of app.
func otherKind(name string, kind wire.Kind) (string, bool) {
	_, by := mixNames(otherKindOf(kind))
	_, ok := by[strings.ToLower(name)]
	return name, ok
}

func kindName(k wire.Kind) string {
	if k == wire.MP {
		return "a Mini Program"
	}
	return "an Official Account"
}

// String writes the mix back as it is parsed.
func (m Mix) String() string {
	var parts []string
	for _, it := range m {
		parts = append(parts, it.Name+"="+strconv.Itoa(it.Weight))
	}
	return strings.Join(parts, ",")
}

// order spreads the items over one cycle of sum-of-weights pushes: each item weight times, the
// cycle walked with a stride prime to its length so that the kinds interleave.
func (m Mix) order() []int {
	total := 0
	for _, it := range m {
		total += it.Weight
	}
	slots := make([]int, 0, total)
	for i, it := range m {
		for j := 0; j < it.Weight; j++ {
			slots = append(slots, i)
		}
	}
	stride := 1
	for _, p := range []int{7919, 104729, 1299709} {
		if total%p != 0 {
			stride = p
			break
		}
	}
	out := make([]int, total)
	for k := range out {
		out[k] = slots[(k*stride)%total]
	}
	return out
}

// Script is a scenario's steps that send, in order: what each user of a run sends, again and
// again. Its other steps (an agent's, the clock's, the tokens') are not run under load.
type Script struct {
	App      string // the scenario's app, alias or appid
	Name     string
	Messages []wire.Message
	Skipped  int // steps that do not send
	// Faults counts the scenario's fault rules (faults:, and its faults steps'): none is
	// applied under load, and the caller says so.
	Faults int
}

// LoadScript reads the scenario file path (one scenario) as a script.
func LoadScript(cfg *config.Config, path string) (*Script, error) {
	scs, err := scenario.Load(cfg, path)
	if err != nil {
		return nil, err
	}
	if len(scs) != 1 {
		return nil, fmt.Errorf("%s holds %d scenarios; --scenario takes a file with one, whose steps each user runs", path, len(scs))
	}
	s := scs[0]
	sc := &Script{App: s.App, Name: s.Name, Faults: len(s.Faults)}
	for _, st := range s.Steps {
		if st.Faults != nil {
			sc.Faults += len(st.Faults.Add)
		}
		if st.Message == nil {
			sc.Skipped++
			continue
		}
		m, err := st.Message.Build(func(v string) (string, error) {
			if strings.Contains(v, "${") {
				return "", fmt.Errorf("%q refers to an earlier step or a variable; a script under load sends fixed messages", v)
			}
			return v, nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, st.Line, err)
		}
		sc.Messages = append(sc.Messages, m)
	}
	if len(sc.Messages) == 0 {
		return nil, fmt.Errorf("%s: the scenario %q has no step that sends a message; a script needs at least one (alice: hi)", path, s.Name)
	}
	return sc, nil
}
