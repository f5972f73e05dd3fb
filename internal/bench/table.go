package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteTable prints the results as one table, then the scaling note and any misses.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\trows\tAPI calls by endpoint\tcalls/inv\telapsed s\tinv/min\trows/s\trate ceil/min\tlat ceil/min\teff\t429s\tpeak RSS MB\tCPU s\tresult\t")
	for _, r := range results {
		verdict := "PASS"
		if !r.Pass {
			verdict = "FAIL"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.2f\t%s\t%.0f\t%s\t%s\t%s\t%d\t%.1f\t%.2f\t%s\t\n",
			r.Scenario, r.Rows, callsText(r.Calls), opt(r.CallsPerInvoice, "%.3f"), r.ElapsedS, opt(r.InvoicesPerMin, "%.0f"),
			r.RowsPerSec, opt(r.RateCeilingPerMin, "%.0f"), opt(r.LatencyCeilingPerMin, "%.0f"), opt(r.Efficiency, "%.3f"),
			r.HTTP429, r.PeakRSSMB, r.CPUS, verdict)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nScaling: Amili's 100 requests/min with bursts of 10 run as %d/min with bursts of %d (rate x%d, burst x%d);"+
		" the client is set to %.0f%% of the limit and a burst of %d. Latencies are not scaled.\n",
		scaledLimit, scaledBurst, Scaling, Scaling/6, ClientShare*100, ClientBurst(scaledBurst))
	fmt.Fprintln(w, "Endpoints: reg=POST registration, up=POST /media--upload, find=GET /cases, cred=GET /creditors/{id}.")
	for _, r := range results {
		if !r.Pass {
			fmt.Fprintf(w, "FAIL %s: %s (target: %s)\n", r.Scenario, r.Why, r.Target)
		}
	}
	return nil
}

// WriteJSON prints one JSON line per result.
func WriteJSON(w io.Writer, results []Result) error {
	for _, r := range results {
		b, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(w, "%s\n", b); err != nil {
			return err
		}
	}
	return nil
}

func opt(v float64, format string) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

var shortNames = map[string]string{
	"POST /invoice--registrations": "reg",
	"POST /case--registrations":    "reg",
	"POST /media--upload/{id}":     "up",
	"GET /cases":                   "find",
	"GET /creditors/{id}":          "cred",
}

// callsText is the calls by endpoint, shortly: "reg=600 up=600 cred=1".
func callsText(calls map[string]int) string {
	short := map[string]int{}
	for ep, n := range calls {
		name, ok := shortNames[ep]
		if !ok {
			name = ep
		}
		short[name] += n
	}
	order := []string{"reg", "up", "find", "cred"}
	keys := slices.Collect(maps.Keys(short))
	slices.SortFunc(keys, func(a, b string) int {
		ia, ib := slices.Index(order, a), slices.Index(order, b)
		if ia < 0 {
			ia = len(order)
		}
		if ib < 0 {
			ib = len(order)
		}
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%d", k, short[k]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}
