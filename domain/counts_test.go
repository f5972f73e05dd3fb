package domain

import (
	"encoding/json"
	"testing"
)

func TestCountsAddAndJSON(t *testing.T) {
	a := Counts{Rows: 3, Registered: 2, PDFsAttached: 1, Pending: 1}
	b := Counts{Rows: 4, Rejected: 1, Resumed: 2}
	sum := a.Add(b)
	if want := (Counts{Rows: 7, Registered: 2, PDFsAttached: 1, Rejected: 1, Pending: 1, Resumed: 2}); sum != want {
		t.Errorf("Add = %+v, want %+v", sum, want)
	}
	if a.Rows != 3 {
		t.Errorf("Add changed its receiver: %+v", a)
	}
	js, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	var back Counts
	if err := json.Unmarshal(js, &back); err != nil || back != sum {
		t.Errorf("round trip of %s = %+v, %v", js, back, err)
	}
	// What ledgers of earlier versions stored: Go field names.
	var old Counts
	if err := json.Unmarshal([]byte(`{"Rows":5,"AlreadyImported":4,"PDFsAttached":1,"InDoubtResolved":2}`), &old); err != nil {
		t.Fatal(err)
	}
	if want := (Counts{Rows: 5, AlreadyImported: 4, PDFsAttached: 1, InDoubtResolved: 2}); old != want {
		t.Errorf("earlier form read as %+v, want %+v", old, want)
	}
	attrs := sum.LogAttrs()
	if len(attrs) != 24 || attrs[0] != "rows" || attrs[1] != 7 {
		t.Errorf("LogAttrs = %v", attrs)
	}
}
