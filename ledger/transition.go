package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
)

// legal is the state machine, the only place that says which moves are allowed. The empty
// state is "not yet in the ledger".
//
//	""         → claimed
//	claimed    → sending (before the POST), rejected (refused before sending)
//	sending    → registered (answer or in-doubt lookup found it), claimed (provably not sent),
//	             rejected (Amili 4xx)
//	registered → uploaded (every PDF attached), no_pdf (some PDF missing)
//	rejected   → claimed (a corrected file)
var legal = map[State][]State{
	"":              {StateClaimed},
	StateClaimed:    {StateSending, StateRejected},
	StateSending:    {StateRegistered, StateClaimed, StateRejected},
	StateRegistered: {StateUploaded, StateNoPDF},
	StateRejected:   {StateClaimed},
}

// Legal reports whether a submission may move from one state to another.
func Legal(from, to State) bool { return slices.Contains(legal[from], to) }

// transition moves submission id to state to inside tx, after checking the move is legal, runs
// apply for the columns that change with it, and appends the event. An illegal move returns a
// *TransitionError and changes nothing (the caller rolls tx back).
func (l *Ledger) transition(ctx context.Context, tx *writeTx, id SubmissionID, to State, detail string, apply func() error) error {
	from, err := stateOf(ctx, tx, id)
	if err != nil {
		return err
	}
	if !Legal(from, to) {
		return &TransitionError{Submission: id, From: from, To: to}
	}
	if apply != nil {
		if err := apply(); err != nil {
			return err
		}
	}
	now := l.nowText()
	if _, err := tx.ExecContext(ctx, "UPDATE submissions SET state = ?, updated = ? WHERE id = ?", to, now, id); err != nil {
		return err
	}
	return l.appendEvent(ctx, tx, id, from, to, detail, now)
}

// note appends an event that changes no state (a transient failure, one PDF's outcome).
func (l *Ledger) note(ctx context.Context, tx *writeTx, id SubmissionID, detail string) error {
	st, err := stateOf(ctx, tx, id)
	if err != nil {
		return err
	}
	now := l.nowText()
	if _, err := tx.ExecContext(ctx, "UPDATE submissions SET updated = ? WHERE id = ?", now, id); err != nil {
		return err
	}
	return l.appendEvent(ctx, tx, id, st, st, detail, now)
}

// stateOf reads submission id's state inside tx; a missing submission wraps ErrNotFound.
func stateOf(ctx context.Context, tx *writeTx, id SubmissionID) (State, error) {
	var st State
	err := tx.QueryRowContext(ctx, "SELECT state FROM submissions WHERE id = ?", id).Scan(&st)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("submission %d: %w", id, ErrNotFound)
	}
	return st, err
}

// appendEvent writes one history entry, attributed to the run working on the submission.
func (l *Ledger) appendEvent(ctx context.Context, tx *writeTx, id SubmissionID, from, to State, detail, at string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO events (submission_id, run_id, at, from_state, to_state, detail)
		SELECT id, run_id, ?, ?, ?, ? FROM submissions WHERE id = ?`, at, from, to, storedText(detail), id)
	return err
}
