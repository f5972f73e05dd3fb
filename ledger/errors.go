package ledger

import (
	"errors"
	"fmt"

	"github.com/amili-import/amili-import/internal/redact"
	"github.com/mattn/go-sqlite3"
)

// The ledger's error values. Callers test for them with errors.Is.
var (
	// ErrNotFound: the row asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrDuplicate: a row with the same unique key exists (an invoice number already held by
	// another submission, a report period already recorded).
	ErrDuplicate = errors.New("already exists")
	// ErrIllegalTransition: the state change is not in the table of legal transitions.
	ErrIllegalTransition = errors.New("illegal state transition")
	// ErrInvalid: the arguments break a rule of the ledger (a bad item index, an empty
	// registration, an unknown state).
	ErrInvalid = errors.New("invalid argument")
	// ErrCasesUnaccounted: a registration's answer does not give every item a case of its own
	// (a case id missing, or one already held by another item). Nothing is recorded from it.
	ErrCasesUnaccounted = errors.New("the answer does not account for every item's case")
	// ErrCorrupt: the database file failed its integrity check or is not a SQLite database.
	ErrCorrupt = errors.New("ledger damaged")
	// ErrSchema: the database's schema is newer than this program, or a read-only open found it
	// not yet migrated.
	ErrSchema = errors.New("ledger schema mismatch")
	// ErrLeaseLost: the lease expired and another owner took it, or it was released.
	ErrLeaseLost = errors.New("lease lost")
	// ErrOwnerLost: the owner's heartbeat lapsed (or it left); it may not send any more.
	ErrOwnerLost = errors.New("ledger ownership lost")
	// ErrFenced: the submission is not, or no longer, the caller's to send: another process took
	// it over, or the caller's ownership lapsed. Nothing was changed, and nothing may be sent.
	ErrFenced = errors.New("not this process's to send")
	// ErrReadOnly: a write to a ledger opened read-only.
	ErrReadOnly = errors.New("ledger opened read-only")
)

// TransitionError is returned for a state change that the state machine does not allow.
// Nothing was changed.
type TransitionError struct {
	Submission SubmissionID
	From, To   State
}

func (e *TransitionError) Error() string {
	from := string(e.From)
	if from == "" {
		from = "(new)"
	}
	return fmt.Sprintf("submission %d: %s → %s is not allowed", e.Submission, from, e.To)
}

// Is makes errors.Is(err, ErrIllegalTransition) true.
func (e *TransitionError) Is(target error) bool { return target == ErrIllegalTransition }

// dbError turns SQLite constraint failures into the ledger's error values, keeping the
// original for the message.
func dbError(err error) error {
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.ExtendedCode {
	case sqlite3.ErrConstraintUnique, sqlite3.ErrConstraintPrimaryKey:
		return fmt.Errorf("%w: %v", ErrDuplicate, err)
	case sqlite3.ErrConstraintForeignKey:
		return fmt.Errorf("%w: refers to a missing row: %v", ErrNotFound, err)
	case sqlite3.ErrConstraintCheck, sqlite3.ErrConstraintNotNull:
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	switch se.Code {
	case sqlite3.ErrCorrupt, sqlite3.ErrNotADB:
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return err
}

// storedText is what the ledger keeps of a text it is given (a reason, an event's detail, a
// file's error): identity numbers masked and at most redact.MaxText bytes, whoever built it.
// Texts often quote what Amili answered, and the ledger outlives every log.
func storedText(s string) string { return redact.Text(s) }
