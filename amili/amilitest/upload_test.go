package amilitest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"testing"
)

// upload posts a multipart upload the way the guide's examples build it (file first); an
// empty name leaves the part out.
func upload(t testing.TB, s *Server, caseID, filename string, content []byte, domain, dotted string) (int, map[string]any) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if filename != "" {
		fw, _ := mw.CreateFormFile("file", filename)
		fw.Write(content)
	}
	if domain != "" {
		mw.WriteField("domain", domain)
	}
	if dotted != "" {
		mw.WriteField("dotted_path", dotted)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", s.URL+"/media--upload/"+caseID, &buf)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	b, _ := io.ReadAll(resp.Body)
	json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

func TestUpload(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	caseID := post(t, s, "/invoice--registrations", testdata(t, "invoice.json"), http.StatusCreated)["_case"].(string)
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("stream of invoice bytes\n"), 5000)...)
	sum := sha256.Sum256(pdf)

	t.Run("OK", func(t *testing.T) {
		code, body := upload(t, s, caseID, "INV-2025-015.pdf", pdf, "cases", "original_invoice")
		if code != http.StatusCreated || body["_status"] != "OK" || body["url"] == "" {
			t.Fatalf("upload: %d %v", code, body)
		}
		ups := s.Uploads(caseID)
		if len(ups) != 1 {
			t.Fatalf("Uploads = %v", ups)
		}
		u := ups[0]
		if u.SHA256 != hex.EncodeToString(sum[:]) || u.Size != int64(len(pdf)) || u.ContentType != "application/pdf" || u.Filename != "INV-2025-015.pdf" {
			t.Errorf("upload recorded %+v, want size %d sha256 %x pdf", u, len(pdf), sum)
		}
		c := get(t, s, "/cases/"+caseID)
		oi, _ := c["original_invoice"].(map[string]any)
		if oi == nil || oi["filename"] != "INV-2025-015.pdf" || oi["size"] != float64(len(pdf)) || oi["content_type"] != "application/pdf" || oi["id"] == "" {
			t.Errorf("original_invoice = %v", oi)
		}
		if got := s.Cases()[0].OriginalInvoice; got == nil || got.Size != int64(len(pdf)) {
			t.Errorf("Cases()[0].OriginalInvoice = %+v", got)
		}
	})
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	if code, body := upload(t, s, caseID, "scan.png", png, "cases", "original_invoice"); code != http.StatusCreated {
		t.Errorf("PNG upload: %d %v", code, body)
	}

	for _, tc := range []struct {
		name, id, filename, domain, dotted string
		content                            []byte
		wantCode                           int
		field                              string
	}{
		{"BadDomain", caseID, "a.pdf", "invoices", "original_invoice", pdf, 400, "domain"},
		{"BadDottedPath", caseID, "a.pdf", "cases", "attachments", pdf, 400, "dotted_path"},
		{"MissingFile", caseID, "", "cases", "original_invoice", nil, 400, "file"},
		{"DisallowedType", caseID, "a.pdf", "cases", "original_invoice", []byte("just some text, not a PDF"), 400, "file"},
		{"EmptyFile", caseID, "a.pdf", "cases", "original_invoice", []byte{}, 400, "file"},
		{"UnknownCase", "0123456789abcdef01234567", "a.pdf", "cases", "original_invoice", pdf, 404, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := upload(t, s, tc.id, tc.filename, tc.content, tc.domain, tc.dotted)
			assertAPIError(t, code, body, tc.wantCode, tc.field)
		})
	}
	if n := len(s.Uploads(caseID)); n != 2 {
		t.Errorf("refused uploads were recorded: %d uploads, want 2", n)
	}
}
