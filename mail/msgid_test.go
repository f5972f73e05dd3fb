package mail

import (
	"bytes"
	"context"
	netmail "net/mail"
	"regexp"
	"testing"
)

// atext is RFC 5322's atext; a dot-atom-text is atext runs joined by single dots.
const atext = "[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"

// msgID is RFC 5322's msg-id: "<" id-left "@" id-right ">", both dot-atom-text here.
var msgID = regexp.MustCompile(`^<` + atext + `(\.` + atext + `)*@` + atext + `(\.` + atext + `)*>$`)

// Every Message-ID the sender writes is a valid RFC 5322 msg-id (no dot at either end of a
// part, no two dots together) and unique.
func TestMessageIDsAreValid(t *testing.T) {
	srv := startServer(t)
	s, err := New(configFor(t, srv, "s3cret"))
	if err != nil {
		t.Fatal(err)
	}
	const n = 120
	for range n {
		if err := s.Send(context.Background(), Message{Subject: "r", HTML: "<p>r</p>"}); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	bad := 0
	for _, m := range srv.Messages() {
		msg, err := netmail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Fatal(err)
		}
		id := msg.Header.Get("Message-ID")
		if !msgID.MatchString(id) {
			bad++
			t.Errorf("Message-ID %q is not an RFC 5322 msg-id", id)
		}
		if seen[id] {
			t.Errorf("Message-ID %q sent twice", id)
		}
		seen[id] = true
	}
	t.Logf("%d messages, %d invalid Message-IDs", len(srv.Messages()), bad)
	if len(seen) != n {
		t.Errorf("%d distinct Message-IDs, want %d", len(seen), n)
	}
}
