// Package redact makes text fit to be shown or stored: Swedish personal identity numbers are
// masked and texts from outside are bounded. The log handler, the Amili client's errors, the
// ledger's stored texts and the reports all use it, so a number is masked the same way
// wherever a person or a file sees it.
package redact

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaxText is the most bytes of one text, such as an error message from Amili, that is kept
// (stored in the ledger, shown in a summary or a report); longer texts are cut and marked.
const MaxText = 2000

// idNumber matches personnummer, samordningsnummer and organisationsnummer written with 10 or
// 12 digits, with or without a -/+ separator.
var idNumber = regexp.MustCompile(`\b((?:19|20)?\d{6})[-+]?(\d{4})\b`)

// IDNumbers replaces the last four digits of every identity number in s with ****.
func IDNumbers(s string) string {
	if !strings.ContainsAny(s, "0123456789") {
		return s
	}
	return idNumber.ReplaceAllString(s, "$1-****")
}

// truncated marks a text that Bound cut.
const truncated = " … [truncated]"

// Bound cuts s to at most max bytes (MaxText when max <= 0), at a rune boundary, marking the
// cut.
func Bound(s string, max int) string {
	if max <= 0 {
		max = MaxText
	}
	if len(s) <= max {
		return s
	}
	cut := max - len(truncated)
	if cut < 0 {
		cut = 0
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + truncated
}

// Text is IDNumbers then Bound with MaxText: what any stored or shown text from outside gets.
func Text(s string) string { return Bound(IDNumbers(s), MaxText) }
