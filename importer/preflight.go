package importer

import (
	"context"
	"errors"
	"fmt"

	"github.com/amili-import/amili-import/amili"
)

// ErrInactiveCreditor is wrapped by the error for a creditor Amili says is not active.
var ErrInactiveCreditor = errors.New("creditor is not active")

func checkCreditor(ctx context.Context, c Client, id string) error {
	cr, err := c.GetCreditor(ctx, id)
	if err != nil {
		return fmt.Errorf("%w: creditor %s: %w", ErrCannotStart, id, err)
	}
	if !cr.IsActive {
		name := cr.Name
		if name == "" {
			name = id
		}
		return fmt.Errorf("%w: creditor %s (%s): %w", ErrCannotStart, id, name, ErrInactiveCreditor)
	}
	return nil
}

// checkCreditors makes sure every creditor a file is about to send for is active, before its
// first registration: Amili refuses registrations for an inactive creditor, so finding out first
// saves a whole file of rejections. It is called only when there is something to send, so a run
// with nothing to do makes no API call (the client authenticates lazily, with its first call).
// Answers are kept for the run, and across runs in Deps.Creditors; errors wrap ErrCannotStart.
func (imp *Importer) checkCreditors(ctx context.Context, creditors []string) error {
	for _, id := range creditors {
		imp.mu.Lock()
		known, seen := imp.creditors[id]
		imp.mu.Unlock()
		if !seen {
			known, seen = imp.deps.Creditors.get(id)
		}
		if seen {
			if known != nil {
				return known
			}
			continue
		}
		err := checkCreditor(ctx, imp.deps.Client, id)
		if err != nil && amili.ClassOf(err) == amili.Retryable {
			// A transient failure says nothing about the creditor: do not cache it.
			return err
		}
		imp.mu.Lock()
		imp.creditors[id] = err
		imp.mu.Unlock()
		imp.deps.Creditors.put(id, err)
		if err != nil {
			return err
		}
	}
	return nil
}
