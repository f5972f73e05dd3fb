package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/internal/contenthash"
)

// checkHashes recomputes every item's content hash with encoding/json: the hand-written
// encoder must produce exactly the bytes json.Marshal does.
func checkHashes(t testing.TB, reg *domain.Registration) {
	t.Helper()
	hash := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		s := sha256.Sum256(b)
		return hex.EncodeToString(s[:])
	}
	for i, it := range reg.Items {
		var want string
		if reg.Invoice != nil {
			want = hash(reg.Invoice)
		} else {
			c := reg.Case
			want = hash(contenthash.CaseItem{Debt: &c.Debts[i], Customer: c.Customer, FirstAction: c.FirstAction, Currency: c.Currency, Creditor: c.Creditor})
		}
		if it.ContentHash != want {
			t.Fatalf("item %q: content hash %s differs from the hash of json.Marshal %s", it.InvoiceNumber, it.ContentHash, want)
		}
	}
}

// checkEventHash recomputes an event's content hash with encoding/json over its payload, and
// checks that exactly the payload of its kind is set.
func checkEventHash(t testing.TB, ev *domain.Event) {
	t.Helper()
	var payload any
	n := 0
	if ev.Payment != nil {
		payload, n = ev.Payment, n+1
	}
	if ev.Crediting != nil {
		payload, n = ev.Crediting, n+1
	}
	if ev.Cancellation != nil {
		payload, n = ev.Cancellation, n+1
	}
	if n != 1 {
		t.Fatalf("event at line %d has %d payloads, want 1", ev.Line, n)
	}
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	if want := hex.EncodeToString(s[:]); ev.ContentHash != want {
		t.Fatalf("event %q: content hash %s differs from the hash of json.Marshal %s", ev.Key, ev.ContentHash, want)
	}
}
