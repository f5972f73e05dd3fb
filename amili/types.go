package amili

import "github.com/amili-import/amili-import/domain"

// The request bodies of the two registrations are domain.InvoiceRegistration and
// domain.CaseRegistration: the mapping produces exactly what is sent. The types below are
// Amili's responses and the requests that do not come from CSV files.

// InvoiceRegistered is the answer to POST /invoice--registrations.
type InvoiceRegistered struct {
	ID          string `json:"_id"`
	Status      string `json:"_status"`
	Invoice     string `json:"_invoice"`
	Case        string `json:"_case"`
	OCRNumberID string `json:"_ocr_number"`
	OCRNumber   string `json:"ocr_number_ocr"`
	Created     string `json:"_created,omitempty"`
	Updated     string `json:"_updated,omitempty"`
	ETag        string `json:"_etag,omitempty"`
}

// CaseRegistered is the answer to POST /case--registrations: one case per debt, in debt order.
type CaseRegistered struct {
	ID           string   `json:"_id"`
	Status       string   `json:"_status"`
	Cases        []string `json:"_cases"`
	OCRNumberIDs []string `json:"_ocr_numbers"`
	OCRNumbers   []string `json:"_ocr_numbers_ocr"`
	Created      string   `json:"_created,omitempty"`
	Updated      string   `json:"_updated,omitempty"`
	ETag         string   `json:"_etag,omitempty"`
}

// Uploaded is the answer to POST /media--upload/{id}: a signed URL valid for an hour.
type Uploaded struct {
	Status string `json:"_status,omitempty"`
	URL    string `json:"url"`
}

// Creditor is the part of GET /creditors/{id} that amili-import uses.
type Creditor struct {
	ID             string `json:"_id"`
	Account        string `json:"account"`
	Name           string `json:"name"`
	OrganizationNo string `json:"organization_no,omitempty"`
	IsActive       bool   `json:"is_active"`
}

// CaseDebt is a case's debt block.
type CaseDebt struct {
	InvoiceNumber                  string        `json:"invoice_number"`
	InvoiceDate                    string        `json:"invoice_date,omitempty"`
	InvoiceDueDaysAfterInvoiceDate int           `json:"invoice_due_days_after_invoice_date,omitempty"`
	InitialCapital                 domain.Amount `json:"initial_capital"`
	CapitalToClaim                 domain.Amount `json:"capital_to_claim"`
	DebtDescription                string        `json:"debt_description,omitempty"`
	PayoutReference                string        `json:"payout_reference,omitempty"`
}

// Media describes a file attached to a case, such as original_invoice.
type Media struct {
	ID          string `json:"id"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// Closed is present on a closed case.
type Closed struct {
	CloseDate string `json:"close_date"`
	Reason    string `json:"reason"`
}

// Case is the part of a case (GET /cases, GET /cases/{id}) that amili-import reads.
type Case struct {
	ID                  string   `json:"_id"`
	Created             string   `json:"_created,omitempty"`
	Updated             string   `json:"_updated,omitempty"`
	Account             string   `json:"account,omitempty"`
	Creditor            string   `json:"creditor"`
	Invoice             string   `json:"invoice,omitempty"`
	InvoiceRegistration string   `json:"invoice_registration,omitempty"`
	CaseRegistration    string   `json:"case_registration,omitempty"`
	Currency            string   `json:"currency"`
	CustomerName        string   `json:"customer_name,omitempty"`
	CustomerIDNumber    string   `json:"customer_id_number,omitempty"`
	ReferenceNumber     string   `json:"reference_number,omitempty"`
	Debt                CaseDebt `json:"debt"`
	Status              string   `json:"status"`
	State               string   `json:"state"`
	Closed              *Closed  `json:"closed,omitempty"`
	OriginalInvoice     *Media   `json:"original_invoice,omitempty"`

	// The remaining amounts are nil when Amili did not send them: unknown, which is not zero.
	TotalRemainingCapitalAmount     *domain.Amount `json:"total_remaining_capital_amount,omitempty"`
	TotalRemainingCostsAmount       *domain.Amount `json:"total_remaining_costs_amount,omitempty"`
	TotalRemainingInterestAmount    *domain.Amount `json:"total_remaining_interest_amount,omitempty"`
	TotalRemainingTransactionAmount *domain.Amount `json:"total_remaining_transaction_amount,omitempty"`
}

// Meta is Eve's paging block.
type Meta struct {
	Page       int `json:"page"`
	MaxResults int `json:"max_results"`
	Total      int `json:"total"`
}

// CaseList is one page of GET /cases.
type CaseList struct {
	Items []Case `json:"_items"`
	Meta  Meta   `json:"_meta"`
}

// CaseQuery selects cases for GET /cases. Where is Mongo-style and marshalled to JSON.
type CaseQuery struct {
	Where      map[string]any
	Page       int    // 1-based; 0 means 1
	MaxResults int    // 0 means the server's default (25); at most 100
	Sort       string // e.g. "-_created"
}

// TransactionResult is the answer to a payment, crediting or cancellation. Status holds
// _payment_status, _crediting_status or _cancellation_status, whichever the endpoint sends.
type TransactionResult struct {
	ID     string `json:"_id"`
	Status string `json:"-"`
}
