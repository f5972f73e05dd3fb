package suggest

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// YAML renders the proposal as a mapping file: every decision is a key, its reason a comment,
// and every column it could not place is under ignore with a comment saying why.
func (p *Proposal) YAML() ([]byte, error) {
	root := &yaml.Node{Kind: yaml.MappingNode}
	add := func(key string, v *yaml.Node, comment string) {
		k := scalar(key)
		v.LineComment = comment
		root.Content = append(root.Content, k, v)
	}
	add("kind", scalar(p.Kind), p.kindNote())
	add("encoding", scalar(p.Encoding), p.EncodingNote)
	add("delimiter", quoted(delimiterName(p.Delimiter)), p.quotingNote())
	add("decimal_separator", quoted(map[bool]string{true: ",", false: "."}[p.DecimalComma]), p.DecimalNote)
	add("thousands_separators", flowList(p.Thousands), separatorNames(p.Thousands))
	if len(p.DateFormats) > 0 {
		add("date_formats", flowList(p.DateFormats), "")
	}
	add("columns", p.columnsNode(), "")
	if len(p.CustomerTypes) > 0 {
		add("customer_types", stringMap(p.CustomerTypes), "")
	}
	if len(p.Constants) > 0 {
		cn := &yaml.Node{Kind: yaml.MappingNode}
		for _, c := range p.Constants {
			v := quoted(c.Value)
			v.LineComment = c.Reason
			cn.Content = append(cn.Content, scalar(c.Field), v)
		}
		add("constants", cn, "")
	}
	if ig := p.ignoreNode(); len(ig.Content) > 0 {
		add("ignore", ig, "")
	}
	root.Content[0].HeadComment = p.headComment()
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return nil, fmt.Errorf("render mapping: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("render mapping: %w", err)
	}
	return buf.Bytes(), nil
}

func (p *Proposal) headComment() string {
	lines := []string{
		fmt.Sprintf("Mapping proposed by amili-import mapping suggest for %s (%d data rows looked at).", p.Name, p.Rows),
		`Comments give each decision's reason; "could not decide" marks what to check.`,
		"Columns no field claims are under ignore; map one under columns to import it.",
	}
	lines = append(lines, p.Notes...)
	return strings.Join(lines, "\n")
}

func (p *Proposal) kindNote() string {
	if p.Kind == "case" {
		return "an outstanding amount and no invoice lines"
	}
	return "invoice lines or an invoice head"
}

func (p *Proposal) quotingNote() string {
	if p.Quoted {
		return "some fields in double quotes (standard CSV quoting)"
	}
	return "no quoted fields"
}

func (p *Proposal) columnsNode() *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, c := range p.Columns {
		if c.Field == "" {
			continue
		}
		v := quoted(c.Header)
		v.LineComment = c.Reason
		n.Content = append(n.Content, scalar(c.Field), v)
	}
	return n
}

func (p *Proposal) ignoreNode() *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode}
	for _, c := range p.Columns {
		if c.Field != "" {
			continue
		}
		v := quoted(c.Header)
		v.LineComment = c.Reason
		n.Content = append(n.Content, v)
	}
	return n
}

// separatorNames spells out the separators, since a blank and a no-break space look alike.
func separatorNames(seps []string) string {
	names := make([]string, len(seps))
	for i, s := range seps {
		switch s {
		case " ":
			names[i] = "space"
		case "\u00a0":
			names[i] = "no-break space (U+00A0)"
		default:
			names[i] = `"` + s + `"`
		}
	}
	return strings.Join(names, ", ")
}

func delimiterName(d rune) string {
	if d == '\t' {
		return "tab"
	}
	return string(d)
}

func scalar(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: s} }

func quoted(s string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Value: s, Style: yaml.DoubleQuotedStyle}
}

func flowList(items []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, s := range items {
		n.Content = append(n.Content, quoted(s))
	}
	return n
}

func stringMap(m map[string]string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, k := range sortedKeys(m) {
		n.Content = append(n.Content, quoted(k), scalar(m[k]))
	}
	return n
}
