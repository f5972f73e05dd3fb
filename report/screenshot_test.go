package report

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// chromium finds a headless Chromium (Debian's chromium, or Google Chrome).
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// The golden report over a week, rendered by headless Chromium as a mail client's HTML view
// would: the page and its chart load, and the picture is as wide as the tables. With
// REPORT_SCREENSHOT=path the picture is kept there to be looked at (make report-screenshot).
func TestReportScreenshot(t *testing.T) {
	bin := chromium()
	if bin == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("no chromium on PATH; .ci/run installs it")
		}
		t.Skip("no chromium on PATH (apt-get install chromium); CI installs it")
	}
	f := goldenScenario(t)
	p := Period{Since: periodSince.AddDate(0, 0, -3), Until: periodUntil.AddDate(0, 0, 3)}
	r, err := Build(f.ctx, f.led, f.client, p, BuildOptions{Location: stockholm,
		Now: func() time.Time { return time.Date(2026, 11, 25, 6, 0, 0, 0, stockholm) }})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	paths, err := r.WriteFiles(dir, CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "screenshot.png")
	if keep := os.Getenv("REPORT_SCREENSHOT"); keep != "" {
		if out, err = filepath.Abs(keep); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--window-size=1500,2600", "--screenshot="+out,
		"file://"+paths.HTML)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("screenshot is not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 1500 || b.Dy() != 2600 {
		t.Errorf("screenshot %v, want 1500×2600", b)
	}
	// The chart is drawn at its place: its registered bars' colour is on the page.
	if n := countColour(img, colRegistered); n < 20 {
		t.Errorf("the chart's registered bars are not on the page (%d pixels)", n)
	}
	t.Logf("screenshot %s", out)
}
