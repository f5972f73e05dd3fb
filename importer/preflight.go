package importer

import (
	"context"
	"errors"
	"fmt"
	"strings"

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

// errCreditorRefused marks a creditor that Amili does not know or says is not active: the rows
// naming it are refused, the others go on.
var errCreditorRefused = errors.New("creditor refused")

// rowCreditor says whether rows may name creditor id. refused is the rule a row naming it
// breaks ("" when the creditor is active); err is what stops the run instead (credentials
// refused, Amili unreachable). Each creditor is asked once per run.
func (imp *Importer) rowCreditor(ctx context.Context, id string) (refused string, err error) {
	imp.mu.Lock()
	known, seen := imp.creditors[id]
	imp.mu.Unlock()
	if !seen {
		known = imp.askCreditor(ctx, id)
		if amili.ClassOf(known) == amili.Retryable {
			return "", fmt.Errorf("%w: creditor %s: %w", ErrCannotStart, id, known)
		}
		imp.mu.Lock()
		imp.creditors[id] = known
		imp.mu.Unlock()
	}
	switch {
	case known == nil:
		return "", nil
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
