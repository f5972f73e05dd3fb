package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"testing"
)

// batchWorld is a ledger with one submission in each state a rerun meets, plus a run and a
// file the claims refer to.
func batchWorld(t *testing.T) (*Ledger, RunID, FileID) {
	t.Helper()
	ctx := context.Background()
	l := MustOpen(t)
	for _, n := range []struct {
		number string
		st     State
	}{{"UP", StateUploaded}, {"NP", StateNoPDF}, {"RJ", StateRejected}, {"RJ2", StateRejected},
		{"CL", StateClaimed}, {"SE", StateSending}, {"RG", StateRegistered}, {`Q"\` + "\x01é", StateUploaded}} {
		driveTo(t, l, n.number, n.st)
	}
	c, err := l.Claim(ctx, caseReq(0, 0, "h", "C-1", "C-2"))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.MarkRejected(ctx, c.Submission.ID, "422"); err != nil {
		t.Fatal(err)
	}
	other := invoiceReq(0, 0, "OC", "h-OC", 100)
	other.Creditor = "cred-2"
	if c, err = l.Claim(ctx, other); err != nil {
		t.Fatal(err)
	}
	driveDone(t, l, c.Submission.ID)
	run, err := l.StartRun(ctx, "job")
	if err != nil {
		t.Fatal(err)
	}
	file, _, err := l.BeginFile(ctx, run, FileRecord{Path: "in/a.csv", Size: 1, SHA256: "ab"})
	if err != nil {
		t.Fatal(err)
	}
	return l, run, file
}

func driveDone(t *testing.T, l *Ledger, id SubmissionID) {
	t.Helper()
	ctx := context.Background()
	if _, err := l.MarkSending(ctx, id, ""); err != nil {
		t.Fatal(err)
	}
	if err := l.MarkRegistered(ctx, id, Registered{RegistrationID: "r", Cases: []CaseRef{{CaseID: "c"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.MarkPDF(ctx, id, 0, PDFUploaded, ""); err != nil {
		t.Fatal(err)
	}
}

// mixedBatch is a rerun's batch with every outcome: done (invoices, a case, another creditor,
// an odd invoice number), conflicts, new, resume, in doubt, a corrected rejection, and one
// invoice number twice.
func mixedBatch(run RunID, file FileID) []ClaimRequest {
	req := func(number, hash string) ClaimRequest { return invoiceReq(run, file, number, hash, 100) }
	oc := req("OC", "h-OC")
	oc.Creditor = "cred-2"
	cs := caseReq(run, file, "h", "C-1", "C-2")
	regrouped := caseReq(run, file, "h", "C-2", "C-1")
	reqs := []ClaimRequest{
		req("UP", "h-UP"), req("NP", "h-NP"), req("RJ", "h-RJ"), oc, cs,
		req(`Q"\`+"\x01é", `h-Q"\`+"\x01é"),
		req("UP", "changed"), regrouped, req("NEW", "h-NEW"), req("CL", "h-CL"), req("SE", "h-SE"),
		req("RG", "h-RG"), req("RJ2", "corrected"), req("NEW", "h-NEW"), req("NP", "h-NP"),
	}
	for i := range reqs {
		reqs[i].Line = 2 + i
	}
	return reqs
}

// dump is the ledger's whole content that claims touch, row by row.
func dump(t *testing.T, l *Ledger) string {
	t.Helper()
	var b strings.Builder
	for _, table := range []string{"submissions", "submission_items", "events", "claims", "conflicts"} {
		rows, err := l.db.Query("SELECT * FROM " + table + " ORDER BY 1, 2")
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %v\n", table, vals)
		}
		rows.Close()
	}
	return b.String()
}

// TestClaimDoneSameAsClaims: a mixed batch claimed with ClaimDone and then one Claim for each
// registration it left leaves the ledger exactly as the same requests claimed one by one, with
// the same outcomes.
func TestClaimDoneSameAsClaims(t *testing.T) {
	ctx := context.Background()
	single, run, file := batchWorld(t)
	reqs := mixedBatch(run, file)
	var want []ClaimOutcome
	for _, r := range reqs {
		c, err := single.Claim(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, c.Outcome)
	}
	wantDump := dump(t, single)
	for _, w := range []ClaimOutcome{ClaimDone, ClaimConflict, ClaimNew, ClaimResume, ClaimInDoubt} {
		if !strings.Contains(fmt.Sprint(want), w.String()) {
			t.Fatalf("the batch lacks outcome %v: %v", w, want)
		}
	}
	if !strings.Contains(wantDump, "claims") || !strings.Contains(wantDump, "conflicts") {
		t.Fatalf("nothing recorded:\n%s", wantDump)
	}

	t.Run("ClaimDone", func(t *testing.T) {
		l, _, _ := batchWorld(t)
		done, err := l.ClaimDone(ctx, reqs)
		if err != nil {
			t.Fatal(err)
		}
		// ClaimDone claims only requests done before the batch; the claims it records come
		// first, so they are compared with the single claims of the same requests.
		for i, r := range reqs {
			if (done[i] != "") != (want[i] == ClaimDone) && !(r.Items[0].InvoiceNumber == "NP" && i > 2) {
				t.Errorf("request %d (%s): done %v, single claim %v", i, r.Items[0].InvoiceNumber, done[i], want[i])
			}
		}
		var got []ClaimOutcome
		for i, r := range reqs {
			if done[i] != "" {
				got = append(got, ClaimDone)
				continue
			}
			c, err := l.Claim(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, c.Outcome)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("outcomes %v, want %v", got, want)
		}
		if a, b := sortedLines(dump(t, l)), sortedLines(wantDump); a != b {
			t.Errorf("ledger after ClaimDone differs:\n%s\nwant:\n%s", a, b)
		}
	})
}

// sortedLines compares dumps without the claims' ids and order (a batch records the claims of
// its done registrations in one statement, apart from the others).
func sortedLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, ln := range lines {
		if strings.HasPrefix(ln, "claims [{") {
			if j := strings.Index(ln, "} "); j > 0 {
				lines[i] = "claims [" + ln[j+2:]
			}
		}
	}
	return strings.Join(sortStrings(lines), "\n")
}

func sortStrings(s []string) []string {
	out := append([]string(nil), s...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// TestClaimDoneLeavesOthers: what ClaimDone does not claim is not touched at all.
func TestClaimDoneLeavesOthers(t *testing.T) {
	ctx := context.Background()
	l, run, file := batchWorld(t)
	before := dump(t, l)
	reqs := []ClaimRequest{invoiceReq(run, file, "UP", "changed", 100), invoiceReq(run, file, "NEW", "h", 100),
		invoiceReq(run, file, "CL", "h-CL", 100), invoiceReq(run, file, "SE", "h-SE", 100)}
	done, err := l.ClaimDone(ctx, reqs)
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range done {
		if d != "" {
			t.Errorf("request %d claimed as done (%s)", i, d)
		}
	}
	if after := dump(t, l); after != before {
		t.Errorf("ClaimDone wrote for registrations not done:\n%s", after)
	}
	if _, err := l.ClaimDone(ctx, []ClaimRequest{{Creditor: "cred-1"}}); err == nil {
		t.Error("a request without items was accepted")
	}
}
