package outcomes

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
)

// Writer writes rows as JSON Lines, buffered: call Flush when done. For a gzip file, give it a
// gzip.Writer and close that after Flush. Text is written without HTML escaping, so prompts
// and answers stay readable.
//
// A Writer is used by one goroutine. After an error, every further Write returns it.
type Writer struct {
	bw  *bufio.Writer
	enc *json.Encoder
	err error
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer) *Writer {
	bw := bufio.NewWriterSize(w, 64<<10)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	return &Writer{bw: bw, enc: enc}
}

// Write writes one row, filling in PromptHash from Prompt when it is empty. It checks the row
// as Reader does, so that everything written can be read back.
func (w *Writer) Write(row Row) error { return w.WriteLine(row, nil) }

// WriteLine is Write for a row read with the JSON line it came from (Reader.Raw,
// ReadFileLines): what eval runs write beside the row (lineExtras), which a CSV keeps in
// columns, is written beside the row too. The line's other keys are left out.
func (w *Writer) WriteLine(row Row, line []byte) error {
	if w.err != nil {
		return w.err
	}
	if err := row.check(); err != nil {
		return fmt.Errorf("item %q: %w", row.Item, err)
	}
	ex, err := extrasOf(line)
	if err != nil {
		return fmt.Errorf("item %q: %w", row.Item, err)
	}
	var v any = &row
	if !ex.isZero() {
		v = &struct {
			*Row
			lineExtras
		}{&row, ex}
	}
	if err := w.enc.Encode(v); err != nil {
		w.err = err
		return err
	}
	return nil
}

// Flush writes any buffered rows to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	w.err = w.bw.Flush()
	return w.err
}
