package data

import (
	"bytes"
	"strconv"
)

// numberTable is a rectangular table of numbers parsed from comma-separated
// text: rows*cols values, row by row.
type numberTable struct {
	vals       []float32
	rows, cols int
}

// parseNumbers parses comma-separated numbers, one row per line. firstLine is
// the line number of data[0] in the file, for messages. If wantCols > 0 every
// row must have that many cells; otherwise the first row sets the width.
// Lines end in \n or \r\n; blank lines at the very end are ignored, a blank
// line elsewhere is an error. Cells may be quoted and padded with spaces.
//
// Plain non-negative integers take a fast path; anything else goes through
// strconv.ParseFloat. The result never holds NaN or an infinity.
func parseNumbers(file string, data []byte, firstLine, wantCols int) (numberTable, error) {
	// Trailing blank lines.
	end := len(data)
	for end > 0 && (data[end-1] == '\n' || data[end-1] == '\r' || data[end-1] == ' ' || data[end-1] == '\t') {
		end--
	}
	data = data[:end]
	t := numberTable{cols: wantCols}
	if len(data) == 0 {
		return t, nil
	}
	lines := bytes.Count(data, []byte{'\n'}) + 1
	if wantCols > 0 {
		t.vals = make([]float32, 0, lines*wantCols)
	}
	p := 0
	line := firstLine
	for p <= len(data) {
		rowStart := len(t.vals)
		if q := skipBlank(data, p); q == len(data) || data[q] == '\n' || data[q] == '\r' {
			return t, formatErr(file, line, 0, "empty row, want %s", cellsWanted(t.cols))
		}
		col := 0
		for {
			col++
			// One cell.
			for p < len(data) && (data[p] == ' ' || data[p] == '\t') {
				p++
			}
			v, next, ok := scanInt(data, p)
			if !ok {
				var err error
				v, next, err = scanFloat(file, data, p, line, col)
				if err != nil {
					return t, err
				}
			}
			p = next
			for p < len(data) && (data[p] == ' ' || data[p] == '\t') {
				p++
			}
			t.vals = append(t.vals, v)
			if p < len(data) && data[p] == ',' {
				p++
				continue
			}
			break
		}
		// End of the row: \r?\n or the end of the data.
		if p < len(data) && data[p] == '\r' {
			p++
		}
		if p < len(data) && data[p] != '\n' {
			return t, formatErr(file, line, col, "expected a comma or the end of the line, got %q", data[p])
		}
		p++ // past '\n' (or past the end, which ends the loop)
		n := len(t.vals) - rowStart
		if t.cols == 0 {
			t.cols = n
			t.vals = append(make([]float32, 0, lines*n), t.vals...)
		} else if n != t.cols {
			return t, formatErr(file, line, 0, "row has %d cells, want %d", n, t.cols)
		}
		t.rows++
		line++
	}
	return t, nil
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
		case ',', '\n', '\r', ' ', '\t':
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
		for next < len(data) && data[next] != ',' && data[next] != '\n' && data[next] != '\r' {
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
