package ledger

import (
	"time"

	"github.com/amili-import/amili-import/domain"
)

// State is where a submission is in its life. See Transition for the legal moves.
//
//	claimed ─► sending ─► registered ─► uploaded   (done)
//	   │          │            └──────► no_pdf     (done, flagged in the report)
//	   │          └─► in doubt after a crash: found at Amili → registered; not found → claimed
//	   └─► rejected (Amili 4xx, or the PDF missing under pdf: required; reason kept)
//
// A later file with other content for a rejected invoice number may claim it again.
type State string

// The submission states.
const (
	StateClaimed    State = "claimed"
	StateSending    State = "sending"
	StateRegistered State = "registered"
	StateUploaded   State = "uploaded"
	StateNoPDF      State = "no_pdf"
	StateRejected   State = "rejected"
)

// PDFState is the state of one item's original invoice.
type PDFState string

// The PDF states of an item.
const (
	PDFPending  PDFState = "pending"  // not yet uploaded
	PDFUploaded PDFState = "uploaded" // attached to the item's case
	PDFMissing  PDFState = "missing"  // no PDF (pdf: optional), or Amili refused it
)

// RunID, FileID and SubmissionID are the ledger's row ids.
type (
	RunID        int64
	FileID       int64
	SubmissionID int64
)

// FileRecord identifies a file seen by a run. The same bytes under another name have the
// same SHA256 and are recognised.
type FileRecord struct {
	Path   string // where it was found (source-relative name or sftp:// URL)
	Size   int64
	SHA256 string // hex
}

// FileOutcome is how a file ended.
type FileOutcome string

// The file outcomes.
const (
	FileDone      FileOutcome = "done"      // every registration reached a final state or was skipped
	FilePartial   FileOutcome = "partial"   // some registrations still need work (a later run resumes)
	FileFailed    FileOutcome = "failed"    // a file-level error stopped it before anything was sent
	FileDuplicate FileOutcome = "duplicate" // the same bytes were already done under some name
)

// ClaimRequest asks to take one registration for sending.
type ClaimRequest struct {
	// Owner is the claiming process's owner id (see Join); "" claims without ownership.
	Owner    string
	Run      RunID
	File     FileID
	Line     int
	Kind     domain.Kind
	Creditor string
	Items    []domain.Item // one for an invoice; one per debt for a case registration
}

// ClaimOutcome says what the importer must do with a claimed registration.
type ClaimOutcome int

// The claim outcomes.
const (
	// ClaimNew: first time seen (or a corrected version of a rejected one); now claimed. Send it.
	ClaimNew ClaimOutcome = iota + 1
	// ClaimResume: the same content is claimed or registered from an earlier, unfinished run.
	// Claimed: send it. Registered: upload the PDFs still pending.
	ClaimResume
	// ClaimInDoubt: an earlier run crashed or lost the answer while sending. Look it up at Amili
	// before anything else.
	ClaimInDoubt
	// ClaimDone: the same content already reached a final state. Skip and count.
	ClaimDone
	// ClaimConflict: an item's invoice number is known with other content. Never sent; recorded
	// with both hashes.
	ClaimConflict
	// ClaimBusy: another live process owns the submission (Claim.Holder). Leave it to that
	// process; nothing was recorded.
	ClaimBusy
)

// Claim is the answer to a ClaimRequest.
type Claim struct {
	Outcome    ClaimOutcome
	Submission Submission
	// ConflictItem, OldHash and NewHash describe a conflict.
	ConflictItem string
	OldHash      string
	NewHash      string
	// Holder is the live owner of a busy submission.
	Holder OwnerInfo
	// TakenOver describes the owner whose work this claim took over ("" for none).
	TakenOver string
}

// Submission is one registration: one POST to Amili.
type Submission struct {
	ID       SubmissionID
	Kind     domain.Kind
	Creditor string
	State    State
	Items    []SubmissionItem
	// Amili's ids, set once registered.
	RegistrationID string
	InvoiceID      string // invoice registrations only
	Attempts       int
	LastError      string
	FileID         FileID
	Line           int
	Created        time.Time
	Updated        time.Time
	// Owner is the id of the process that owns it ("" for none).
	Owner string
	// AttemptAt is when its POST last may have gone on the wire (zero: never sent).
	AttemptAt time.Time
	// Accepted is when Amili answered 2xx to a POST whose answer could not be read (zero: not
	// so). Such a submission is never sent again; its ids come from a lookup.
	Accepted time.Time
}

// SubmissionItem is one invoice number inside a submission, with its own case.
type SubmissionItem struct {
	domain.Item
	CaseID    string
	OCRNumber string
	PDFState  PDFState
	PDFError  string
	// PDFAttemptAt is when the PDF's upload last may have gone on the wire (zero: never).
	PDFAttemptAt time.Time
}

// Registered is what Amili answered (or what an in-doubt lookup found).
type Registered struct {
	RegistrationID string
	InvoiceID      string
	// Cases holds the case id and OCR number of each item, in item order.
	Cases []CaseRef
	// Recovered marks ids found by looking the registration up after an in-doubt send.
	Recovered bool
}

// CaseRef is the case Amili made for one item.
type CaseRef struct {
	CaseID    string
	OCRNumber string
}

// Event is one entry of a submission's append-only history.
type Event struct {
	At  time.Time
	Run RunID
	// Job and RunStarted name the run for a person: its job and when it started (zero when
	// the event belongs to no run).
	Job        string
	RunStarted time.Time
	From       State // "" for the first claim
	To         State
	Detail     string
}
