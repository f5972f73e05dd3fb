package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/amili-import/amili-import/domain"

	"go.yaml.in/yaml/v3"
)

// Layout says how a file's columns and values map to Amili's fields: which header names stand
// for which field, constants for fields the file does not carry, columns to ignore, and the
// file's conventions (delimiter, encoding, decimal separator, date formats, booleans). The
// canonical layout (a nil *Layout in Options) uses Amili's own dotted field paths as headers.
// A Layout is read-only once built and may be shared by concurrent Readers.
type Layout struct {
	// Name is the layout's name for messages: the mapping file's path, or "canonical".
	Name string
	// Kind forces the kind of file (one of domain.Kinds); "" detects it from the header.
	Kind domain.Kind
	// Encoding is "utf-8" (default; a BOM is stripped), "windows-1252" or "iso-8859-1".
	Encoding string
	// Delimiter is ',', ';' or '\t'; 0 detects it from the header line.
	Delimiter rune
	// DecimalComma makes ',' the decimal separator of amounts, quantities and VAT rates.
	DecimalComma bool
	// Thousands are the thousands separators accepted inside numbers.
	Thousands []string
	// DateFormats are Go time layouts, tried in order.
	DateFormats []string
	// TrueValues and FalseValues are the accepted booleans, compared without case.
	TrueValues, FalseValues []string
	// Columns maps a canonical field name to the header names that stand for it.
	Columns map[string][]string
	// Constants gives fields a fixed value when the file has no column for them.
	Constants map[string]string
	// Ignore lists header names whose columns are read past.
	Ignore []string
	// IgnoreUnknown reads past every column no field claims, instead of refusing the file.
	IgnoreUnknown bool
	// CustomerTypes maps values of the customer.type column to person, company or foreign.
	CustomerTypes map[string]string
	// PDFTemplate names each item's PDF when the file has no pdf_file column: {field} is
	// replaced by the row's value of field ({invoice_number} is the item's invoice number).
	// "none" means the files come without PDFs.
	PDFTemplate string

	headers   map[string]field // lower-cased header name → field
	constant  [numFields]string
	hasConst  [numFields]bool
	trueSet   map[string]bool
	falseSet  map[string]bool
	custTypes map[string]string
	ignore    map[string]bool
}

// Defaults of a Layout, documented in samples/README.md.
var (
	defaultDateFormats = []string{
		"2006-01-02",
		"20060102",
		"02.01.2006",
		time.RFC3339,
		"2006-01-02T15:04:05",
		"2006-01-02 15:04:05",
		time.RFC1123,
		time.RFC1123Z,
	}
	defaultThousands     = []string{" ", "\u00a0"}
	defaultTrue          = []string{"true", "1", "ja", "j", "yes", "y"}
	defaultFalse         = []string{"false", "0", "nej", "n", "no"}
	defaultCustomerTypes = map[string]string{"person": "person", "company": "company", "foreign": "foreign"}
)

// DefaultPDFTemplate names an item's PDF when neither a pdf_file column nor a template is given.
const DefaultPDFTemplate = "{invoice_number}.pdf"

var canonical = mustCompile(&Layout{Name: "canonical"})

func mustCompile(l *Layout) *Layout {
	if err := l.compile(); err != nil {
		panic(err)
	}
	return l
}

// LoadLayout reads a YAML mapping file.
func LoadLayout(path string) (*Layout, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read mapping file: %w", err)
	}
	return ParseLayout(data, path)
}

// layoutKeys are the mapping file's keys, in the order the documentation lists them, each with
// what reads its value into a Layout.
var layoutKeys = []struct {
	name string
	set  func(l *Layout, v *yaml.Node) error
}{
	{"kind", setKind},
	{"encoding", func(l *Layout, v *yaml.Node) error { return v.Decode(&l.Encoding) }},
	{"delimiter", setDelimiter},
	{"decimal_separator", setDecimalSeparator},
	{"thousands_separators", func(l *Layout, v *yaml.Node) error { return decodeStrings(v, &l.Thousands) }},
	{"date_formats", func(l *Layout, v *yaml.Node) error { return decodeStrings(v, &l.DateFormats) }},
	{"true_values", func(l *Layout, v *yaml.Node) error { return decodeStrings(v, &l.TrueValues) }},
	{"false_values", func(l *Layout, v *yaml.Node) error { return decodeStrings(v, &l.FalseValues) }},
	{"columns", setColumns},
	{"constants", setConstants},
	{"ignore", func(l *Layout, v *yaml.Node) error { return decodeStrings(v, &l.Ignore) }},
	{"ignore_unknown_columns", func(l *Layout, v *yaml.Node) error { return v.Decode(&l.IgnoreUnknown) }},
	{"customer_types", func(l *Layout, v *yaml.Node) error { return v.Decode(&l.CustomerTypes) }},
	{"pdf_template", func(l *Layout, v *yaml.Node) error { return v.Decode(&l.PDFTemplate) }},
}

// lineError is a problem on a line of its own inside a key's value (a field of columns:).
type lineError struct {
	line int
	msg  string
}

func (e *lineError) Error() string { return e.msg }

// ParseLayout parses a YAML mapping file's content; name is used in error messages. Unknown
// keys, unknown field names and malformed values are errors naming the key and its line.
func ParseLayout(data []byte, name string) (*Layout, error) {
	root, err := layoutRoot(data, name)
	if err != nil {
		return nil, err
	}
	l := &Layout{Name: name}
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if seen[k.Value] {
			return nil, fmt.Errorf("%s:%d: key %q: given twice", name, k.Line, k.Value)
		}
		seen[k.Value] = true
		if err := setLayoutKey(l, k, v); err != nil {
			var le *lineError
			if errors.As(err, &le) {
				return nil, fmt.Errorf("%s:%d: %s", name, le.line, le.msg)
			}
			return nil, fmt.Errorf("%s:%d: key %q: %s", name, k.Line, k.Value, cleanYAMLError(err))
		}
	}
	if err := l.compile(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return l, nil
}

// layoutRoot decodes the file and returns its top-level mapping.
func layoutRoot(data []byte, name string) (*yaml.Node, error) {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: mapping file is empty", name)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: mapping file must be a YAML mapping of keys", name, root.Line)
	}
	return root, nil
}

// setLayoutKey reads the value v of key k into l.
func setLayoutKey(l *Layout, k, v *yaml.Node) error {
	names := make([]string, len(layoutKeys))
	for i, lk := range layoutKeys {
		if lk.name == k.Value {
			return lk.set(l, v)
		}
		names[i] = lk.name
	}
	return &lineError{k.Line, fmt.Sprintf("unknown key %q (known keys: %s)", k.Value, strings.Join(names, ", "))}
}

func setKind(l *Layout, v *yaml.Node) error {
	var s string
	if err := v.Decode(&s); err != nil {
		return err
	}
	l.Kind = domain.Kind(strings.ToLower(strings.TrimSpace(s)))
	if l.Kind != "" && !l.Kind.Valid() {
		return fmt.Errorf("must be %s, not %q", kindList(domain.Kinds, "or"), s)
	}
	return nil
}

func setDelimiter(l *Layout, v *yaml.Node) error {
	var s string
	if err := v.Decode(&s); err != nil {
		return err
	}
	switch s {
	case ",", ";", "\t":
		l.Delimiter = rune(s[0])
	case "tab", `\t`:
		l.Delimiter = '\t'
	case "":
	default:
		return fmt.Errorf(`must be ",", ";" or "tab", not %q`, s)
	}
	return nil
}

func setDecimalSeparator(l *Layout, v *yaml.Node) error {
	var s string
	if err := v.Decode(&s); err != nil {
		return err
	}
	switch s {
	case ",":
		l.DecimalComma = true
	case ".", "":
	default:
		return fmt.Errorf(`must be "." or ",", not %q`, s)
	}
	return nil
}

func setColumns(l *Layout, v *yaml.Node) error {
	l.Columns = map[string][]string{}
	if v.Kind != yaml.MappingNode {
		return errors.New("must map field names to header names")
	}
	for j := 0; j+1 < len(v.Content); j += 2 {
		fk, fv := v.Content[j], v.Content[j+1]
		if _, ok := fieldByName(fk.Value); !ok {
			return &lineError{fk.Line, fmt.Sprintf("columns: unknown field %q (the fields are listed in samples/README.md)", fk.Value)}
		}
		var hs []string
		if err := decodeStrings(fv, &hs); err != nil {
			return &lineError{fv.Line, fmt.Sprintf("columns: %s: %v", fk.Value, err)}
		}
		l.Columns[fk.Value] = hs
	}
	return nil
}

func setConstants(l *Layout, v *yaml.Node) error {
	l.Constants = map[string]string{}
	if v.Kind != yaml.MappingNode {
		return errors.New("must map field names to values")
	}
	for j := 0; j+1 < len(v.Content); j += 2 {
		fk, fv := v.Content[j], v.Content[j+1]
		if _, ok := fieldByName(fk.Value); !ok {
			return &lineError{fk.Line, fmt.Sprintf("constants: unknown field %q", fk.Value)}
		}
		if fv.Kind != yaml.ScalarNode {
			return &lineError{fv.Line, fmt.Sprintf("constants: %s must be a single value", fk.Value)}
		}
		l.Constants[fk.Value] = fv.Value
	}
	return nil
}

// decodeStrings accepts a single string or a list of strings.
func decodeStrings(n *yaml.Node, out *[]string) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*out = []string{n.Value}
		return nil
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: expected a string", c.Line)
			}
			*out = append(*out, c.Value)
		}
		return nil
	}
	return errors.New("expected a string or a list of strings")
}

func cleanYAMLError(err error) string {
	return strings.TrimPrefix(strings.ReplaceAll(err.Error(), "yaml: unmarshal errors:\n  ", ""), "yaml: ")
}

// compile fills in defaults and builds the lookup tables.
func (l *Layout) compile() error {
	for _, step := range []func() error{l.compileEncoding, l.compileNumbers, l.compileDates, l.compileBooleans,
		l.compileCustomerTypes, l.compileTemplate, l.compileHeaders} {
		if err := step(); err != nil {
			return err
		}
	}
	l.ignore = lowerSet(l.Ignore)
	for name, v := range l.Constants {
		f, _ := fieldByName(name)
		l.constant[f], l.hasConst[f] = strings.TrimSpace(v), true
	}
	return nil
}

func (l *Layout) compileEncoding() error {
	switch strings.ToLower(strings.ReplaceAll(l.Encoding, "_", "-")) {
	case "", "utf-8", "utf8":
		l.Encoding = "utf-8"
	case "windows-1252", "cp1252", "win-1252":
		l.Encoding = "windows-1252"
	case "iso-8859-1", "latin1", "latin-1", "iso8859-1":
		l.Encoding = "iso-8859-1"
	default:
		return fmt.Errorf("encoding %q is not one of utf-8, windows-1252, iso-8859-1", l.Encoding)
	}
	return nil
}

func (l *Layout) compileNumbers() error {
	if l.Thousands == nil {
		l.Thousands = slices.Clone(defaultThousands)
		if l.DecimalComma {
			l.Thousands = append(l.Thousands, ".")
		}
	}
	for _, t := range l.Thousands {
		if t == "" || t == l.decimalSep() || (t == "," && !l.DecimalComma) {
			return fmt.Errorf("thousands separator %q cannot be used with decimal separator %q", t, l.decimalSep())
		}
	}
	return nil
}

func (l *Layout) compileDates() error {
	if l.DateFormats == nil {
		l.DateFormats = defaultDateFormats
		return nil
	}
	formats := make([]string, len(l.DateFormats))
	for i, f := range l.DateFormats {
		g, err := goDateLayout(f)
		if err != nil {
			return err
		}
		formats[i] = g
	}
	l.DateFormats = formats
	return nil
}

func (l *Layout) compileBooleans() error {
	if l.TrueValues == nil {
		l.TrueValues = defaultTrue
	}
	if l.FalseValues == nil {
		l.FalseValues = defaultFalse
	}
	l.trueSet, l.falseSet = lowerSet(l.TrueValues), lowerSet(l.FalseValues)
	for v := range l.trueSet {
		if l.falseSet[v] {
			return fmt.Errorf("%q is both a true and a false value", v)
		}
	}
	return nil
}

func (l *Layout) compileCustomerTypes() error {
	if l.CustomerTypes == nil {
		l.CustomerTypes = defaultCustomerTypes
	}
	l.custTypes = map[string]string{}
	for k, v := range l.CustomerTypes {
		switch v {
		case "person", "company", "foreign":
		default:
			return fmt.Errorf("customer_types: %q must map to person, company or foreign, not %q", k, v)
		}
		l.custTypes[strings.ToLower(strings.TrimSpace(k))] = v
	}
	return nil
}

func (l *Layout) compileTemplate() error {
	if l.PDFTemplate == "" {
		l.PDFTemplate = DefaultPDFTemplate
	}
	if l.PDFTemplate == "none" {
		return nil
	}
	return checkTemplate(l.PDFTemplate)
}

// compileHeaders maps each canonical name, and each header the layout's columns give, to its
// field.
func (l *Layout) compileHeaders() error {
	l.headers = map[string]field{}
	for f := field(0); f < numFields; f++ {
		l.headers[fieldDefs[f].name] = f
	}
	fields := make([]string, 0, len(l.Columns))
	for name := range l.Columns {
		fields = append(fields, name)
	}
	sort.Strings(fields)
	for _, name := range fields {
		f, _ := fieldByName(name)
		for _, h := range l.Columns[name] {
			key := strings.ToLower(strings.TrimSpace(h))
			if g, ok := l.headers[key]; ok && g != f && fieldDefs[g].name != key {
				return fmt.Errorf("columns: header %q is given for both %s and %s", h, g, f)
			}
			l.headers[key] = f
		}
	}
	return nil
}

func (l *Layout) decimalSep() string {
	if l.DecimalComma {
		return ","
	}
	return "."
}

func lowerSet(vs []string) map[string]bool {
	m := make(map[string]bool, len(vs))
	for _, v := range vs {
		m[strings.ToLower(strings.TrimSpace(v))] = true
	}
	return m
}

// goDateLayout accepts a Go layout ("02.01.2006") or the tokens YYYY, MM, DD, hh, mm, ss
// ("DD.MM.YYYY"), and checks that the layout reads back a date it wrote.
func goDateLayout(f string) (string, error) {
	g := f
	if strings.Contains(f, "YYYY") {
		g = strings.NewReplacer("YYYY", "2006", "MM", "01", "DD", "02", "hh", "15", "mm", "04", "ss", "05").Replace(f)
	}
	ref := time.Date(2031, 11, 27, 0, 0, 0, 0, time.UTC)
	t, err := time.Parse(g, ref.Format(g))
	if err != nil || t.Year() != 2031 || t.Month() != 11 || t.Day() != 27 {
		return "", fmt.Errorf("date format %q does not describe a full date (use Go layouts like 2006-01-02 or tokens like YYYY-MM-DD)", f)
	}
	return g, nil
}

// checkTemplate checks that every {placeholder} names a field.
func checkTemplate(t string) error {
	rest := t
	for {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			return nil
		}
		j := strings.IndexByte(rest[i:], '}')
		if j < 0 {
			return fmt.Errorf("pdf_template %q: unclosed {", t)
		}
		name := rest[i+1 : i+j]
		if _, ok := fieldByName(name); !ok {
			return fmt.Errorf("pdf_template %q: unknown field {%s}", t, name)
		}
		rest = rest[i+j+1:]
	}
}
