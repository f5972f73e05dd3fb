package mail

import (
	"crypto/rand"
	"encoding/hex"
	netmail "net/mail"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// dotAtom is RFC 5322's dot-atom-text: atext runs joined by single dots.
var dotAtom = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")

// messageID is a Message-ID valid under RFC 5322 (a dot-atom on either side of the "@"): 128
// random bits in hex and the time, at the domain of the From address (the sender's own domain),
// or "localhost" when that is not a plain domain.
func messageID(from string, now time.Time) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	left := hex.EncodeToString(b[:]) + "." + strconv.FormatInt(now.UnixNano(), 36)
	return "<" + left + "@" + idDomain(from) + ">"
}

func idDomain(from string) string {
	a, err := netmail.ParseAddress(from)
	if err != nil {
		return "localhost"
	}
	_, domain, ok := strings.Cut(a.Address, "@")
	if !ok || !dotAtom.MatchString(domain) {
		return "localhost"
	}
	return domain
}
