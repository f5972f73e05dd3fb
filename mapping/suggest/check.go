package suggest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/internal/logging"
	"github.com/amili-import/amili-import/mapping"
)

// maxErrors is how many problems a Result keeps.
const maxErrors = 5

// Result is a dry run of a mapping file over the export it was proposed for.
type Result struct {
	// Registrations is the number of registrations that would be sent.
	Registrations int
	// Rows is the number of data rows read; BadRows those with an error.
	Rows, BadRows int
	// Warnings counts the problems that do not stop a row.
	Warnings int
	// FileError is the problem that refused the file, if one did.
	FileError string
	// FirstErrors are the first problems, identity numbers masked.
	FirstErrors []string
}

// Check parses mappingYAML with the mapping package's own loader and reads data through it, as
// import --dry-run does. A mapping that does not load is an error; a file the mapping refuses is
// a Result with FileError. opts.Layout is set from mappingYAML; an empty opts.Creditor is
// filled with a stand-in, since the creditor comes from the configuration, not the mapping.
func Check(mappingYAML, data []byte, name string, opts mapping.Options) (Result, error) {
	layout, err := mapping.ParseLayout(mappingYAML, "proposal")
	if err != nil {
		return Result{}, fmt.Errorf("load the proposed mapping: %w", err)
	}
	opts.Layout = layout
	if opts.Creditor == "" {
		opts.Creditor = "configured-creditor"
	}
	var res Result
	rd, err := mapping.NewReader(bytes.NewReader(data), name, opts)
	if err != nil {
		res.FileError = logging.MaskIDNumbers(err.Error())
		return res, nil
	}
	defer rd.Close()
	for {
		reg, rowErrs, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			res.FileError = logging.MaskIDNumbers(err.Error())
			break
		}
		res.add(rowErrs)
		if reg != nil {
			res.Registrations++
		}
	}
	res.Rows = rd.Rows()
	return res, nil
}

func (res *Result) add(rowErrs []domain.RowError) {
	bad := map[int]bool{}
	for _, re := range rowErrs {
		prefix := "error: "
		if re.Warning {
			res.Warnings++
			prefix = "warning: "
		} else if !bad[re.Line] {
			bad[re.Line] = true
			res.BadRows++
		}
		if len(res.FirstErrors) < maxErrors {
			res.FirstErrors = append(res.FirstErrors, prefix+logging.MaskIDNumbers(re.Error()))
		}
	}
}

// OK reports a file read to its end with no row error.
func (res Result) OK() bool { return res.FileError == "" && res.BadRows == 0 }

// Comment renders the result as YAML comment lines, to end the proposed mapping file with.
func (res Result) Comment() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# Dry run of this mapping: %d rows read, %d registrations valid, %d rows with errors, %d warnings.\n",
		res.Rows, res.Registrations, res.BadRows, res.Warnings)
	if res.FileError != "" {
		fmt.Fprintf(&b, "# The file is refused: %s\n", oneLine(res.FileError))
	}
	for _, e := range res.FirstErrors {
		fmt.Fprintf(&b, "#   %s\n", oneLine(e))
	}
	return b.String()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
