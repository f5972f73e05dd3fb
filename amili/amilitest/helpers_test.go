package amilitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/internal/fakeclock"
)

var (
	hexID   = regexp.MustCompile(`^[0-9a-f]{24}$`)
	ocrLike = regexp.MustCompile(`^[0-9]{20}$`)
)

// testdata reads a file from testdata/ as JSON text.
func testdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// testdataMap reads a testdata JSON object.
func testdataMap(t testing.TB, name string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(testdata(t, name)), &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// with returns body (a JSON object) with the dotted keys set to values; a nil value deletes.
func with(t testing.TB, body string, kv ...any) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(kv); i += 2 {
		path := strings.Split(kv[i].(string), ".")
		cur := any(m)
		for _, p := range path[:len(path)-1] {
			switch x := cur.(type) {
			case map[string]any:
				cur = x[p]
			case []any:
				var n int
				fmt.Sscan(p, &n)
				cur = x[n]
			}
		}
		obj := cur.(map[string]any)
		last := path[len(path)-1]
		if kv[i+1] == nil {
			delete(obj, last)
		} else {
			obj[last] = kv[i+1]
		}
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// do sends a request and decodes a JSON answer.
func do(t testing.TB, method, url, token, body string) (int, map[string]any, http.Header) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-API-Key", token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %q", method, url, b)
		}
	}
	return resp.StatusCode, m, resp.Header
}

// post POSTs body to the sandbox and wants status.
func post(t testing.TB, s *Server, path, body string, want int) map[string]any {
	t.Helper()
	code, m, _ := do(t, "POST", s.URL+path, "", body)
	if code != want {
		t.Fatalf("POST %s: status %d, want %d; body %v", path, code, want, m)
	}
	return m
}

// get GETs path and wants 200.
func get(t testing.TB, s *Server, path string) map[string]any {
	t.Helper()
	code, m, _ := do(t, "GET", s.URL+path, "", "")
	if code != http.StatusOK {
		t.Fatalf("GET %s: status %d; body %v", path, code, m)
	}
	return m
}

// sameShape asserts got has every key of want (except skip) with the same JSON type, ids where
// want has ids and RFC 1123 dates where want has dates, recursively.
func sameShape(t testing.TB, path string, want, got any, skip map[string]bool) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Errorf("%s: got %T, want an object", path, got)
			return
		}
		for k, wv := range w {
			if skip[k] {
				continue
			}
			gv, ok := g[k]
			if !ok {
				t.Errorf("%s.%s: missing", path, k)
				continue
			}
			sameShape(t, path+"."+k, wv, gv, skip)
		}
	case []any:
		g, ok := got.([]any)
		if !ok {
			t.Errorf("%s: got %T, want a list", path, got)
			return
		}
		if len(w) > 0 && len(g) > 0 {
			sameShape(t, path+"[0]", w[0], g[0], skip)
		}
	case string:
		g, ok := got.(string)
		if !ok {
			t.Errorf("%s: got %T (%v), want a string", path, got, got)
			return
		}
		if hexID.MatchString(w) && !hexID.MatchString(g) {
			t.Errorf("%s: %q does not look like an Amili id", path, g)
		}
		if _, err := time.Parse(domain.DateLayout, w); err == nil {
			if _, err := time.Parse(domain.DateLayout, g); err != nil {
				t.Errorf("%s: %q is not an RFC 1123 GMT date", path, g)
			}
		}
	case float64:
		if _, ok := got.(float64); !ok {
			t.Errorf("%s: got %T (%v), want a number", path, got, got)
		}
	case bool:
		if _, ok := got.(bool); !ok {
			t.Errorf("%s: got %T (%v), want a bool", path, got, got)
		}
	}
}

// newClock is a settable clock for Options.Now, safe to read from handlers.
func newClock() *fakeclock.Clock { return fakeclock.New(time.Date(2025, 10, 7, 7, 41, 1, 0, time.UTC)) }

func jsonBody(v any) string { b, _ := json.Marshal(v); return string(b) }
