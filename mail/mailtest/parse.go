package mailtest

import (
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"strings"
)

// Part is one decoded leaf of a received MIME message, so a test can check the HTML body,
// inline images and attachments a sender produced without parsing MIME itself.
type Part struct {
	ContentType string // media type without parameters, e.g. "text/html"
	ContentID   string // Content-ID without its angle brackets
	Disposition string // "inline", "attachment" or empty
	Filename    string // the Content-Disposition filename parameter
	Body        []byte // decoded from base64 or quoted-printable
}

// Parts decodes every leaf part of the MIME entity with header h (a net/mail or
// net/textproto header) and body, descending into multipart containers in order.
func Parts(h map[string][]string, body io.Reader) ([]Part, error) {
	get := func(k string) string {
		if v := h[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	mt, params, err := mime.ParseMediaType(get("Content-Type"))
	if err != nil {
		return nil, fmt.Errorf("content type %q: %w", get("Content-Type"), err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		var out []Part
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return out, nil
			}
			if err != nil {
				return nil, fmt.Errorf("next part: %w", err)
			}
			leaves, err := Parts(p.Header, p)
			if err != nil {
				return nil, err
			}
			out = append(out, leaves...)
		}
	}
	var r io.Reader = body
	switch strings.ToLower(get("Content-Transfer-Encoding")) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, body)
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("decode %s part: %w", mt, err)
	}
	_, dp, _ := mime.ParseMediaType(get("Content-Disposition"))
	disp, _, _ := strings.Cut(get("Content-Disposition"), ";")
	return []Part{{ContentType: mt, ContentID: strings.Trim(get("Content-Id"), "<>"), Disposition: disp,
		Filename: dp["filename"], Body: data}}, nil
}
