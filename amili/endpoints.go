package amili

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/amili-import/amili-import/domain"
)

// maxPage is the largest page Amili serves.
const maxPage = 100

// RegisterInvoice posts one invoice registration. It is sent at most once: an InDoubt error
// means it may have been stored, and it must be looked up before it is sent again.
func (c *Client) RegisterInvoice(ctx context.Context, r *domain.InvoiceRegistration) (*InvoiceRegistered, error) {
	if r == nil {
		return nil, &Error{Op: "register invoice", Class: Permanent, Err: errors.New("nil registration")}
	}
	var out InvoiceRegistered
	if err := c.postOnce(ctx, "register invoice "+r.InvoiceNumber, c.cfg.Paths.InvoiceRegistrations, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RegisterCase posts one case registration (one case per debt). Like RegisterInvoice it is sent
// at most once.
func (c *Client) RegisterCase(ctx context.Context, r *domain.CaseRegistration) (*CaseRegistered, error) {
	if r == nil {
		return nil, &Error{Op: "register case", Class: Permanent, Err: errors.New("nil registration")}
	}
	nums := make([]string, len(r.Debts))
	for i, d := range r.Debts {
		nums[i] = d.InvoiceNumber
	}
	var out CaseRegistered
	if err := c.postOnce(ctx, "register case "+strings.Join(nums, ","), c.cfg.Paths.CaseRegistrations, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetCreditor reads one creditor; the importer checks is_active once per run.
func (c *Client) GetCreditor(ctx context.Context, id string) (*Creditor, error) {
	var out Creditor
	if err := c.getOne(ctx, "get creditor "+id, c.cfg.Paths.Creditor, id, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetCase reads one case.
func (c *Client) GetCase(ctx context.Context, id string) (*Case, error) {
	var out Case
	if err := c.getOne(ctx, "get case "+id, c.cfg.Paths.Case, id, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// FindCases reads one page of cases matching q.
func (c *Client) FindCases(ctx context.Context, q CaseQuery) (*CaseList, error) {
	v := url.Values{}
	if len(q.Where) > 0 {
		w, err := json.Marshal(q.Where)
		if err != nil {
			return nil, &Error{Op: "find cases", Class: Permanent, Err: fmt.Errorf("encode where: %w", err)}
		}
		v.Set("where", string(w))
	}
	if q.Page > 0 {
		v.Set("page", strconv.Itoa(q.Page))
	}
	if q.MaxResults > 0 {
		v.Set("max_results", strconv.Itoa(min(q.MaxResults, maxPage)))
	}
	if q.Sort != "" {
		v.Set("sort", q.Sort)
	}
	var out CaseList
	r := &call{op: "find cases", method: http.MethodGet, template: c.cfg.Paths.Cases,
		path: c.cfg.Paths.Cases, query: v, kind: kindRead}
	if err := c.doJSON(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AllCases yields every case matching q, reading pages of 100 from q.Page (or 1) on. It stops at
// the first error, which it yields with a zero Case.
func (c *Client) AllCases(ctx context.Context, q CaseQuery) iter.Seq2[Case, error] {
	return func(yield func(Case, error) bool) {
		q.MaxResults = maxPage
		page := max(q.Page, 1)
		for {
			q.Page = page
			l, err := c.FindCases(ctx, q)
			if err != nil {
				yield(Case{}, err)
				return
			}
			for _, cs := range l.Items {
				if !yield(cs, nil) {
					return
				}
			}
			per := l.Meta.MaxResults
			if per <= 0 {
				per = maxPage
			}
			if len(l.Items) == 0 || len(l.Items) < per || (l.Meta.Total > 0 && page*per >= l.Meta.Total) {
				return
			}
			page++
		}
	}
}

// RegisterPayment reports a payment the debtor made to the creditor directly. Sent at most once.
func (c *Client) RegisterPayment(ctx context.Context, p *domain.Payment) (*TransactionResult, error) {
	if p == nil {
		return nil, &Error{Op: "register payment", Class: Permanent, Err: errors.New("nil payment")}
	}
	return c.transaction(ctx, "register payment "+target(p.Case, p.InvoiceNumber), c.cfg.Paths.Payments, p)
}

// RegisterCrediting credits part or all of a case. Sent at most once.
func (c *Client) RegisterCrediting(ctx context.Context, p *domain.Crediting) (*TransactionResult, error) {
	if p == nil {
		return nil, &Error{Op: "register crediting", Class: Permanent, Err: errors.New("nil crediting")}
	}
	return c.transaction(ctx, "register crediting "+target(p.Case, p.InvoiceNumber), c.cfg.Paths.Creditings, p)
}

// RegisterCancellation cancels a case. Sent at most once.
func (c *Client) RegisterCancellation(ctx context.Context, p *domain.Cancellation) (*TransactionResult, error) {
	if p == nil {
		return nil, &Error{Op: "register cancellation", Class: Permanent, Err: errors.New("nil cancellation")}
	}
	return c.transaction(ctx, "register cancellation "+target(p.Case, p.InvoiceNumber), c.cfg.Paths.Cancellations, p)
}

func target(caseID, invoiceNumber string) string {
	if caseID != "" {
		return "case " + caseID
	}
	return "invoice " + invoiceNumber
}

func (c *Client) transaction(ctx context.Context, op, path string, body any) (*TransactionResult, error) {
	var out struct {
		ID           string `json:"_id"`
		Payment      string `json:"_payment_status"`
		Crediting    string `json:"_crediting_status"`
		Cancellation string `json:"_cancellation_status"`
	}
	if err := c.postOnce(ctx, op, path, body, &out); err != nil {
		return nil, err
	}
	return &TransactionResult{ID: out.ID, Status: cmp.Or(out.Payment, out.Crediting, out.Cancellation)}, nil
}

// postOnce sends body as JSON to path with the at-most-once rules.
func (c *Client) postOnce(ctx context.Context, op, path string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return &Error{Op: op, Class: Permanent, Err: fmt.Errorf("encode request: %w", err)}
	}
	r := &call{op: op, method: http.MethodPost, template: path, path: path, body: jsonBody(b), kind: kindOnce}
	return c.doJSON(ctx, r, out)
}

// getOne reads the resource at template with {id} filled in.
func (c *Client) getOne(ctx context.Context, op, template, id string, out any) error {
	if id == "" {
		return &Error{Op: op, Class: Permanent, Err: errors.New("empty id")}
	}
	r := &call{op: op, method: http.MethodGet, template: template, path: fillID(template, id), kind: kindRead}
	return c.doJSON(ctx, r, out)
}

// doJSON runs r and decodes a successful answer into out.
func (c *Client) doJSON(ctx context.Context, r *call, out any) error {
	data, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		if r.kind == kindOnce {
			// Committed (a 2xx), but we cannot tell what was created.
			return &Error{Op: r.op, Class: InDoubt, Accepted: true, Err: fmt.Errorf("decode response: %w", err)}
		}
		return &Error{Op: r.op, Class: Permanent, Err: fmt.Errorf("decode response: %w", err)}
	}
	return nil
}

func fillID(template, id string) string {
	return strings.ReplaceAll(template, "{id}", url.PathEscape(id))
}

// RegisterEvent posts a payment, crediting or cancellation read from a file. When caseID is not
// "", the event names that case instead of its invoice number. Sent at most once, like a
// registration.
func (c *Client) RegisterEvent(ctx context.Context, e *domain.Event, caseID string) (*TransactionResult, error) {
	if e == nil {
		return nil, &Error{Op: "register event", Class: Permanent, Err: errors.New("nil event")}
	}
	switch p := e.Payload(caseID).(type) {
	case *domain.Payment:
		return c.RegisterPayment(ctx, p)
	case *domain.Crediting:
		return c.RegisterCrediting(ctx, p)
	case *domain.Cancellation:
		return c.RegisterCancellation(ctx, p)
	}
	return nil, &Error{Op: "register event", Class: Permanent, Err: fmt.Errorf("event of kind %q has no payload", e.Kind)}
}

// ErrNoLookup says the API cannot list events of a kind: its lookup path is "none", or the
// path answers 404 or 405. An event whose outcome is unknown cannot be decided by a lookup.
var ErrNoLookup = errors.New("no lookup lists such events")

// EventQuery selects past events of one kind by what they were sent with. Creditor is required;
// every other field that is not "" must match.
type EventQuery struct {
	Kind          domain.Kind
	Creditor      string
	InvoiceNumber string // as sent (an event sent with a case id has none)
	Case          string
	// Reference matches creditor_payment_reference for payments; for creditings it matches
	// creditor_reference, and credit_invoice when CreditInvoice is set.
	Reference     string
	CreditInvoice bool
}

// EventRecord is one past payment, crediting or cancellation as the API lists it.
type EventRecord struct {
	ID            string
	Case          string
	InvoiceNumber string
	Reference     string // creditor_payment_reference, creditor_reference or credit_invoice
	Amount        domain.Amount
	Currency      string
	Status        string // completed or warning
	Created       time.Time
}

// eventDoc is an event document of a listing.
type eventDoc struct {
	ID                string        `json:"_id"`
	Created           domain.Date   `json:"_created"`
	Case              string        `json:"case"`
	InvoiceNumber     string        `json:"invoice_number"`
	Amount            domain.Amount `json:"amount"`
	Currency          string        `json:"currency"`
	PaymentRef        string        `json:"creditor_payment_reference"`
	CreditorRef       string        `json:"creditor_reference"`
	CreditInvoice     string        `json:"credit_invoice"`
	PaymentStatus     string        `json:"_payment_status"`
	CreditingStatus   string        `json:"_crediting_status"`
	CancellationState string        `json:"_cancellation_status"`
}

// lookupPath is the listing path of kind k, or ErrNoLookup.
func (c *Client) lookupPath(k domain.Kind) (string, error) {
	var p string
	switch k {
	case domain.KindPayment:
		p = c.cfg.Paths.PaymentsLookup
	case domain.KindCrediting:
		p = c.cfg.Paths.CreditingsLookup
	case domain.KindCancellation:
		p = c.cfg.Paths.CancellationsLookup
	default:
		return "", fmt.Errorf("%q is not an event kind", k)
	}
	if p == NoLookup {
		return "", ErrNoLookup
	}
	return p, nil
}

// FindEvents lists the past events q selects, every page of them. It fails with an error
// wrapping ErrNoLookup when the API cannot list events of q.Kind.
func (c *Client) FindEvents(ctx context.Context, q EventQuery) ([]EventRecord, error) {
	op := "find " + string(q.Kind) + "s"
	path, err := c.lookupPath(q.Kind)
	if err != nil {
		return nil, &Error{Op: op, Class: Permanent, Err: err}
	}
	if q.Creditor == "" {
		return nil, &Error{Op: op, Class: Permanent, Err: errors.New("no creditor")}
	}
	where := map[string]string{"creditor": q.Creditor}
	for k, v := range map[string]string{"invoice_number": q.InvoiceNumber, "case": q.Case} {
		if v != "" {
			where[k] = v
		}
	}
	if q.Reference != "" {
		switch {
		case q.Kind == domain.KindPayment:
			where["creditor_payment_reference"] = q.Reference
		case q.CreditInvoice:
			where["credit_invoice"] = q.Reference
		default:
			where["creditor_reference"] = q.Reference
		}
	}
	w, err := json.Marshal(where)
	if err != nil {
		return nil, &Error{Op: op, Class: Permanent, Err: fmt.Errorf("encode where: %w", err)}
	}
	var out []EventRecord
	for page := 1; ; page++ {
		v := url.Values{"where": {string(w)}, "page": {strconv.Itoa(page)}, "max_results": {strconv.Itoa(maxPage)}}
		var l struct {
			Items []eventDoc `json:"_items"`
			Meta  Meta       `json:"_meta"`
		}
		r := &call{op: op, method: http.MethodGet, template: path, path: path, query: v, kind: kindRead}
		if err := c.doJSON(ctx, r, &l); err != nil {
			var e *Error
			if errors.As(err, &e) && (e.StatusCode == http.StatusNotFound || e.StatusCode == http.StatusMethodNotAllowed) {
				return nil, fmt.Errorf("%w: GET %s answered HTTP %d: %w", ErrNoLookup, path, e.StatusCode, err)
			}
			return nil, err
		}
		for _, d := range l.Items {
			out = append(out, EventRecord{
				ID: d.ID, Case: d.Case, InvoiceNumber: d.InvoiceNumber,
				Reference: cmp.Or(d.PaymentRef, d.CreditorRef, d.CreditInvoice),
				Amount:    d.Amount, Currency: d.Currency,
				Status:  cmp.Or(d.PaymentStatus, d.CreditingStatus, d.CancellationState),
				Created: d.Created.Time,
			})
		}
		per := cmp.Or(l.Meta.MaxResults, maxPage)
		if len(l.Items) < per || (l.Meta.Total > 0 && page*per >= l.Meta.Total) {
			return out, nil
		}
	}
}
