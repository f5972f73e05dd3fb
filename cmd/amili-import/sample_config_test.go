package main

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// commentedKey is a "# key: value" line of the sample: an optional key shown commented out.
var commentedKey = regexp.MustCompile(`(?m)^(\s*)# ( *)([a-z_]+:.*)$`)

// TestSampleConfigShowsEveryDocumentedKey: samples/amili-import.yaml shows every key of the
// README's configuration table, set or as a commented "# key: value" line, and shows no key the
// table does not document.
func TestSampleConfigShowsEveryDocumentedKey(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := readmeConfigKeys(t, string(readme))
	sample, err := os.ReadFile(filepath.Join(samplesDir, "amili-import.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	if err := yaml.Unmarshal([]byte(commentedKey.ReplaceAllString(string(sample), "$1$2$3")), &tree); err != nil {
		t.Fatalf("the sample with its commented keys set is not YAML: %v", err)
	}
	shown := map[string]bool{}
	sampleKeys("", tree, shown)
	for _, alts := range documented {
		if !slices.ContainsFunc(alts, func(k string) bool { return shown[k] }) {
			t.Errorf("README documents %s; the sample does not show it", strings.Join(alts, " / "))
		}
	}
	for k := range shown {
		if !documentedKey(documented, k) {
			t.Errorf("the sample shows %s, which the README's table does not document", k)
		}
	}
}

// readmeConfigKeys reads the README's configuration table: one entry per row, the key paths
// the row names (a row may name alternatives: `x_env` / `x_file`). Placeholders (<endpoint>,
// *) are cut off: the row documents its parent key's children.
func readmeConfigKeys(t *testing.T, readme string) [][]string {
	_, table, ok := strings.Cut(readme, "| key | default | meaning |")
	if !ok {
		t.Fatal("README has no configuration table")
	}
	table, _, _ = strings.Cut(table, "\n\n")
	var rows [][]string
	for _, line := range strings.Split(table, "\n")[2:] {
		cell := strings.Split(line, "|")[1]
		var alts []string
		for _, alt := range strings.Split(cell, " / ") {
			alt = strings.Trim(strings.TrimSpace(alt), "`")
			if len(alts) > 0 && !strings.Contains(alt, ".") {
				first := alts[0]
				dot := strings.LastIndex(first, ".")
				parent, leaf := first[:dot+1], first[dot+1:]
				if strings.HasPrefix(alt, "_") {
					alt = leaf[:strings.LastIndex(leaf, "_")] + alt
				}
				alt = parent + alt
			}
			if i := strings.IndexAny(alt, "<*"); i >= 0 {
				alt = strings.TrimSuffix(alt[:i], ".")
			}
			alts = append(alts, alt)
		}
		rows = append(rows, alts)
	}
	if len(rows) < 50 {
		t.Fatalf("read %d rows of the README's configuration table, want all of them", len(rows))
	}
	return rows
}

// sampleKeys collects the key paths of a YAML tree, list elements as [].
func sampleKeys(prefix string, v any, out map[string]bool) {
	switch v := v.(type) {
	case map[string]any:
		for k, child := range v {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			out[p] = true
			sampleKeys(p, child, out)
		}
	case []any:
		for _, el := range v {
			if _, ok := el.(map[string]any); ok {
				sampleKeys(prefix+"[]", el, out)
			}
		}
	}
}

// documentedKey reports whether a key path of the sample is documented: named by a row, the
// parent of one (a block), or below a row whose children are placeholders.
func documentedKey(rows [][]string, k string) bool {
	for _, alts := range rows {
		for _, d := range alts {
			if k == d || strings.HasPrefix(d, k+".") || strings.HasPrefix(d, k+"[].") ||
				(strings.HasPrefix(k, d+".") && (strings.HasSuffix(d, ".paths") || strings.HasSuffix(d, ".sftp"))) {
				return true
			}
		}
	}
	return false
}
