package importer

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/amili-import/amili-import/amili"
)

// errCreditorRefused marks a creditor that Amili does not know or says is not active: the rows
// naming it are refused, the others go on.
var errCreditorRefused = errors.New("creditor refused")

// rowCreditor says whether rows may name creditor id. refused is the rule a row naming it
// breaks ("" when the creditor is active); err is what stops the run instead (credentials
// refused, Amili unreachable). Each creditor is asked once per run, and its verdict is kept
// across the runs of a process in Deps.Creditors for amili.creditor_check_ttl; a file with
// nothing to validate asks nothing, so an idle run makes no API call.
func (imp *Importer) rowCreditor(ctx context.Context, id string) (refused string, err error) {
	imp.mu.Lock()
	known, seen := imp.creditors[id]
	imp.mu.Unlock()
	if !seen {
		known, seen = imp.deps.Creditors.get(id)
	}
	if !seen {
		known = imp.askCreditor(ctx, id)
		if amili.ClassOf(known) == amili.Retryable {
			return "", fmt.Errorf("%w: creditor %s: %w", ErrCannotStart, id, known)
		}
		if known == nil || errors.Is(known, errCreditorRefused) {
			imp.deps.Creditors.put(id, known) // a verdict on the creditor, not on this moment
		}
	}
	imp.mu.Lock()
	imp.creditors[id] = known
	imp.mu.Unlock()
	switch {
	case known == nil:
		return "", nil
	case errors.Is(known, errCreditorRefused) && id == imp.job.Mapping.Creditor:
		// The job's own creditor: the config is wrong, not a row.
		return "", fmt.Errorf("%w: the job's creditor: %w", ErrCannotStart, known)
	case errors.Is(known, errCreditorRefused):
		return strings.TrimPrefix(known.Error(), errCreditorRefused.Error()+": "), nil
	}
	return "", known
}

// creditorRefused reports whether the validation pass refused the rows naming creditor id.
func (imp *Importer) creditorRefused(id string) bool {
	imp.mu.Lock()
	defer imp.mu.Unlock()
	return errors.Is(imp.creditors[id], errCreditorRefused)
}

// askCreditor is GET /creditors/{id} turned into the verdict rowCreditor caches: nil (active),
// errCreditorRefused with the rule (inactive, or refused by Amili: unknown, not this account's),
// or the error that stops the run.
func (imp *Importer) askCreditor(ctx context.Context, id string) error {
	cr, err := imp.deps.Client.GetCreditor(ctx, id)
	switch {
	case err == nil && cr.IsActive:
		return nil
	case err == nil:
		return fmt.Errorf("%w: creditor %s is not active at Amili", errCreditorRefused, id)
	case amili.ClassOf(err) == amili.Permanent:
		var e *amili.Error
		status := ""
		if errors.As(err, &e) && e.StatusCode != 0 {
			status = fmt.Sprintf(" (HTTP %d)", e.StatusCode)
		}
		return fmt.Errorf("%w: creditor %s is unknown to Amili or not this account's%s", errCreditorRefused, id, status)
	case amili.ClassOf(err) == amili.Retryable:
		return err
	}
	return fmt.Errorf("%w: creditor %s: %w", ErrCannotStart, id, err)
}
