package report

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/mail/mailtest"
)

func readFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range []string{HTMLFile, CSVFile, ChartFile} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		out[name] = string(b)
	}
	return out
}

// A sent report is kept as it was mailed: building the same period again (report --send, or a
// plain report) writes a new folder that says it is a rebuild, and sends nothing.
func TestSentReportIsKept(t *testing.T) {
	srv, err := mailtest.NewServer("reports@example.se", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	f := newFixture(t)
	file := f.file("in/a.csv")
	f.register(file, 2, item{creditor: f.sb.Creditor, number: "S-1", customer: "A", amount: 10_000}, pdfUpload)
	f.finish(file, domain.Counts{})
	ctx := context.Background()
	deps := f.deps()
	deps.Mailer = sender(t, srv, "s3cret")
	p := Period{Since: periodSince, Until: periodUntil, Creditor: f.sb.Creditor}
	dir := OutDir(t.TempDir(), p, stockholm)
	if _, err := Deliver(ctx, deps, p, dir, true); err != nil {
		t.Fatal(err)
	}
	sent := readFiles(t, dir)

	// Later the same period is asked for again: the generation time differs, so a rewrite shows.
	deps.Now = func() time.Time { return time.Date(2026, 11, 25, 9, 0, 0, 0, stockholm) }
	again, err := Deliver(ctx, deps, p, dir, true)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := Deliver(ctx, deps, p, dir, false)
	if err != nil {
		t.Fatal(err)
	}
	kept := readFiles(t, dir)
	changed := 0
	for name := range sent {
		if kept[name] != sent[name] {
			changed++
			t.Errorf("%s of the sent report was rewritten", name)
		}
	}
	t.Logf("first report in %s; again → %s, then → %s; %d of 3 sent files changed; %d message(s) sent",
		filepath.Base(dir), filepath.Base(again.Dir), filepath.Base(plain.Dir), changed, len(srv.Messages()))
	for i, got := range []Paths{again, plain} {
		if got.Dir == dir {
			t.Fatalf("rebuild %d written to the sent report's folder %s", i+1, dir)
		}
		html := readFiles(t, got.Dir)[HTMLFile]
		if !strings.Contains(html, "Rebuild") || !strings.Contains(html, dir) {
			t.Errorf("rebuild %d in %s does not say it is a rebuild of %s", i+1, got.Dir, dir)
		}
	}
	if again.Dir == plain.Dir {
		t.Errorf("two rebuilds share the folder %s", again.Dir)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d messages sent, want 1: a rebuild is not mailed", n)
	}
}
