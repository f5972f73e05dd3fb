package amili

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/amili-import/amili-import/internal/redact"
)

// errorBody is Amili's error document, which is Eve's with field messages in _error.details:
//
//	{"_status":"ERR","_error":{"code":422,"message":"...","details":{...}},"_issues":{...}}
type errorBody struct {
	Status  string          `json:"_status"`
	Error   json.RawMessage `json:"_error"`
	Issues  any             `json:"_issues"`
	Message string          `json:"message"`
}

type errorDetail struct {
	Code    json.Number `json:"code"`
	Message string      `json:"message"`
	Details any         `json:"details"`
}

// parseErrorBody fills e's Code, Message and Fields from an error response. A body that is not
// Amili's error shape leaves a short excerpt in Message.
func parseErrorBody(data []byte, e *Error) {
	var b errorBody
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return
	}
	if trimmed[0] != '{' || json.Unmarshal(trimmed, &b) != nil {
		e.Message = excerpt(trimmed)
		return
	}
	fillFromBody(&b, e)
	if e.Message == "" && e.Fields == nil && b.Status == "" {
		e.Message = excerpt(trimmed)
	}
}

// cleanTexts masks the identity numbers in Amili's texts (a validation message may quote the
// customer's personnummer) and bounds each to redact.MaxText, before anyone shows or stores them.
func cleanTexts(e *Error) {
	e.Message = redact.Text(e.Message)
	if len(e.Fields) == 0 {
		return
	}
	clean := make(map[string]string, len(e.Fields))
	for k, v := range e.Fields {
		clean[redact.Text(k)] = redact.Text(v)
	}
	e.Fields = clean
}

// statusErr returns an error when a 2xx body nevertheless says "_status": "ERR".
func statusErr(data []byte) *Error {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil
	}
	var b errorBody
	if json.Unmarshal(trimmed, &b) != nil || !strings.EqualFold(b.Status, "ERR") {
		return nil
	}
	e := &Error{}
	fillFromBody(&b, e)
	if e.Message == "" {
		e.Message = `response says "_status": "ERR"`
	}
	return e
}

// fillFromBody sets a fresh e's Code, Message and Fields from a decoded error document.
func fillFromBody(b *errorBody, e *Error) {
	fields := map[string]string{}
	if len(b.Error) > 0 {
		var d errorDetail
		var s string
		switch {
		case json.Unmarshal(b.Error, &d) == nil:
			if n, err := strconv.Atoi(d.Code.String()); err == nil {
				e.Code = n
			}
			e.Message = d.Message
			flatten("", d.Details, fields)
		case json.Unmarshal(b.Error, &s) == nil:
			e.Message = s
		}
	}
	flatten("", b.Issues, fields)
	if e.Message == "" {
		e.Message = b.Message
	}
	if msg, ok := fields[""]; ok {
		delete(fields, "")
		if e.Message == "" {
			e.Message = msg
		} else {
			e.Message += ": " + msg
		}
	}
	if len(fields) > 0 {
		e.Fields = fields
	}
	cleanTexts(e)
}

// flatten turns nested field messages into dotted keys: {"customer": {"name": "required"}}
// becomes "customer.name": "required"; lists of messages are joined with "; ", lists of
// objects get their index as a key part ("matrix.0.unit_price").
func flatten(prefix string, v any, out map[string]string) {
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	add := func(msg string) {
		if old, ok := out[prefix]; ok && old != msg {
			msg = old + "; " + msg
		}
		out[prefix] = msg
	}
	switch v := v.(type) {
	case nil:
	case map[string]any:
		for k, sub := range v {
			flatten(join(k), sub, out)
		}
	case []any:
		for i, sub := range v {
			switch sub.(type) {
			case map[string]any, []any:
				flatten(join(strconv.Itoa(i)), sub, out)
			default:
				flatten(prefix, sub, out)
			}
		}
	case string:
		add(v)
	default:
		add(fmt.Sprint(v))
	}
}

// excerpt shortens a non-JSON error body to one line for the error message.
func excerpt(b []byte) string {
	s := redact.IDNumbers(strings.Join(strings.Fields(string(b)), " "))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}
