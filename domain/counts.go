package domain

import "encoding/json"

// Counts are the figures of a file or a run: what the summary prints, the ledger stores, the
// metrics count and the log lines carry, under the JSON names of its tags.
type Counts struct {
	Rows            int `json:"rows"`          // data rows read
	Registrations   int `json:"registrations"` // registrations built from valid rows
	Registered      int `json:"registered"`    // registered at Amili in this run (incl. in-doubt ones found there)
	PDFsAttached    int `json:"pdfs_attached"`
	NoPDF           int `json:"no_pdf"`
	AlreadyImported int `json:"already_imported"` // skipped: the same content was already registered
	Conflicts       int `json:"conflicts"`
	Rejected        int `json:"rejected"` // rows refused by validation plus registrations refused by Amili
	InDoubtResolved int `json:"in_doubt_resolved"`
	Failed          int `json:"failed"` // registrations left unfinished (transient failures); a rerun resumes
	// Pending counts registrations left for later that are not failures: in doubt within the
	// grace period (or accepted by Amili and not yet found), or being worked on by another run.
	Pending int `json:"pending"`
	// Resumed counts registrations of an earlier run that this run only finished: their PDFs.
	Resumed int `json:"resumed"`
}

// countField is one figure: its JSON name, the Go name ledgers of earlier versions stored it
// under, and where it is.
type countField struct {
	name, legacy string
	v            *int
}

func (c *Counts) fields() []countField {
	return []countField{
		{"rows", "Rows", &c.Rows}, {"registrations", "Registrations", &c.Registrations},
		{"registered", "Registered", &c.Registered}, {"pdfs_attached", "PDFsAttached", &c.PDFsAttached},
		{"no_pdf", "NoPDF", &c.NoPDF}, {"already_imported", "AlreadyImported", &c.AlreadyImported},
		{"conflicts", "Conflicts", &c.Conflicts}, {"rejected", "Rejected", &c.Rejected},
		{"in_doubt_resolved", "InDoubtResolved", &c.InDoubtResolved}, {"failed", "Failed", &c.Failed},
		{"pending", "Pending", &c.Pending}, {"resumed", "Resumed", &c.Resumed},
	}
}

// Add returns the sum of c and o, figure by figure.
func (c Counts) Add(o Counts) Counts {
	of := o.fields()
	for i, f := range c.fields() {
		*f.v += *of[i].v
	}
	return c
}

// LogAttrs is c as slog key-value pairs under the JSON names.
func (c Counts) LogAttrs() []any {
	fs := c.fields()
	out := make([]any, 0, 2*len(fs))
	for _, f := range fs {
		out = append(out, f.name, *f.v)
	}
	return out
}

// UnmarshalJSON reads the JSON names, and the Go field names that ledgers of earlier versions
// stored.
func (c *Counts) UnmarshalJSON(b []byte) error {
	var m map[string]int
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	for _, f := range c.fields() {
		if v, ok := m[f.name]; ok {
			*f.v = v
		} else {
			*f.v = m[f.legacy]
		}
	}
	return nil
}
