package importer

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/amili-import/amili-import/amili"
	"github.com/amili-import/amili-import/ledger"
)

// figure is one "N word" figure of a summary line.
var figure = regexp.MustCompile(`(\d+) ([a-z ]+?)(,|$)`)

// A resumed run's file line adds up: its registrations are the sum of the outcome figures it
// shows, the invoices that only got their PDFs (resumed) included.
func TestSummaryOfResumedRunAddsUp(t *testing.T) {
	sum := crashRun(t, func(l *ledger.Ledger, sw *deadSwitch) Ledger {
		return &deadLedger{Ledger: l, sw: sw, afterRegistered: "INV-2025-102"}
	}, func(c *amili.Client, sw *deadSwitch) Client {
		return &deadClient{Client: c, sw: sw}
	}, nil)
	var b strings.Builder
	if err := sum.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	var fileLine string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.Contains(l, "invoices.csv") && strings.Contains(l, " rows") {
			fileLine = l
		}
	}
	t.Logf("file line: %s", strings.TrimSpace(fileLine))
	figures := map[string]int{}
	for _, m := range figure.FindAllStringSubmatch(fileLine, -1) {
		n, _ := strconv.Atoi(m[1])
		figures[strings.TrimSpace(m[2])] = n
	}
	shown := 0
	for name, n := range figures {
		if name != "rows" && name != "registrations" && name != "PDFs attached" {
			shown += n
		}
	}
	c := sum.Files[0].Counts
	if shown != c.Registrations {
		t.Errorf("the file line's outcome figures add up to %d, want its %d registrations: %q", shown, c.Registrations, fileLine)
	}
	if outcomes := c.Registered + c.Resumed + c.AlreadyImported + c.Rejected + c.Conflicts + c.Failed + c.Pending; outcomes != c.Registrations {
		t.Errorf("counts: outcomes add up to %d, want %d registrations: %+v", outcomes, c.Registrations, c)
	}
}
