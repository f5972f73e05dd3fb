package source

import (
	"fmt"
	"path"
	"strings"
)

// ignoredSuffixes are names editors and upload tools use while a file is still being written.
var ignoredSuffixes = []string{".tmp", ".part", ".filepart", ".swp"}

// ignored reports whether a directory entry is never a candidate, whatever the patterns say:
// dotfiles, temporary names, names starting with "~" and our own <name>.error.txt files.
func ignored(name string) bool {
	if name == "" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "~") ||
		strings.HasSuffix(name, errorSuffix) {
		return true
	}
	lower := strings.ToLower(name)
	for _, s := range ignoredSuffixes {
		if strings.HasSuffix(lower, s) {
			return true
		}
	}
	return false
}

// cleanRel checks that name is a relative, slash-separated path that stays inside its
// directory, and returns it cleaned. It is the one gate for names that come from CSV rows.
func cleanRel(name string) (string, error) {
	switch {
	case name == "":
		return "", fmt.Errorf("empty file name")
	case strings.ContainsRune(name, 0):
		return "", fmt.Errorf("file name %q contains a NUL byte", name)
	case strings.Contains(name, `\`):
		return "", fmt.Errorf("file name %q contains a backslash", name)
	case path.IsAbs(name) || (len(name) > 1 && name[1] == ':'):
		return "", fmt.Errorf("file name %q is absolute", name)
	}
	for _, el := range strings.Split(name, "/") {
		if el == ".." {
			return "", fmt.Errorf("file name %q leaves its directory", name)
		}
	}
	c := path.Clean(name)
	if c == "." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("file name %q leaves its directory", name)
	}
	return c, nil
}

// cleanBase checks that name is a plain file name as List returns it.
func cleanBase(name string) (string, error) {
	c, err := cleanRel(name)
	if err != nil {
		return "", err
	}
	if strings.Contains(c, "/") {
		return "", fmt.Errorf("file name %q is not in the source directory", name)
	}
	return c, nil
}

// numbered returns name with ".n" inserted before its extension: a.csv → a.1.csv;
// n == 0 returns name unchanged.
func numbered(name string, n int) string {
	if n == 0 {
		return name
	}
	ext := path.Ext(name)
	if ext == name { // ".profile"-like names have no stem
		ext = ""
	}
	return fmt.Sprintf("%s.%d%s", strings.TrimSuffix(name, ext), n, ext)
}
