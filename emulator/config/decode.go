package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DecodeStrict fills out, a pointer to a struct (or any value the walk below knows), from a
// parsed YAML node, refusing anything the struct does not declare.
//
// Keys are the fields' yaml tags (yaml:"name", yaml:"-", yaml:",inline"). A string field tagged
// enum:"a,b,c" accepts only those values. Fields the node leaves out keep the value they had, and
// each value the walk creates (a list item, a map value, a pointer target) gets SetDefaults first
// when it is a Defaulter. A type implementing yaml.Unmarshaler decodes itself; when it returns an
// *Error, the position and path are filled in. Anchors, aliases and merge keys (<<) work as in
// YAML; null leaves a field as it was, except that it empties a string or a pointer. Keys that
// start with "x-" are ignored, as in Compose files, so that a file has a place to keep anchors.
//
// Every problem is an *Error naming file, line, column and path: unknown keys (with the key
// that was probably meant), duplicate keys, values of the wrong type or outside the allowed
// values. They are returned together, in file order, joined with errors.Join.
func DecodeStrict(file string, node *yaml.Node, out any) error {
	v := reflect.ValueOf(out)
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("decode config: need a non-nil pointer, got %T", out)
	}
	var ps problems
	NewDecoder(file, node, ps.add).Decode(node, "", out)
	return ps.report(file)
}

// countNodes counts the nodes written in the file, not following aliases, up to limit.
func countNodes(n *yaml.Node, limit int) int {
	if n == nil {
		return 0
	}
	count := 1
	for _, c := range n.Content {
		if count >= limit {
			break
		}
		count += countNodes(c, limit-count)
	}
	return count
}

type position struct{ line, col int }

// A Decoder walks the YAML of one document strictly, and is used by one goroutine. Parse and
// DecodeStrict fill whole structs with it; the scenario loader walks its own schema by hand with
// Pairs and UnknownKey and hands the regular parts to Decode, so that every problem in either
// kind of file is found and worded the same way.
type Decoder struct {
	file string
	// add takes each problem found; found counts them.
	add   func(*Error)
	found int
	// pos holds where each decoded path is written, so later semantic checks can point there.
	pos map[string]position
	// bad holds paths already reported, so a semantic check does not report them a second time
	// ("unknown key tokn, did you mean token" and then "token is missing").
	bad map[string]bool
	// budget bounds the values decoded, because aliases let a small file expand exponentially.
	// It grows with the file so that a large file that shares a list through an alias still fits.
	budget    int
	exhausted bool
	// active holds the anchors being expanded; meeting one again is a cycle.
	active map[*yaml.Node]bool
	// rootType, at rootPath, and keyHomes answer "where does this key belong" for an unknown key
	// of the value Decode is filling.
	rootType reflect.Type
	rootPath string
	keyHomes map[string][]string
	structs  map[reflect.Type]*structInfo
}

// NewDecoder starts a walk of file, whose root node (nil for a small fragment) sizes the budget
// of values that aliases may expand to. add takes each problem found.
func NewDecoder(file string, root *yaml.Node, add func(*Error)) *Decoder {
	return &Decoder{
		file:    file,
		add:     add,
		pos:     map[string]position{},
		bad:     map[string]bool{},
		budget:  min(10000+100*countNodes(root, 1<<20), 10_000_000),
		active:  map[*yaml.Node]bool{},
		structs: map[reflect.Type]*structInfo{},
	}
}

// Decode fills out, a non-nil pointer, from n as DecodeStrict does, naming the values it reports
// on below path. It reports whether it found no problem.
func (d *Decoder) Decode(n *yaml.Node, path string, out any) bool {
	v := reflect.ValueOf(out).Elem()
	d.rootType, d.rootPath, d.keyHomes = v.Type(), path, nil
	before := d.found
	d.decode(n, v, path, nil)
	return d.found == before && !d.exhausted
}

// Fail records a problem at node n (or at no position when n is nil).
func (d *Decoder) Fail(n *yaml.Node, path, msg, fix string) {
	e := &Error{File: d.file, Path: path, Msg: msg, Fix: fix}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	d.record(e)
}

func (d *Decoder) record(e *Error) {
	d.found++
	d.add(e)
}

// problems keeps what a Decoder finds, up to a bound: past it no one reads on, and a hostile file
// (aliases multiplying one bad value) must not fill memory.
type problems struct {
	list    []*Error
	dropped int
}

func (p *problems) add(e *Error) {
	if len(p.list) >= 10*maxErrors {
		p.dropped++
		return
	}
	p.list = append(p.list, e)
}

func (p *problems) report(file string) error { return Report(file, p.list, p.dropped, maxErrors) }

// addValidation adds semantic problems, placing each at the value its path names or, when the
// file does not write that value, at the nearest enclosing one.
func (d *Decoder) addValidation(errs []*Error) {
	for _, e := range errs {
		if d.reported(e.Path) {
			continue
		}
		e.File = d.file
		for p := e.Path; ; p = parentPath(p) {
			if at, ok := d.pos[p]; ok {
				e.Line, e.Column = at.line, at.col
				break
			}
			if p == "" {
				break
			}
		}
		d.record(e)
	}
}

// lineOf gives the line the value at path, or the nearest enclosing value, is written on.
func (d *Decoder) lineOf(path string) int {
	for p := path; ; p = parentPath(p) {
		if at, ok := d.pos[p]; ok {
			return at.line
		}
		if p == "" {
			return 0
		}
	}
}

func (d *Decoder) reported(path string) bool {
	for p := path; ; p = parentPath(p) {
		if d.bad[p] {
			return true
		}
		if p == "" {
			return false
		}
	}
}

// parentPath strips the last ".key" or "[i]" from a path.
func parentPath(p string) string {
	if i := strings.LastIndexAny(p, ".["); i >= 0 {
		return p[:i]
	}
	return ""
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func lastKey(path string) string {
	return path[strings.LastIndexAny(path, ".[")+1:]
}

var (
	nodeType        = reflect.TypeFor[yaml.Node]()
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
)

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// decode fills v from n. enum, when not nil, lists the values a string may take.
func (d *Decoder) decode(n *yaml.Node, v reflect.Value, path string, enum []string) {
	if n == nil || n.Kind == 0 {
		return
	}
	if !d.spend(n, path) {
		return
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) > 0 {
			d.decode(n.Content[0], v, path, enum)
		}
		return
	case yaml.AliasNode:
		target := n.Alias
		if target == nil {
			return
		}
		if d.active[target] {
			d.Fail(n, path, fmt.Sprintf("alias *%s is used inside its own anchor", n.Value), "an anchored value cannot contain itself")
			d.bad[path] = true
			return
		}
		d.active[target] = true
		d.decode(target, v, path, enum)
		delete(d.active, target)
		return
	}
	if _, ok := d.pos[path]; !ok {
		d.pos[path] = position{n.Line, n.Column}
	}

	if v.Type() == nodeType {
		v.Set(reflect.ValueOf(*n))
		return
	}
	if v.CanAddr() && v.Kind() != reflect.Pointer {
		if u, ok := v.Addr().Interface().(yaml.Unmarshaler); ok {
			d.unmarshaler(u, n, path)
			return
		}
	}

	switch v.Kind() {
	case reflect.Pointer:
		if isNull(n) {
			v.Set(reflect.Zero(v.Type()))
			return
		}
		nv := reflect.New(v.Type().Elem())
		setDefaults(nv)
		d.decode(n, nv.Elem(), path, enum)
		v.Set(nv)
	case reflect.Struct:
		d.decodeStruct(n, v, path)
	case reflect.Slice:
		d.decodeSlice(n, v, path, enum)
	case reflect.Map:
		d.decodeMap(n, v, path, enum)
	case reflect.String:
		d.decodeString(n, v, path, enum)
	case reflect.Bool:
		d.decodeBool(n, v, path)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		d.decodeInt(n, v, path)
	case reflect.Float32, reflect.Float64:
		d.decodeFloat(n, v, path)
	case reflect.Interface:
		if v.NumMethod() != 0 {
			d.Fail(n, path, fmt.Sprintf("a %s cannot be read from a file", v.Type()), "")
			return
		}
		var x any
		if err := n.Decode(&x); err != nil {
			d.Fail(n, path, "unreadable value: "+strings.TrimPrefix(err.Error(), "yaml: "), "")
			d.bad[path] = true
			return
		}
		if x == nil {
			v.Set(reflect.Zero(v.Type()))
		} else {
			v.Set(reflect.ValueOf(x))
		}
	default:
		d.Fail(n, path, fmt.Sprintf("a %s cannot be read from a file", v.Type()), "")
	}
}

// spend takes one step of the budget and says whether there was one; the first refusal is
// reported.
func (d *Decoder) spend(n *yaml.Node, path string) bool {
	if d.budget--; d.budget >= 0 {
		return true
	}
	if !d.exhausted {
		d.exhausted = true
		d.Fail(n, path, "the file expands to too many values", "use fewer aliases (*name)")
	}
	return false
}

func setDefaults(p reflect.Value) {
	if dft, ok := p.Interface().(Defaulter); ok {
		dft.SetDefaults()
	}
}

// TypeError reports a value that is not the kind wanted ("a mapping", "text").
func (d *Decoder) TypeError(n *yaml.Node, path, want, fix string) {
	d.Fail(n, path, fmt.Sprintf("expected %s, got %s", want, describe(n)), fix)
	d.bad[path] = true
}

func (d *Decoder) unmarshaler(u yaml.Unmarshaler, n *yaml.Node, path string) {
	err := u.UnmarshalYAML(n)
	if err == nil {
		return
	}
	d.bad[path] = true
	var list []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		list = j.Unwrap()
	} else {
		list = []error{err}
	}
	for _, err := range list {
		var e *Error
		if !errors.As(err, &e) {
			d.Fail(n, path, strings.TrimPrefix(err.Error(), "yaml: "), "")
			continue
		}
		c := *e
		if c.File == "" {
			c.File = d.file
		}
		if c.Line == 0 {
			c.Line, c.Column = n.Line, n.Column
		}
		if c.Path == "" {
			c.Path = path
		}
		d.record(&c)
	}
}

// Pair is one entry of a mapping: the key, the node that writes it (an alias resolved) and the
// value.
type Pair struct {
	Key     string
	KeyNode *yaml.Node
	Value   *yaml.Node
}

// Pairs lists the entries of mapping n: its own keys in order, then keys merged in with << that it
// does not set itself. Duplicate and non-text keys are reported and left out, as are merges that
// are not mappings or that contain themselves.
func (d *Decoder) Pairs(n *yaml.Node, path string) []Pair {
	var own, merged []Pair
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		for k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			merged = append(merged, d.mergeSources(val, val, path)...)
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.Fail(k, path, "a key must be a plain word, got "+describe(k), "write key: value")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.Fail(k, path, fmt.Sprintf("duplicate key %q", k.Value), fmt.Sprintf("it is already set at line %d; keep one", first.Line))
			continue
		}
		seen[k.Value] = k
		own = append(own, Pair{k.Value, k, val})
	}
	for _, p := range merged {
		if _, ok := seen[p.Key]; !ok {
			seen[p.Key] = p.KeyNode
			own = append(own, p)
		}
	}
	return own
}

// mergeSources reads the value of a << key: a mapping, an alias of one, or a list of those, the
// earlier ones winning as YAML specifies. at is where n is written: the alias, when n is what it
// names.
func (d *Decoder) mergeSources(n, at *yaml.Node, path string) []Pair {
	if !d.spend(n, path) {
		return nil
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil || d.active[n.Alias] {
			d.Fail(n, path, "merge of an anchor inside itself", "an anchored value cannot contain itself")
			return nil
		}
		d.active[n.Alias] = true
		defer delete(d.active, n.Alias)
		return d.mergeSources(n.Alias, n, path)
	case yaml.MappingNode:
		return d.Pairs(n, path)
	case yaml.SequenceNode:
		var out []Pair
		seen := map[string]bool{}
		for _, item := range n.Content {
			if item.Kind == yaml.SequenceNode {
				d.Fail(item, path, "<< takes mappings, got a list inside the list", "write <<: [*a, *b]")
				continue
			}
			for _, p := range d.mergeSources(item, item, path) {
				if !seen[p.Key] {
					seen[p.Key] = true
					out = append(out, p)
				}
			}
		}
		return out
	}
	d.Fail(at, path, "<< takes a mapping or a list of mappings, got "+describe(n), "write <<: *anchor")
	return nil
}

type fieldInfo struct {
	name  string
	index []int
	enum  []string
}

type structInfo struct {
	byName map[string]*fieldInfo
	names  []string // in declaration order
}

func (d *Decoder) structOf(t reflect.Type) *structInfo {
	if s, ok := d.structs[t]; ok {
		return s
	}
	s := &structInfo{byName: map[string]*fieldInfo{}}
	d.structs[t] = s
	collectFields(t, nil, s)
	return s
}

func collectFields(t reflect.Type, prefix []int, s *structInfo) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		index := append(append([]int(nil), prefix...), i)
		if slices.Contains(strings.Split(opts, ","), "inline") && f.Type.Kind() == reflect.Struct {
			collectFields(f.Type, index, s)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fi := &fieldInfo{name: name, index: index}
		if e := f.Tag.Get("enum"); e != "" {
			fi.enum = strings.Split(e, ",")
		}
		if _, dup := s.byName[name]; !dup {
			s.names = append(s.names, name)
		}
		s.byName[name] = fi
	}
}

func (d *Decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string) {
	if isNull(n) {
		return
	}
	info := d.structOf(v.Type())
	if n.Kind != yaml.MappingNode {
		d.TypeError(n, path, "a mapping", "write it as key: value lines; its keys are "+strings.Join(info.names, ", "))
		return
	}
	pairs := d.Pairs(n, path)
	present := make(map[string]bool, len(pairs))
	for _, p := range pairs {
		present[p.Key] = true
	}
	for _, p := range pairs {
		f, ok := info.byName[p.Key]
		if !ok && strings.HasPrefix(p.Key, "x-") {
			continue
		}
		if !ok {
			d.unknownKey(p.KeyNode, path, info.names, present)
			continue
		}
		d.decode(p.Value, v.FieldByIndex(f.index), joinPath(path, f.name), f.enum)
	}
}

// UnknownKey reports the key k, which is not among allowed, with the allowed key it probably
// meant, or else the keys allowed.
func (d *Decoder) UnknownKey(k *yaml.Node, path string, allowed []string) {
	d.unknownKey(k, path, allowed, nil)
}

// unknownKey is UnknownKey for a key of a struct, present holding the keys of the same mapping
// (nil for a mapping walked by hand). A key that belongs elsewhere in the value Decode fills is
// pointed there; when the key it probably meant is absent, that key's own checks ("required")
// are silenced.
func (d *Decoder) unknownKey(k *yaml.Node, path string, allowed []string, present map[string]bool) {
	msg := fmt.Sprintf("unknown key %q", k.Value)
	if s, ok := suggest(k.Value, allowed); ok {
		d.Fail(k, path, msg, fmt.Sprintf("did you mean %q?", s))
		if !present[s] {
			d.bad[joinPath(path, s)] = true
		}
		return
	}
	if name, homes := d.homeOf(k.Value); present != nil && len(homes) > 0 {
		here := path
		if here == "" {
			here = "the top level"
		}
		d.Fail(k, path, msg, fmt.Sprintf("%q is a key of %s, not of %s: move it there", name, strings.Join(homes, " or "), here))
		return
	}
	d.Fail(k, path, msg, "allowed keys here: "+strings.Join(allowed, ", "))
}

// homeOf finds where else in the configuration a key (or its other spelling) belongs, as
// templates like "push" or "apps[N]".
func (d *Decoder) homeOf(key string) (string, []string) {
	if d.keyHomes == nil {
		d.keyHomes = map[string][]string{}
		if d.rootType != nil {
			d.indexKeys(d.rootType, d.rootPath, map[reflect.Type]bool{})
		}
	}
	if homes, ok := d.keyHomes[key]; ok {
		return key, homes
	}
	want := normalize(key)
	names := make([]string, 0, len(d.keyHomes))
	for name := range d.keyHomes {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if normalize(name) == want {
			return name, d.keyHomes[name]
		}
	}
	return "", nil
}

func (d *Decoder) indexKeys(t reflect.Type, at string, visiting map[reflect.Type]bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice:
		d.indexKeys(t.Elem(), at+"[N]", visiting)
		return
	case reflect.Map:
		d.indexKeys(t.Elem(), joinPath(at, "NAME"), visiting)
		return
	case reflect.Struct:
	default:
		return
	}
	if t == nodeType || visiting[t] || reflect.PointerTo(t).Implements(unmarshalerType) {
		return
	}
	visiting[t] = true
	defer delete(visiting, t)
	info := d.structOf(t)
	for _, name := range info.names {
		home := at
		if home == "" {
			home = "the top level"
		}
		if !slices.Contains(d.keyHomes[name], home) {
			d.keyHomes[name] = append(d.keyHomes[name], home)
		}
		f := info.byName[name]
		d.indexKeys(t.FieldByIndex(f.index).Type, joinPath(at, name), visiting)
	}
}

func (d *Decoder) decodeSlice(n *yaml.Node, v reflect.Value, path string, enum []string) {
	if isNull(n) {
		return
	}
	if n.Kind != yaml.SequenceNode {
		d.TypeError(n, path, "a list", `write one item per line, each starting with "- "`)
		return
	}
	out := reflect.MakeSlice(v.Type(), 0, min(len(n.Content), 1024))
	for i, item := range n.Content {
		ev := reflect.New(v.Type().Elem())
		setDefaults(ev)
		d.decode(item, ev.Elem(), fmt.Sprintf("%s[%d]", path, i), enum)
		out = reflect.Append(out, ev.Elem())
		if d.exhausted {
			break
		}
	}
	v.Set(out)
}

func (d *Decoder) decodeMap(n *yaml.Node, v reflect.Value, path string, enum []string) {
	if isNull(n) {
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		d.Fail(n, path, fmt.Sprintf("a %s cannot be read from a file", v.Type()), "")
		return
	}
	if n.Kind != yaml.MappingNode {
		d.TypeError(n, path, "a mapping", "write it as name: value lines")
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	for _, p := range d.Pairs(n, path) {
		ev := reflect.New(v.Type().Elem())
		setDefaults(ev)
		d.decode(p.Value, ev.Elem(), joinPath(path, p.Key), enum)
		v.SetMapIndex(reflect.ValueOf(p.Key).Convert(v.Type().Key()), ev.Elem())
		if d.exhausted {
			return
		}
	}
}

func (d *Decoder) decodeString(n *yaml.Node, v reflect.Value, path string, enum []string) {
	if n.Kind != yaml.ScalarNode {
		want := "text"
		if enum != nil {
			want = "one of " + strings.Join(enum, ", ")
		}
		d.TypeError(n, path, want, "")
		return
	}
	// Any scalar is text: "token: 12345" or "rules: 2023-06-12" mean the characters written,
	// whatever YAML would resolve them to.
	s := n.Value
	if isNull(n) {
		s = ""
	}
	if enum != nil && !slices.Contains(enum, s) {
		msg := fmt.Sprintf("unknown value %q", s)
		if isNull(n) {
			msg = "missing value"
		}
		fix := "allowed values: " + strings.Join(enum, ", ")
		if g, ok := suggest(s, enum); ok && s != "" {
			fix = fmt.Sprintf("did you mean %q? %s", g, fix)
		}
		d.Fail(n, path, msg, fix)
		d.bad[path] = true
		return
	}
	v.SetString(s)
}

func (d *Decoder) decodeBool(n *yaml.Node, v reflect.Value, path string) {
	var b bool
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
		fix := "write true or false"
		switch strings.ToLower(n.Value) {
		case "yes", "no", "on", "off", "y", "n":
			fix += "; yes, no, on and off are text in YAML 1.2"
		}
		d.TypeError(n, path, "true or false", fix)
		return
	}
	v.SetBool(b)
}

func (d *Decoder) decodeInt(n *yaml.Node, v reflect.Value, path string) {
	example := "e.g. " + lastKey(path) + ": "
	if v.CanInt() && v.Int() != 0 {
		example += strconv.FormatInt(v.Int(), 10)
	} else if v.CanUint() && v.Uint() != 0 {
		example += strconv.FormatUint(v.Uint(), 10)
	} else {
		example += "1"
	}
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" {
		d.TypeError(n, path, "a whole number", "write a whole number, "+example)
		return
	}
	if v.CanInt() {
		var i int64
		if n.Decode(&i) != nil || v.OverflowInt(i) {
			d.Fail(n, path, fmt.Sprintf("number %s is out of range", n.Value), "write a smaller number, "+example)
			d.bad[path] = true
			return
		}
		v.SetInt(i)
		return
	}
	var u uint64
	if n.Decode(&u) != nil || v.OverflowUint(u) {
		d.Fail(n, path, fmt.Sprintf("number %s is out of range", n.Value), "write a number from 0 up, "+example)
		d.bad[path] = true
		return
	}
	v.SetUint(u)
}

func (d *Decoder) decodeFloat(n *yaml.Node, v reflect.Value, path string) {
	var f float64
	t := n.ShortTag()
	if n.Kind != yaml.ScalarNode || (t != "!!float" && t != "!!int") || n.Decode(&f) != nil {
		d.TypeError(n, path, "a number", "write a number such as 1.5")
		return
	}
	v.SetFloat(f)
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML reads one YAML document. A syntax error becomes an *Error with a hint, and a second
// document is refused because the decoder would silently ignore it.
func parseYAML(file string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return &root, nil
		}
		return nil, syntaxError(file, data, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(file, data, err)
	default:
		return nil, errors.Join(&Error{File: file, Line: extra.Line, Column: extra.Column, Msg: "a second YAML document starts here",
			Fix: "a configuration is one document: merge the two and remove the --- line, or split them into two files"})
	}
	return &root, nil
}

func syntaxError(file string, data []byte, err error) error {
	return errors.Join(YAMLSyntaxError(file, data, err, `users: [{name: alice, nickname: "Alice: the tester"}]`))
}

// YAMLSyntaxError turns a YAML parser error into a problem with a line and a hint; example is a
// correctly quoted flow mapping of the caller's own format, for the hint. The scenario loader
// shares it.
func YAMLSyntaxError(file string, data []byte, err error, example string) *Error {
	e := &Error{File: file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = m[2]
		// The parser's own errors carry the 0-based line of the construct they were reading
		// (go.yaml.in/yaml/v3 adds 1 for scanner errors only): the { or [ that is not closed.
		if strings.HasPrefix(e.Msg, "did not find expected") {
			e.Line++
		}
	}
	e.Msg = "YAML syntax: " + e.Msg
	lines := bytes.Split(data, []byte("\n"))
	switch {
	case e.Line > 0 && e.Line <= len(lines) && bytes.Contains(lines[e.Line-1], []byte("\t")) ||
		e.Line == 0 && bytes.Contains(data, []byte("\t")) && strings.Contains(e.Msg, "cannot start any token"):
		e.Fix = "indent with spaces; YAML does not allow tabs"
	case strings.Contains(e.Msg, "mapping values are not allowed"):
		e.Fix = `quote a value that contains ": ", or check the indentation`
	case strings.Contains(e.Msg, "did not find expected ',' or '}'"), strings.Contains(e.Msg, "did not find expected ',' or ']'"):
		e.Fix = "quote a text that holds ? : , # { } [ ] inside {…} or […], e.g. " + example
	case strings.Contains(e.Msg, "did not find expected key"), strings.Contains(e.Msg, "could not find expected ':'"):
		e.Fix = "check the indentation of this line and the lines above; every key needs a colon"
	default:
		e.Fix = "check the indentation and the quoting near this line"
	}
	return e
}
