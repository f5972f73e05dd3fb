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
		return cannotStart("creditor "+id, err)
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

// preflight makes the checks a run needs once, not per row: the credentials are accepted and
// every creditor is active. Amili refuses registrations for an inactive creditor, so finding out
// first saves a whole file of rejections. The answers are cached for the run; errors wrap
// ErrCannotStart.
func (imp *Importer) preflight(ctx context.Context, creditors []string) error {
	if err := imp.deps.Client.Authenticate(ctx); err != nil {
		return cannotStart("authenticate", err)
	}
	return imp.checkCreditors(ctx, creditors)
}

// cannotStart wraps err in ErrCannotStart, naming the step unless err does already: an
// *amili.Error starts with its own operation ("authenticate: HTTP 401 …").
func cannotStart(step string, err error) error {
	if _, ok := errors.AsType[*amili.Error](err); ok {
		return fmt.Errorf("%w: %w", ErrCannotStart, err)
	}
	return fmt.Errorf("%w: %s: %w", ErrCannotStart, step, err)
}

// checkCreditors asks Amili about each creditor not yet seen in this run.
func (imp *Importer) checkCreditors(ctx context.Context, creditors []string) error {
	for _, id := range creditors {
		imp.mu.Lock()
		known, seen := imp.creditors[id]
		imp.mu.Unlock()
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
		if err != nil {
			return err
		}
	}
	return nil
}
