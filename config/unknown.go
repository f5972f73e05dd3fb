package config

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// unknownKeys finds every key of data that no field of Config takes, at any depth, and
// returns one Error per key with its full path, its line and the valid key nearest to it.
// The YAML decoder alone names only the Go type ("field knwon_hosts not found in type
// config.SFTP"), which tells an operator neither where the key is nor what was meant.
func unknownKeys(data []byte, file string) Errors {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil
	}
	var errs Errors
	w := keyWalker{file: file, errs: &errs}
	w.walk(&doc, reflect.TypeFor[Config](), "")
	return errs
}

type keyWalker struct {
	file string
	errs *Errors
}

var unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()

// walk checks node against t; path is the key path of node ("" at the top).
func (w keyWalker) walk(n *yaml.Node, t reflect.Type, path string) {
	for n.Kind == yaml.DocumentNode || n.Kind == yaml.AliasNode {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) == 0 {
			return
		} else {
			n = n.Content[0]
		}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return // the type reads its own node (Duration, Size)
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind == yaml.MappingNode {
			w.walkStruct(n, t, path)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return
		}
		for i, item := range n.Content {
			w.walk(item, t.Elem(), fmt.Sprintf("%s[%d]%s", path, i, nameSuffix(item)))
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			w.walk(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value))
		}
	}
}

func (w keyWalker) walkStruct(n *yaml.Node, t reflect.Type, path string) {
	fields := yamlFields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Tag == "!!merge" {
			w.walk(v, t, path)
			continue
		}
		f, ok := fields[k.Value]
		if !ok {
			*w.errs = append(*w.errs, &Error{File: w.file, Key: join(path, k.Value), Line: k.Line,
				Msg: "unknown key" + hint(k.Value, fields)})
			continue
		}
		w.walk(v, f, join(path, k.Value))
	}
}

// yamlFields maps each YAML key of struct type t to its field's type.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// hint says what key was probably meant: the secret references when a secret was written in
// the file itself, or else the nearest valid key when it is close enough to be a typo.
func hint(key string, fields map[string]reflect.Type) string {
	_, env := fields[key+"_env"]
	_, file := fields[key+"_file"]
	if env && file {
		return fmt.Sprintf("; a secret is never written in the file: use %s_env or %s_file", key, key)
	}
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	sort.Strings(names)
	best, bestD := "", -1
	for _, name := range names {
		if d := editDistance(key, name); bestD < 0 || d < bestD {
			best, bestD = name, d
		}
	}
	// A typo changes a few characters; a key that shares little with every valid one is not
	// one of them misspelt, and guessing would mislead.
	if bestD < 0 || bestD > max(2, len(key)/3) {
		return ""
	}
	return "; did you mean " + best + "?"
}

// editDistance is the Levenshtein distance between a and b, counting a swap of two adjacent
// characters as one edit (the commonest typo).
func editDistance(a, b string) int {
	x, y := []rune(a), []rune(b)
	d := make([][]int, len(x)+1)
	for i := range d {
		d[i] = make([]int, len(y)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(x); i++ {
		for j := 1; j <= len(y); j++ {
			cost := 1
			if x[i-1] == y[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && x[i-1] == y[j-2] && x[i-2] == y[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(x)][len(y)]
}

// nameSuffix is " (NAME)" for a list item with a name key, as the validation names jobs and
// reports, so that both kinds of error point at an item the same way.
func nameSuffix(n *yaml.Node) string {
	if n.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "name" && n.Content[i+1].Kind == yaml.ScalarNode && n.Content[i+1].Value != "" {
			return " (" + n.Content[i+1].Value + ")"
		}
	}
	return ""
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}
