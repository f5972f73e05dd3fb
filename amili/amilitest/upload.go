package amilitest

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/amili-import/amili-import/amili"
)

// Upload is one file received by POST /media--upload/{id}.
type Upload struct {
	CaseID, Filename, ContentType string
	Size                          int64
	SHA256                        string // hex
}

// allowedTypes are the media types Amili accepts by default, as sniffed from the content.
var allowedTypes = map[string]bool{
	"application/pdf": true, "image/jpeg": true, "image/png": true, "image/gif": true, "image/bmp": true,
}

// handleUpload streams the multipart body: the file part is hashed and counted as it arrives,
// never held in memory, so uploads of any size cost the same.
func (s *Server) handleUpload(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.mu.Lock()
	_, known := s.st.cases[id]
	delay := s.faults.UploadLatency
	s.mu.Unlock()
	if !known {
		writeError(w, http.StatusNotFound, fmt.Sprintf("no case with id %s", id), nil)
		return
	}
	if delay > 0 && !sleep(r, delay) {
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		writeError(w, http.StatusBadRequest, "expected multipart/form-data: "+err.Error(), nil)
		return
	}
	var (
		up             Upload
		gotFile        bool
		domain, dotted string
	)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "read multipart body: "+err.Error(), nil)
			return
		}
		switch part.FormName() {
		case "file":
			if gotFile {
				writeError(w, http.StatusBadRequest, "more than one file", nil)
				return
			}
			gotFile = true
			up, err = readFilePart(part)
			if err != nil {
				writeError(w, http.StatusBadRequest, "read file: "+err.Error(), nil)
				return
			}
		case "domain":
			domain, err = readSmall(part)
		case "dotted_path":
			dotted, err = readSmall(part)
		default:
			_, err = io.Copy(io.Discard, part)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, "read multipart body: "+err.Error(), nil)
			return
		}
	}
	details := map[string]string{}
	if domain != "cases" {
		details["domain"] = fmt.Sprintf("unallowed value %q; media is uploaded to domain \"cases\"", domain)
	}
	if dotted != "original_invoice" {
		details["dotted_path"] = fmt.Sprintf("unallowed value %q; expected \"original_invoice\"", dotted)
	}
	switch {
	case !gotFile:
		details["file"] = "required field"
	case up.Size == 0:
		details["file"] = "the file is empty"
	case !allowedTypes[up.ContentType]:
		details["file"] = fmt.Sprintf("file type %s is not allowed; send PDF, JPEG, PNG, GIF or BMP", up.ContentType)
	}
	if len(details) > 0 {
		writeError(w, http.StatusBadRequest, "Bad upload", details)
		return
	}

	up.CaseID = id
	s.mu.Lock()
	c := s.st.cases[id]
	mediaID := (s.st.newID() + s.st.newID())[:32]
	c.OriginalInvoice = &amili.Media{ID: mediaID, Filename: up.Filename, ContentType: up.ContentType, Size: up.Size}
	s.st.touch(c)
	s.st.uploads[id] = append(s.st.uploads[id], up)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]string{
		"_status": "OK",
		"url":     fmt.Sprintf("%s/media/cases/%s-%s?Expires=%d", s.URL, id, mediaID, s.now().Add(3600e9).Unix()),
	})
}

// readFilePart hashes and counts the file as it streams by, sniffing its type from the start.
func readFilePart(p *multipart.Part) (Upload, error) {
	br := bufio.NewReaderSize(p, 512)
	head, err := br.Peek(512)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return Upload{}, err
	}
	ct := http.DetectContentType(head) // before the copy reuses head's buffer
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	h := sha256.New()
	n, err := io.Copy(h, br)
	if err != nil {
		return Upload{}, err
	}
	return Upload{Filename: p.FileName(), ContentType: ct, Size: n, SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// readSmall reads a short form value.
func readSmall(p *multipart.Part) (string, error) {
	b, err := io.ReadAll(io.LimitReader(p, 1024))
	return strings.TrimSpace(string(b)), err
}
