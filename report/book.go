package report

import (
	"context"
	"fmt"
	"time"

	"github.com/amili-import/amili-import/ledger"
)

// The book is the ledger's history up to a period's end, arranged the way the report counts
// money. Every amount belongs to a period by a moment the ledger recorded:
//
//   - a file's row counts in the file total of the period in which it was first claimed from
//     that file's content (a file is its SHA-256: a second run, or the same bytes under another
//     name, adds no row);
//   - a registration counts as registered in the period in which the ledger recorded it
//     registered (the transition into registered: Amili's answer, or the in-doubt lookup that
//     found it), and in no other;
//   - a rejection counts in the period the ledger recorded it rejected;
//   - what is claimed and not yet registered or rejected at a period's end is pending then,
//     and is brought forward into the next period.
//
// So a report depends only on what happened before its period's end: built again later it
// shows the same figures, and consecutive reports count each amount once.

// version is one content of one invoice number: from the claim that brought it (a new
// submission, or a corrected content replacing a rejected one) to its registration or
// rejection, if either happened before the book's end.
type version struct {
	origin ledger.ClaimRecord
	end    *ledger.Transition // nil: pending at the book's end
	pos    int                // the item's place in its submission
}

// registered reports whether the version ended registered.
func (v *version) registered() bool { return v.end != nil && v.end.To == ledger.StateRegistered }

// rowKind says how a file's row counts.
type rowKind int

const (
	rowOrigin   rowKind = iota + 1 // it brought a version: registered, rejected or pending
	rowAlready                     // its content was claimed from an earlier file
	rowRefused                     // its content was refused before, from an earlier file
	rowConflict                    // its invoice number is known with other content
)

// fileRow is one row of one file content: its first claim, however many runs read it.
type fileRow struct {
	claim   ledger.ClaimRecord
	kind    rowKind
	version *version // rowOrigin: the version it brought; rowAlready, rowRefused: the earlier one
}

// book holds what the ledger says up to until.
type book struct {
	until time.Time
	files map[ledger.FileID]ledger.FileInfo
	// later are the paths of files the book's records name but that the ledger recorded first
	// at or after until (a clock set back between runs): named by their paths all the same,
	// though not listed among the period's files.
	later     map[ledger.FileID]string
	subs      map[ledger.SubmissionID]ledger.Submission
	versions  []*version
	byEnd     map[int64][]*version // the versions each transition ended
	moves     []ledger.Transition
	rows      []*fileRow
	conflicts map[conflictKey]ledger.Conflict
	rowErrors []ledger.RowErrorRecord // the first record of each, in file and line order
	// creditors is the creditor each file content was imported for: that of its first claim,
	// else of a conflict it raised.
	creditors map[string]string
}

type conflictKey struct {
	file   ledger.FileID
	number string
	at     time.Time
}

// itemKey names one invoice number of one submission.
type itemKey struct {
	sub    ledger.SubmissionID
	number string
}

// rowKey names one row of one file content.
type rowKey struct {
	content, creditor, number string
}

// readBook loads the history before until.
func readBook(ctx context.Context, st Store, until time.Time) (*book, error) {
	bk := &book{until: until, files: map[ledger.FileID]ledger.FileInfo{}, later: map[ledger.FileID]string{}, subs: map[ledger.SubmissionID]ledger.Submission{},
		conflicts: map[conflictKey]ledger.Conflict{}, byEnd: map[int64][]*version{}}
	files, err := st.Files(ctx, ledger.FileFilter{FirstSeen: ledger.Period{Until: until}})
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		bk.files[f.ID] = f
	}
	subs, err := st.Submissions(ctx, ledger.SubmissionFilter{Created: ledger.Period{Until: until}})
	if err != nil {
		return nil, err
	}
	for _, s := range subs {
		bk.subs[s.ID] = s
	}
	claims, err := st.ClaimRecords(ctx, until)
	if err != nil {
		return nil, err
	}
	moves, err := st.Transitions(ctx, until)
	if err != nil {
		return nil, err
	}
	if err := bk.readProblems(ctx, st); err != nil {
		return nil, err
	}
	if err := bk.readLaterFiles(ctx, st, claims); err != nil {
		return nil, err
	}
	bk.moves = moves
	bk.arrange(claims, moves)
	return bk, nil
}

// readLaterFiles finds the paths of the files the claims, submissions and conflicts name that
// are not among the book's files; the ledger is asked only when there is one.
func (bk *book) readLaterFiles(ctx context.Context, st Store, claims []ledger.ClaimRecord) error {
	ids := map[ledger.FileID]bool{}
	add := func(id ledger.FileID) {
		if _, ok := bk.files[id]; !ok && id != 0 {
			ids[id] = true
		}
	}
	for _, c := range claims {
		add(c.File)
	}
	for _, s := range bk.subs {
		add(s.FileID)
	}
	for _, c := range bk.conflicts {
		add(c.File)
	}
	if len(ids) == 0 {
		return nil
	}
	all, err := st.Files(ctx, ledger.FileFilter{FirstSeen: ledger.Period{Since: bk.until}})
	if err != nil {
		return err
	}
	for _, f := range all {
		if ids[f.ID] {
			bk.later[f.ID] = f.Path
		}
	}
	return nil
}

// readProblems loads the conflicts and the row errors, each row error once per file content.
func (bk *book) readProblems(ctx context.Context, st Store) error {
	conf, err := st.Conflicts(ctx, ledger.Period{Until: bk.until}, "")
	if err != nil {
		return err
	}
	for _, c := range conf {
		bk.conflicts[conflictKey{c.File, c.InvoiceNumber, c.At}] = c
	}
	errs, err := st.RowErrors(ctx, ledger.Period{Until: bk.until})
	if err != nil {
		return err
	}
	type errKey struct {
		content, column, rule string
		line                  int
		warning               bool
	}
	first := map[errKey]ledger.RowErrorRecord{}
	for _, e := range errs {
		k := errKey{bk.content(e.FileID), e.Column, e.Rule, e.Line, e.Warning}
		if old, ok := first[k]; !ok || e.At.Before(old.At) {
			first[k] = e
		}
	}
	for _, e := range errs {
		k := errKey{bk.content(e.FileID), e.Column, e.Rule, e.Line, e.Warning}
		if first[k].At.Equal(e.At) && first[k].FileID == e.FileID {
			bk.rowErrors = append(bk.rowErrors, e)
			delete(first, k)
		}
	}
	return nil
}

// content is what makes files the same file: their SHA-256. It is a key, never shown: a file
// the book does not hold is a content of its own.
func (bk *book) content(id ledger.FileID) string {
	if f, ok := bk.files[id]; ok && f.SHA256 != "" {
		return f.SHA256
	}
	return fmt.Sprintf("id:%d", id)
}

// arrange pairs each item's versions with the transitions that ended them, then finds each
// file row's first claim.
func (bk *book) arrange(claims []ledger.ClaimRecord, moves []ledger.Transition) {
	ends := segmentEnds(moves)
	positions := bk.positions()
	byItem := map[itemKey][]*version{}
	for _, c := range claims {
		if c.Outcome != "new" || c.Submission == 0 {
			continue
		}
		k := itemKey{c.Submission, c.InvoiceNumber}
		v := &version{origin: c, pos: positions[k]}
		if segs := ends[c.Submission]; len(byItem[k]) < len(segs) {
			v.end = segs[len(byItem[k])]
		}
		byItem[k] = append(byItem[k], v)
		bk.versions = append(bk.versions, v)
		if v.end != nil {
			bk.byEnd[v.end.ID] = append(bk.byEnd[v.end.ID], v)
		}
	}
	seen := map[rowKey]bool{}
	for _, c := range claims {
		k := rowKey{bk.content(c.File), c.Creditor, c.InvoiceNumber}
		if seen[k] {
			continue
		}
		seen[k] = true
		bk.rows = append(bk.rows, bk.row(c, byItem[itemKey{c.Submission, c.InvoiceNumber}]))
	}
	bk.creditors = map[string]string{}
	for _, r := range bk.rows {
		if content := bk.content(r.claim.File); bk.creditors[content] == "" {
			bk.creditors[content] = r.claim.Creditor
		}
	}
	for _, c := range bk.conflicts {
		if content := bk.content(c.File); bk.creditors[content] == "" {
			bk.creditors[content] = c.Creditor
		}
	}
}

// row classifies a file row by its first claim.
func (bk *book) row(c ledger.ClaimRecord, versions []*version) *fileRow {
	r := &fileRow{claim: c}
	if c.Outcome == "conflict" {
		r.kind = rowConflict
		return r
	}
	for _, v := range versions {
		if v.origin.ID <= c.ID {
			r.version = v
		}
	}
	switch {
	case c.Outcome == "new":
		r.kind = rowOrigin
	case c.State == ledger.StateRejected:
		r.kind = rowRefused
	default:
		r.kind = rowAlready
	}
	return r
}

// positions gives each invoice number of each submission its item's index, the first when a
// number appears twice.
func (bk *book) positions() map[itemKey]int {
	pos := map[itemKey]int{}
	for id, sub := range bk.subs {
		for i, it := range sub.Items {
			if _, ok := pos[itemKey{id, it.InvoiceNumber}]; !ok {
				pos[itemKey{id, it.InvoiceNumber}] = i
			}
		}
	}
	return pos
}

// segmentEnds splits each submission's history into the lives of its contents (a corrected
// content starts a new one: rejected → claimed) and returns, for each life in order, the
// transition that ended it (into registered or rejected), or nil while it goes on.
func segmentEnds(moves []ledger.Transition) map[ledger.SubmissionID][]*ledger.Transition {
	out := map[ledger.SubmissionID][]*ledger.Transition{}
	for i := range moves {
		m := &moves[i]
		segs := out[m.Submission]
		switch {
		case m.From == "":
			out[m.Submission] = append(segs, nil)
		case m.From == ledger.StateRejected && m.To == ledger.StateClaimed:
			out[m.Submission] = append(segs, nil)
		case m.To == ledger.StateRegistered || m.To == ledger.StateRejected:
			if n := len(segs); n > 0 && segs[n-1] == nil {
				segs[n-1] = m
			}
		}
	}
	return out
}
