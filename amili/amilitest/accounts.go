package amilitest

import (
	"fmt"
	"net/http"
)

// Partner onboarding (partner-onboarding.txt): POST /accounts creates an account with its
// first creditor, active or not; GET /access--groups finds the account's groups; POST /users
// adds a user. Enough of the partner API for the guide's bodies to work and for tests to make
// fresh accounts and inactive creditors over HTTP.

func (s *Server) handleCreateAccount(w http.ResponseWriter, r *http.Request) {
	_, m, ok := readObject(w, r)
	if !ok {
		return
	}
	f := newFields(m)
	partner := f.str("partner", false)
	name := f.str("name", true)
	f.str("organization_no", false)
	if am := f.object("agreement_address", false); am != nil {
		readAddress(f.sub(am, "agreement_address"))
	}
	active := false
	debtDesc := ""
	if cm := f.object("initial_creditor_data", false); cm != nil {
		c := f.sub(cm, "initial_creditor_data")
		active = c.boolean("is_active")
		debtDesc = c.str("standard_debt_description", active)
		for _, k := range []string{"sender_address", "invoice_address"} {
			if am := c.object(k, active); am != nil {
				readAddress(c.sub(am, k))
			}
		}
		if pd := c.object("payout_details", active); active && pd != nil && len(pd) == 0 {
			c.fail("payout_details", "must configure at least one currency and account type")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if partner != "" && partner != s.Partner {
		f.fail("partner", fmt.Sprintf("value '%s' must exist in resource 'partners', field '_id'", partner))
	}
	if len(f.errs) > 0 {
		validationFailed(w, f.errs)
		return
	}
	st := s.st
	id := st.newID()
	st.accounts[id] = &accountRec{ID: id, Partner: partner, Name: name}
	st.addGroups(id)
	cr := st.addCreditor(id, name, active)
	if debtDesc != "" {
		cr.DebtDescription = debtDesc
	}
	now := fmtDate(s.now())
	writeJSON(w, http.StatusCreated, map[string]any{
		"_id": id, "_creditor": cr.ID, "_status": "OK", "_created": now, "_updated": now, "_etag": st.etag(id),
	})
}

// readAddress checks an address: line 1, zip code and city are required, country optional.
func readAddress(a *fields) {
	a.str("address_line_1", true)
	a.str("zip_code", true)
	a.str("city", true)
	a.str("country", false)
}

func (s *Server) handleAccessGroups(w http.ResponseWriter, r *http.Request) {
	var where map[string]any
	if ws := r.URL.Query().Get("where"); ws != "" {
		m, err := decodeObject([]byte(ws))
		if err != nil {
			writeError(w, http.StatusBadRequest, "Unable to parse `where` clause: "+err.Error(), nil)
			return
		}
		where = m
	}
	s.mu.Lock()
	items := []accessGroup{}
	for _, g := range s.st.groups {
		if a, ok := where["account"].(string); ok && a != g.Account {
			continue
		}
		if t, ok := where["type"].(string); ok && t != g.Type {
			continue
		}
		items = append(items, g)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"_items": items, "_meta": map[string]int{"page": 1, "max_results": defaultMaxResults, "total": len(items)},
	})
}

func (s *Server) handleCreateUser(w http.ResponseWriter, r *http.Request) {
	_, m, ok := readObject(w, r)
	if !ok {
		return
	}
	f := newFields(m)
	account := f.str("account", true)
	f.str("name", true)
	if em := f.object("email_data", false); em != nil {
		f.sub(em, "email_data").str("email", true)
	}
	f.boolean("is_enabled")
	f.list("data_access", false)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.accounts[account]; account != "" && !ok {
		f.fail("account", fmt.Sprintf("value '%s' must exist in resource 'accounts', field '_id'", account))
	}
	if len(f.errs) > 0 {
		validationFailed(w, f.errs)
		return
	}
	id := s.st.newID()
	now := fmtDate(s.now())
	writeJSON(w, http.StatusCreated, map[string]any{
		"_id": id, "_status": "OK", "_created": now, "_updated": now, "_etag": s.st.etag(id),
	})
}
