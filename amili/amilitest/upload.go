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
	form, err := readUploadForm(mr)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), nil)
		return
	}
	if details := form.problems(); len(details) > 0 {
		writeError(w, http.StatusBadRequest, "Bad upload", details)
		return
	}

	mediaID := s.storeUpload(id, form.up)
	writeJSON(w, http.StatusCreated, map[string]string{
		"_status": "OK",
		"url":     fmt.Sprintf("%s/media/cases/%s-%s?Expires=%d", s.URL, id, mediaID, s.now().Add(3600e9).Unix()),
	})
}

// uploadForm is what a media upload's multipart body held.
type uploadForm struct {
	up             Upload // the file part, when gotFile
	gotFile        bool
	domain, dotted string
}

// readUploadForm reads the multipart body part by part: the file part streamed through
// readFilePart, unknown parts discarded. Its error is the 400's message.
func readUploadForm(mr *multipart.Reader) (uploadForm, error) {
	var form uploadForm
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return form, nil
		}
		if err != nil {
			return form, fmt.Errorf("read multipart body: %w", err)
		}
		switch part.FormName() {
		case "file":
			if form.gotFile {
				return form, errors.New("more than one file")
			}
			form.gotFile = true
			form.up, err = readFilePart(part)
			if err != nil {
				return form, fmt.Errorf("read file: %w", err)
			}
		case "domain":
			form.domain, err = readSmall(part)
		case "dotted_path":
			form.dotted, err = readSmall(part)
		default:
			_, err = io.Copy(io.Discard, part)
		}
		if err != nil {
			return form, fmt.Errorf("read multipart body: %w", err)
		}
	}
}

// problems are the form's validation errors by field, as Amili words them; empty when it is fine.
func (form uploadForm) problems() map[string]string {
	details := map[string]string{}
	if form.domain != "cases" {
		details["domain"] = fmt.Sprintf("unallowed value %q; media is uploaded to domain \"cases\"", form.domain)
	}
	if form.dotted != "original_invoice" {
		details["dotted_path"] = fmt.Sprintf("unallowed value %q; expected \"original_invoice\"", form.dotted)
	}
	switch {
	case !form.gotFile:
		details["file"] = "required field"
	case form.up.Size == 0:
		details["file"] = "the file is empty"
	case !allowedTypes[form.up.ContentType]:
		details["file"] = fmt.Sprintf("file type %s is not allowed; send PDF, JPEG, PNG, GIF or BMP", form.up.ContentType)
	}
	return details
}

// storeUpload records up as case id's original invoice and returns the new media id.
func (s *Server) storeUpload(id string, up Upload) string {
	up.CaseID = id
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.st.cases[id]
	mediaID := (s.st.newID() + s.st.newID())[:32]
	c.OriginalInvoice = &amili.Media{ID: mediaID, Filename: up.Filename, ContentType: up.ContentType, Size: up.Size}
	s.st.touch(c)
	s.st.uploads[id] = append(s.st.uploads[id], up)
	return mediaID
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
