package report

import (
	"context"
	"errors"
	"slices"

	"github.com/amili-import/amili-import/ledger"
)

// creditorNames asks Amili for the name of every creditor the report shows, one GET
// /creditors/{id} per creditor, and keeps it in the ledger. When Amili cannot say, the name
// kept from an earlier report is shown; without one, the id alone.
func (r *Report) creditorNames(ctx context.Context, st Store, cases Cases) error {
	r.CreditorNames = map[string]string{}
	for _, id := range r.creditors() {
		c, err := cases.GetCreditor(ctx, id)
		if err == nil && c.Name != "" {
			r.CreditorNames[id] = c.Name
			// A report built on a read-only ledger names the creditor without keeping the name.
			if err := st.SaveCreditorName(ctx, id, c.Name); err != nil && !errors.Is(err, ledger.ErrReadOnly) {
				return err
			}
			continue
		}
		name, _, ok, lerr := st.CreditorName(ctx, id)
		if lerr != nil {
			return lerr
		}
		if ok {
			r.CreditorNames[id] = name
		}
	}
	return nil
}

// creditors are the ids the report names, sorted.
func (r *Report) creditors() []string {
	var ids []string
	add := func(id string) {
		if id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	add(r.Period.Creditor)
	for _, t := range r.Totals {
		add(t.Creditor)
	}
	for _, f := range r.Files {
		add(f.Creditor)
	}
	for _, p := range r.Problems {
		add(p.Creditor)
	}
	slices.Sort(ids)
	return ids
}
