package config

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// expandVars replaces ${NAME} in every scalar value of the parsed document, after YAML has
// decided the structure: a value from the environment is one scalar whatever it holds, so it
// can never add keys, list items, anchors or documents. A plain scalar takes the type its new
// text reads as ("2222" for a port, "90s" for a duration), as if written there; a quoted one
// stays a string. A variable in a key is refused, and comments are not looked at.
// key is the path of doc in the file ("" for the whole document).
func expandVars(doc *yaml.Node, getenv func(string) string, key ...string) Errors {
	e := expander{getenv: getenv}
	e.walk(doc, strings.Join(key, "."))
	return e.errs
}

type expander struct {
	getenv func(string) string
	errs   Errors
}

func (e *expander) bad(n *yaml.Node, key, format string, args ...any) {
	e.errs = append(e.errs, &Error{Key: key, Line: n.Line, Msg: fmt.Sprintf(format, args...)})
}

func (e *expander) walk(n *yaml.Node, key string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			e.walk(c, key)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			e.walk(c, fmt.Sprintf("%s[%d]", key, i))
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			name := k.Value
			if key != "" {
				name = key + "." + k.Value
			}
			if varRef.MatchString(k.Value) && strings.Contains(k.Value, "${") {
				e.bad(k, name, "${VAR} is substituted only in values, not in keys")
				continue
			}
			e.walk(v, name)
		}
	case yaml.ScalarNode:
		e.scalar(n, key)
	}
}

func (e *expander) scalar(n *yaml.Node, key string) {
	if !strings.Contains(n.Value, "$") {
		return
	}
	var missing []string
	out := varRef.ReplaceAllStringFunc(n.Value, func(m string) string {
		if m == "$$" {
			return "$"
		}
		name := m[2 : len(m)-1]
		val := e.getenv(name)
		if val == "" {
			missing = append(missing, name)
		}
		return val
	})
	if len(missing) > 0 {
		e.bad(n, key, "${%s} is not set in the environment", strings.Join(missing, "}, ${"))
		return
	}
	if out == n.Value {
		return
	}
	n.Value = out
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle|yaml.TaggedStyle) == 0 {
		n.Tag = "" // resolved again from the new text, as if it had been written here
		if isNullText(out) {
			n.Tag = "!!str"
		}
	}
}

// isNullText reports whether a plain scalar with this text would read as null; a value from
// the environment is never null, it is that text.
func isNullText(s string) bool {
	switch s {
	case "~", "null", "Null", "NULL":
		return true
	}
	return false
}
