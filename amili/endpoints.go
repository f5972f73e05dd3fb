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
