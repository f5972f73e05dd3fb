package amilitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// GET /cases follows Eve's conventions: where is Mongo-style JSON with dotted fields, page and
// max_results page through the matches (default 25, at most 100), sort names fields with a
// leading "-" for descending. Equality on creditor, _id or debt.invoice_number is answered from
// an index, so the lookup that resolves an in-doubt registration never scans every case.

const (
	defaultMaxResults = 25
	maxMaxResults     = 100
)

func (s *Server) handleListCases(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var where map[string]any
	if ws := q.Get("where"); ws != "" {
		dec := json.NewDecoder(strings.NewReader(ws))
		dec.UseNumber()
		if err := dec.Decode(&where); err != nil {
			writeError(w, http.StatusBadRequest, "Unable to parse `where` clause: "+err.Error(), nil)
			return
		}
	}
	page, err := positiveParam(q.Get("page"), 1)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Bad page: "+err.Error(), nil)
		return
	}
	maxResults, err := positiveParam(q.Get("max_results"), defaultMaxResults)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Bad max_results: "+err.Error(), nil)
		return
	}
	maxResults = min(maxResults, maxMaxResults)
	keys, err := parseSort(q.Get("sort"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "Unable to parse `sort` clause: "+err.Error(), nil)
		return
	}

	s.mu.Lock()
	var matched []*caseRec
	lagged := s.now().Add(-s.faults.ListLag)
	for _, c := range s.candidates(where) {
		if s.faults.ListLag > 0 && c.stored.After(lagged) {
			continue
		}
		ok, err := matches(c, where)
		if err != nil {
			s.mu.Unlock()
			writeError(w, http.StatusBadRequest, "Unable to parse `where` clause: "+err.Error(), nil)
			return
		}
		if ok {
			matched = append(matched, c)
		}
	}
	if len(keys) > 0 {
		sort.SliceStable(matched, func(i, j int) bool {
			for _, k := range keys {
				c := compare(fieldValue(matched[i], k.field), fieldValue(matched[j], k.field))
				if c != 0 {
					return (c < 0) != k.desc
				}
			}
			return false
		})
	}
	items := []caseDoc{}
	if from := (page - 1) * maxResults; from < len(matched) {
		for _, c := range matched[from:min(from+maxResults, len(matched))] {
			items = append(items, c.doc())
		}
	}
	total := len(matched)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"_items": items,
		"_meta":  map[string]int{"page": page, "max_results": maxResults, "total": total},
	})
}

func positiveParam(v string, def int) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, fmt.Errorf("%q is not a positive integer", v)
	}
	return n, nil
}

type sortKey struct {
	field string
	desc  bool
}

// parseSort reads "-_created,_id" or Eve's Python form `[("_created", -1)]`.
func parseSort(v string) ([]sortKey, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	var keys []sortKey
	if strings.HasPrefix(v, "[") {
		inner := strings.Trim(v, "[] ")
		for _, part := range strings.Split(inner, ")") {
			part = strings.Trim(part, " ,(")
			if part == "" {
				continue
			}
			name, dir, ok := strings.Cut(part, ",")
			if !ok {
				return nil, fmt.Errorf("%q is not (field, direction)", part)
			}
			keys = append(keys, sortKey{field: strings.Trim(name, ` "'`), desc: strings.TrimSpace(dir) == "-1"})
		}
		return keys, nil
	}
	for _, f := range strings.Split(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		desc := strings.HasPrefix(f, "-")
		keys = append(keys, sortKey{field: strings.TrimPrefix(f, "-"), desc: desc})
	}
	return keys, nil
}

// candidates narrows the cases to scan using the indexes; called with mu held.
func (s *Server) candidates(where map[string]any) []*caseRec {
	st := s.st
	if id, ok := where["_id"].(string); ok {
		if c := st.cases[id]; c != nil {
			return []*caseRec{c}
		}
		return nil
	}
	if n, ok := where["debt.invoice_number"].(string); ok {
		return st.byInvoice[n]
	}
	if in, ok := where["debt.invoice_number"].(map[string]any); ok && len(in) == 1 {
		if list, ok := in["$in"].([]any); ok {
			var out []*caseRec
			seen := map[string]bool{}
			for _, v := range list {
				if n, ok := v.(string); ok && !seen[n] {
					seen[n] = true
					out = append(out, st.byInvoice[n]...)
				}
			}
			sort.SliceStable(out, func(i, j int) bool { return out[i].seq < out[j].seq })
			return out
		}
	}
	if cr, ok := where["creditor"].(string); ok {
		return st.byCred[cr]
	}
	return st.order
}

// matches evaluates a Mongo-style filter against c.
func matches(c *caseRec, where map[string]any) (bool, error) {
	for k, cond := range where {
		switch k {
		case "$and", "$or":
			list, ok := cond.([]any)
			if !ok {
				return false, fmt.Errorf("%s needs a list", k)
			}
			anyOK := false
			for _, sub := range list {
				m, ok := sub.(map[string]any)
				if !ok {
					return false, fmt.Errorf("%s needs a list of objects", k)
				}
				ok, err := matches(c, m)
				if err != nil {
					return false, err
				}
				if k == "$and" && !ok {
					return false, nil
				}
				anyOK = anyOK || ok
			}
			if k == "$or" && !anyOK {
				return false, nil
			}
			continue
		}
		ok, err := matchField(fieldValue(c, k), cond)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// matchField applies one field's condition: a value (equality) or an operator object.
func matchField(v, cond any) (bool, error) {
	ops, isOps := cond.(map[string]any)
	if isOps && len(ops) > 0 {
		for op := range ops {
			if !strings.HasPrefix(op, "$") {
				isOps = false
			}
		}
	}
	if !isOps {
		return equal(v, cond), nil
	}
	for op, arg := range ops {
		var ok bool
		switch op {
		case "$eq":
			ok = equal(v, arg)
		case "$ne":
			ok = !equal(v, arg)
		case "$in", "$nin":
			list, isList := arg.([]any)
			if !isList {
				return false, fmt.Errorf("%s needs a list", op)
			}
			for _, a := range list {
				if equal(v, a) {
					ok = true
					break
				}
			}
			if op == "$nin" {
				ok = !ok
			}
		case "$gt", "$gte", "$lt", "$lte":
			if v == nil {
				return false, nil
			}
			c := compare(v, arg)
			ok = map[string]bool{"$gt": c > 0, "$gte": c >= 0, "$lt": c < 0, "$lte": c <= 0}[op]
		case "$exists":
			want, _ := arg.(bool)
			ok = (v != nil) == want
		default:
			return false, fmt.Errorf("operator %s is not supported", op)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// fieldValue returns the value at a dotted path; the common fields come straight from the
// record, the rest from the rendered document.
func fieldValue(c *caseRec, path string) any {
	switch path {
	case "_id":
		return c.ID
	case "creditor":
		return c.Creditor
	case "account":
		return c.Account
	case "debt.invoice_number":
		return c.Debt.InvoiceNumber
	case "status":
		return c.Status
	case "_created":
		return c.Created.Truncate(time.Second)
	case "_updated":
		return c.Updated.Truncate(time.Second)
	}
	var cur any = c.genericDoc()
	for _, part := range strings.Split(path, ".") {
		switch x := cur.(type) {
		case map[string]any:
			cur = x[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			cur = x[i]
		default:
			return nil
		}
	}
	return cur
}

// equal compares a stored value with a query value; a stored list matches if any item does.
func equal(v, q any) bool {
	if l, ok := v.([]any); ok {
		for _, x := range l {
			if equal(x, q) {
				return true
			}
		}
		return false
	}
	return compare(v, q) == 0 && (v == nil) == (q == nil)
}

// compare orders two JSON values: dates as instants, numbers numerically, else as strings.
func compare(a, b any) int {
	if ta, ok := asTime(a); ok {
		if tb, ok := asTime(b); ok {
			return ta.Compare(tb)
		}
	}
	if fa, ok := asFloat(a); ok {
		if fb, ok := asFloat(b); ok {
			switch {
			case fa < fb:
				return -1
			case fa > fb:
				return 1
			}
			return 0
		}
	}
	if ba, ok := a.(bool); ok {
		if bb, ok := b.(bool); ok && ba == bb {
			return 0
		}
		return 1
	}
	return strings.Compare(asString(a), asString(b))
}

func asTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case time.Time:
		return x, true
	case string:
		if len(x) < 10 || (x[0] >= '0' && x[0] <= '9' && !strings.Contains(x, "-")) {
			return time.Time{}, false
		}
		t, err := parseDate(x)
		return t, err == nil
	}
	return time.Time{}, false
}

func asFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

func asString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	}
	var b bytes.Buffer
	json.NewEncoder(&b).Encode(v)
	return strings.TrimSpace(b.String())
}

func (s *Server) handleGetCase(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	c := s.st.cases[r.PathValue("id")]
	var d caseDoc
	if c != nil {
		d = c.doc()
	}
	s.mu.Unlock()
	if c == nil {
		writeError(w, http.StatusNotFound, "The requested URL was not found on the server.", nil)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func (s *Server) handleGetCreditor(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	c := s.st.creditors[r.PathValue("id")]
	var d map[string]any
	if c != nil {
		d = c.doc()
	}
	s.mu.Unlock()
	if c == nil {
		writeError(w, http.StatusNotFound, "The requested URL was not found on the server.", nil)
		return
	}
	writeJSON(w, http.StatusOK, d)
}
