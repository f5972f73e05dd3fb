package importer

import (
	"os"

	"github.com/amili-import/amili-import/mapping"
)

// openReader opens the spooled copy of a file for one pass.
func (f *fileRun) openReader(spool string) (*mapping.Reader, func(), error) {
	fh, err := os.Open(spool)
	if err != nil {
		return nil, nil, err
	}
	r, err := mapping.NewReader(fh, f.name, f.imp.job.Mapping)
	if err != nil {
		fh.Close()
		return nil, nil, err
	}
	return r, func() { r.Close(); fh.Close() }, nil
}
