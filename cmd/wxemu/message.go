package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/wxemu/wxemu/emulator/wire"
)

// fieldFlag maps a friendly flag of `wxemu send` to the wire field(s) it sets. Where one flag
// means different fields in different types (--lat is Location_X in a location message and
// Latitude in a LOCATION event), the first field the message's type has is used.
type fieldFlag struct {
	flag   string
	fields []string
	usage  string
}

var fieldFlags = []fieldFlag{
	{"key", []string{"EventKey"}, "EventKey of an event (menu key, QR scene, URL or page path)"},
	{"ticket", []string{"Ticket"}, "Ticket of a QR-code subscribe or SCAN event"},
	{"media-id", []string{"MediaId"}, "MediaId of an image, voice, video or shortvideo message"},
	{"thumb-media-id", []string{"ThumbMediaId"}, "ThumbMediaId of a video, shortvideo or miniprogrampage message"},
	{"pic-url", []string{"PicUrl"}, "PicUrl of an image message"},
	{"voice-format", []string{"Format"}, "Format of a voice message (amr, speex)"},
	{"recognition", []string{"Recognition"}, "speech recognition result of a voice message"},
	{"lat", []string{"Location_X", "Latitude", "SendLocationInfo.Location_X"}, "latitude (location, LOCATION, location_select)"},
	{"lng", []string{"Location_Y", "Longitude", "SendLocationInfo.Location_Y"}, "longitude (location, LOCATION, location_select)"},
	{"scale", []string{"Scale", "SendLocationInfo.Scale"}, "map scale of a location"},
	{"label", []string{"Label", "SendLocationInfo.Label"}, "label of a location"},
	{"poiname", []string{"SendLocationInfo.Poiname"}, "POI name of a location_select event"},
	{"precision", []string{"Precision"}, "precision of a LOCATION event"},
	{"title", []string{"Title"}, "Title of a link or miniprogrampage message"},
	{"description", []string{"Description"}, "Description of a link message"},
	{"link-url", []string{"Url"}, "Url of a link message"},
	{"mp-appid", []string{"AppId"}, "AppId of a miniprogrampage message"},
	{"pagepath", []string{"PagePath"}, "PagePath of a miniprogrampage message"},
	{"thumb-url", []string{"ThumbUrl"}, "ThumbUrl of a miniprogrampage message"},
	{"session-from", []string{"SessionFrom"}, "SessionFrom of user_enter_tempsession"},
	{"menu-id", []string{"MenuId"}, "MenuId of a VIEW or view_miniprogram event"},
	{"msgmenu-id", []string{"bizmsgmenuid"}, "bizmsgmenuid: the text message is a tap on a msgmenu item"},
	{"scan-type", []string{"ScanCodeInfo.ScanType"}, "ScanType of a scancode event"},
	{"scan-result", []string{"ScanCodeInfo.ScanResult"}, "ScanResult of a scancode event"},
	{"pics", []string{"SendPicsInfo.PicList"}, "comma-separated PicMd5Sum list of a pic_* event"},
	{"kf", []string{"KfAccount"}, "KfAccount of kf_create_session / kf_close_session"},
	{"from-kf", []string{"FromKfAccount"}, "FromKfAccount of kf_switch_session"},
	{"to-kf", []string{"ToKfAccount"}, "ToKfAccount of kf_switch_session"},
	{"msg-id", []string{"MsgId"}, "MsgId of a user message (default: a fresh one)"},
}

// messageFlags holds the values of the message flags and of --set.
type messageFlags struct {
	values map[string]*string
	sets   setList
}

type setList []string

func (s *setList) String() string     { return strings.Join(*s, ",") }
func (s *setList) Set(v string) error { *s = append(*s, v); return nil }

func registerMessageFlags(fs *flag.FlagSet) *messageFlags {
	mf := &messageFlags{values: map[string]*string{}}
	for _, f := range fieldFlags {
		mf.values[f.flag] = fs.String(f.flag, "", f.usage)
	}
	fs.Var(&mf.sets, "set", "set any field by its wire name: --set Name=Value (repeatable), e.g. --set MsgDataId=123")
	return mf
}

// parseInterspersed parses flags anywhere among the positional arguments, so that
// `wxemu send text hi --url U` and `wxemu send --url U text hi` mean the same.
// It returns the positional arguments, and an exit code ≥ 0 when the command should stop.
func parseInterspersed(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) ([]string, int) {
	var pos []string
	for {
		if code := parseFlags(fs, args, stdout, stderr); code >= 0 {
			return nil, code
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, -1
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), -1
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// parseFlagsOnly parses the command line of a command that takes flags and no arguments. It
// returns an exit code ≥ 0 when the command should stop.
func parseFlagsOnly(fs *flag.FlagSet, args []string, stdout, stderr io.Writer) int {
	pos, code := parseInterspersed(fs, args, stdout, stderr)
	if code < 0 && len(pos) > 0 {
		return usageError(stderr, fs.Name(), "unexpected argument %q", pos[0])
	}
	return code
}

// buildMessage turns the positional MESSAGE words and the message flags into a Message.
func buildMessage(fs *flag.FlagSet, mf *messageFlags, pos []string, kind wire.Kind) (*wire.Message, error) {
	if len(pos) == 0 {
		return nil, fmt.Errorf("MESSAGE is missing: e.g. `text hi` or `event subscribe`")
	}
	msgType, rest := pos[0], pos[1:]
	// The type first: a misspelt type is what is wrong with `txt hi`, not its words.
	if msgType != "event" {
		if _, ok := wire.LookupInbound(msgType, ""); !ok {
			return nil, unknownType(msgType)
		}
	}
	m := &wire.Message{MsgType: msgType}
	var typ wire.InboundType
	switch msgType {
	case "text":
		if len(rest) == 0 {
			return nil, fmt.Errorf("text needs its content: `text hi`")
		}
		m.Content = strings.Join(rest, " ")
	case "event":
		if len(rest) != 1 {
			return nil, fmt.Errorf("event needs exactly one event name: `event subscribe`, `event CLICK --key V1001_TODAY_MUSIC`")
		}
		m.Event = rest[0]
	default:
		if len(rest) > 0 {
			return nil, fmt.Errorf("%s takes its fields as flags, not %q", msgType, strings.Join(rest, " "))
		}
	}
	typ, ok := wire.LookupInbound(m.MsgType, m.Event)
	if !ok {
		if m.MsgType == "event" {
			return nil, fmt.Errorf("unknown event %q%s", m.Event, didYouMean(m.Event, wire.EventNames()))
		}
		return nil, unknownType(msgType)
	}
	if !typ.Receives(kind) {
		return nil, fmt.Errorf("a %s app does not receive %s", strings.ToUpper(string(kind)), typ.Name())
	}
	// The demo values of a message type fill the fields the command line leaves out, so that
	// `wxemu send --url U image` works alone. An event's are not used: its key is what the
	// command is about, and the check below names the flag that sets it.
	if !m.IsEvent() {
		for _, f := range wire.DemoFields(m.MsgType, "") {
			if err := m.Set(f.Name, f.Value); err != nil {
				return nil, err
			}
		}
	}
	var problems []string
	fs.Visit(func(f *flag.Flag) {
		for _, ff := range fieldFlags {
			if ff.flag != f.Name {
				continue
			}
			field := ""
			for _, c := range ff.fields {
				if typ.Has(c) || (c == "MsgId" && !m.IsEvent()) {
					field = c
					break
				}
			}
			if field == "" {
				problems = append(problems, fmt.Sprintf("--%s does not apply to %s", ff.flag, typ.Name()))
				return
			}
			if err := m.Set(field, f.Value.String()); err != nil {
				problems = append(problems, fmt.Sprintf("--%s: %v", ff.flag, err))
			}
		}
	})
	for _, s := range mf.sets {
		name, value, ok := strings.Cut(s, "=")
		if !ok {
			problems = append(problems, fmt.Sprintf("--set %q: write Name=Value", s))
			continue
		}
		if err := m.Set(name, value); err != nil {
			problems = append(problems, fmt.Sprintf("--set %s: %v", name, err))
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	if err := m.Check(kind); err != nil {
		return nil, fmt.Errorf("%v%s", err, flagHint(err.Error()))
	}
	return m, nil
}

// unknownType says that MESSAGE does not start with a message type, and which were meant.
func unknownType(msgType string) error {
	hint := didYouMean(msgType, wire.MsgTypes())
	if hint == "" {
		hint = "; MESSAGE starts with one of " + strings.Join(wire.MsgTypes(), ", ")
	}
	return fmt.Errorf("unknown message type %q%s", msgType, hint)
}

// flagHint names the flag that sets a field a check found missing: the longest field name the
// message holds, so that ThumbMediaId is not read as MediaId.
func flagHint(msg string) string {
	best, flag := "", ""
	for _, ff := range fieldFlags {
		for _, f := range ff.fields {
			name := f
			if _, after, nested := strings.Cut(f, "."); nested {
				name = after
			}
			if strings.Contains(msg, name) && len(name) > len(best) {
				best, flag = name, ff.flag
			}
		}
	}
	if flag == "" {
		return ""
	}
	return fmt.Sprintf(" (set it with --%s)", flag)
}
