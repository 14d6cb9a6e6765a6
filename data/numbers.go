package data

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Limits of comma-separated text, checked as it is read.
const (
	maxCSVColumns = 1 << 20  // cells in a row: a 1024x1024 grayscale image and its label
	maxLineBytes  = 16 << 20 // bytes in a line
)

// rowReader reads comma-separated numbers from text, one row per line, a
// line at a time: the text is never held whole, and a row costs memory only
// for the cells it really has. Its reader is expected to fail once the load
// is stopped (a ctxReader). Lines end in \n or \r\n; blank lines at the
// very end are ignored, a blank line elsewhere is an error. Cells may be
// quoted and padded with spaces. Plain non-negative integers take a fast
// path; anything else goes through strconv.ParseFloat. Values are never NaN
// or infinite.
type rowReader struct {
	file  string
	a     *allowance // charged for long lines
	br    *bufio.Reader
	line  int       // the number of the line last read, from 1
	long  []byte    // a line longer than br's buffer, assembled
	row   []float32 // the cells of the row last parsed
	cols  int       // cells per row; 0 until the caller or the first row sets it
	blank int       // the first of the blank lines just read, or 0
}

func newRowReader(file string, r io.Reader, a *allowance) *rowReader {
	size := 64 << 10
	if a.size >= 0 {
		size = int(min(a.size, int64(size))) // no larger than the input
	}
	return &rowReader{file: file, a: a, br: bufio.NewReaderSize(r, size)}
}

// close gives back the memory taken for long lines.
func (r *rowReader) close() {
	r.a.give(int64(cap(r.long)))
	r.long = nil
}

// appendLong appends part of a long line to r.long, charging r.a when the
// buffer grows.
func (r *rowReader) appendLong(b []byte) error {
	if n := len(r.long) + len(b); n > cap(r.long) {
		c := max(2*cap(r.long), n)
		if err := r.a.take(int64(c)); err != nil {
			return err
		}
		r.a.give(int64(cap(r.long)))
		r.long = append(make([]byte, 0, c), r.long...)
	}
	r.long = append(r.long, b...)
	return nil
}

// readLine returns the next line without its line ending, valid until the
// next call, or io.EOF at the end of the text.
func (r *rowReader) readLine() ([]byte, error) {
	r.long = r.long[:0]
	line, err := r.br.ReadSlice('\n')
	for err == bufio.ErrBufferFull && len(r.long)+len(line) <= maxLineBytes {
		if err := r.appendLong(line); err != nil {
			return nil, err
		}
		line, err = r.br.ReadSlice('\n')
	}
	if len(r.long) > 0 && len(r.long)+len(line) <= maxLineBytes {
		if err := r.appendLong(line); err != nil {
			return nil, err
		}
		line = r.long
	} else if len(r.long) > 0 {
		return nil, formatErr(r.file, r.line+1, 0, "line longer than %s", byteSize(maxLineBytes))
	}
	switch {
	case len(line) > maxLineBytes:
		return nil, formatErr(r.file, r.line+1, 0, "line longer than %s", byteSize(maxLineBytes))
	case err == io.EOF && len(line) == 0:
		return nil, io.EOF
	case err != nil && err != io.EOF:
		return nil, readErr(r.file, err)
	}
	r.line++
	line = bytes.TrimSuffix(line, []byte{'\n'})
	return bytes.TrimSuffix(line, []byte{'\r'}), nil
}

// readErr describes a failure to read file: an interruption (which keeps
// its context error), a corrupt compressed stream or an I/O error.
func readErr(file string, err error) error {
	if stopped(err) {
		return fmt.Errorf("%s: loading interrupted: %w", file, err)
	}
	return fmt.Errorf("reading %s: %w", file, err)
}

// stopped reports whether err says that the context of a load is done.
func stopped(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// next returns the cells of the next row, valid until the next call, or
// io.EOF after the last row.
func (r *rowReader) next() ([]float32, error) {
	for {
		text, err := r.readLine()
		if err != nil {
			return nil, err
		}
		if len(bytes.Trim(text, " \t\r")) == 0 {
			if r.blank == 0 {
				r.blank = r.line
			}
			continue
		}
		return r.parse(text)
	}
}

// parse returns the cells of one line of text, the line numbered r.line.
func (r *rowReader) parse(data []byte) ([]float32, error) {
	if r.blank != 0 {
		return nil, formatErr(r.file, r.blank, 0, "empty row, want %s", cellsWanted(r.cols))
	}
	limit := r.cols
	if limit == 0 {
		limit = maxCSVColumns
	}
	row := r.row[:0]
	for p, col := 0, 1; ; col++ {
		if len(row) == limit {
			n := len(row) + 1 + bytes.Count(data[p:], []byte{','})
			if r.cols == 0 {
				return nil, formatErr(r.file, r.line, 0, "row has %d cells, more than %d", n, maxCSVColumns)
			}
			return nil, formatErr(r.file, r.line, 0, "row has %d cells, want %d", n, r.cols)
		}
		p = skipBlank(data, p)
		v, next, ok := scanInt(data, p)
		if !ok {
			var err error
			if v, next, err = scanFloat(r.file, data, p, r.line, col); err != nil {
				return nil, err
			}
		}
		row = append(row, v)
		p = skipBlank(data, next)
		if p < len(data) && data[p] == ',' {
			p++
			continue
		}
		if p < len(data) {
			return nil, formatErr(r.file, r.line, col, "expected a comma or the end of the line, got %q", data[p])
		}
		break
	}
	r.row = row
	if r.cols == 0 {
		r.cols = len(row)
	} else if len(row) != r.cols {
		return nil, formatErr(r.file, r.line, 0, "row has %d cells, want %d", len(row), r.cols)
	}
	return row, nil
}

// scanInt reads an unsigned decimal integer of at most 9 digits at data[p:]
// that ends at a cell boundary. ok is false if the cell is anything else.
func scanInt(data []byte, p int) (v float32, next int, ok bool) {
	n, i := 0, p
	for i < len(data) && i-p < 9 {
		d := data[i] - '0'
		if d > 9 {
			break
		}
		n = n*10 + int(d)
		i++
	}
	if i == p {
		return 0, p, false
	}
	if i < len(data) {
		switch data[i] {
		case ',', '\r', ' ', '\t':
		default:
			return 0, p, false
		}
	}
	return float32(n), i, true
}

// scanFloat reads any other cell at data[p:]: quoted or not, parsed with
// strconv.ParseFloat. It reports an empty or non-numeric cell.
func scanFloat(file string, data []byte, p, line, col int) (float32, int, error) {
	var cell []byte
	next := p
	if p < len(data) && data[p] == '"' {
		q := bytes.IndexByte(data[p+1:], '"')
		if q < 0 {
			return 0, p, formatErr(file, line, col, "unterminated quoted cell")
		}
		cell = bytes.TrimSpace(data[p+1 : p+1+q])
		next = p + 2 + q
	} else {
		for next < len(data) && data[next] != ',' && data[next] != '\r' {
			next++
		}
		cell = bytes.TrimRight(data[p:next], " \t")
		next = p + len(cell)
	}
	if len(cell) == 0 {
		return 0, next, formatErr(file, line, col, "empty cell, want a number")
	}
	f, err := strconv.ParseFloat(string(cell), 32)
	if err != nil || f != f || f > 3.4e38 || f < -3.4e38 {
		return 0, next, formatErr(file, line, col, "expected a number, got %q", truncate(cell, 20))
	}
	return float32(f), next, nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "..."
	}
	return string(b)
}

func skipBlank(data []byte, p int) int {
	for p < len(data) && (data[p] == ' ' || data[p] == '\t') {
		p++
	}
	return p
}

func cellsWanted(cols int) string {
	if cols == 0 {
		return "numbers"
	}
	return strconv.Itoa(cols) + " numbers"
}
