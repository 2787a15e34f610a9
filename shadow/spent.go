package shadow

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"time"

	"github.com/tidwall/gjson"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/outcomes"
)

// The keys a candidate's row carries beside the outcome row, so that a restarted gateway can
// read back what the day's budget has already paid for: when the row was written (UTC,
// RFC 3339) and what the call charged the daily budget (its cost, judges included).
const (
	keyAt    = "shadowed_at"
	keySpent = "shadow_spent_usd"
)

// appendKeys adds a candidate row's keys (keyAt, keySpent) to line, a row's JSON object as an
// outcomes.Writer wrote it, ending in "}\n".
func appendKeys(line *bytes.Buffer, at time.Time, spent clearbar.Money) error {
	b := line.Bytes()
	if !bytes.HasSuffix(b, []byte("}\n")) {
		return errors.New("the row is not a JSON object on one line")
	}
	line.Truncate(len(b) - 2)
	fmt.Fprintf(line, `,%q:%q,%q:%s}`+"\n", keyAt, at.UTC().Format(time.RFC3339Nano), keySpent, spent.Decimal())
	return nil
}

// fileReader is an output the Shadower can read back: an *os.File open for reading too.
type fileReader interface {
	io.ReaderAt
	Stat() (fs.FileInfo, error)
}

// spentToday is what readSpent found: each category's spend on day, and whether it stopped at
// a candidate row that carries no time (written before rows recorded one).
type spentToday struct {
	byCategory map[string]clearbar.Money
	undated    bool
}

// readSpent reads back, from the end of an outcomes table the Shadower appends to, what each
// category's shadow calls charged the budget of day (a UTC midnight): the sum of keySpent (else
// the row's cost) over the candidates' rows whose keyAt falls on that day. Rows are appended
// in the order they are written, so it reads backwards, a chunk at a time, and stops at the
// first candidate row written before day, or at one with no keyAt: the rows before it were
// written before the time was recorded, and cannot be dated. Its cost is that of the day's
// rows, whatever the file's size. Lines that are not rows (a partial last line) are skipped.
func readSpent(r io.ReaderAt, size int64, day time.Time) (spentToday, error) {
	out := spentToday{byCategory: map[string]clearbar.Money{}}
	// visit takes one line and reports whether to stop.
	visit := func(line []byte) bool {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] != '{' {
			return false
		}
		res := gjson.GetManyBytes(line, "source", keyAt, keySpent, "cost_usd", "category")
		if res[0].String() != outcomes.SourceShadow {
			return false // the live answer's row
		}
		if !res[1].Exists() {
			out.undated = true
			return true
		}
		at, err := time.Parse(time.RFC3339Nano, res[1].String())
		switch {
		case err != nil:
			return false
		case at.Before(day):
			return true
		case !utcDay(at).Equal(day):
			return false // a later day's: the clock was set back since
		}
		raw := res[2].Raw
		if raw == "" {
			raw = res[3].Raw
		}
		var m clearbar.Money
		if raw != "" && m.UnmarshalJSON([]byte(raw)) == nil && m > 0 {
			out.byCategory[res[4].String()] += m
		}
		return false
	}
	const chunk = 64 << 10
	var carry []byte // the start of a line whose end was read already
	for end := size; end > 0; {
		n := min(int64(chunk), end)
		buf := make([]byte, n, n+int64(len(carry)))
		if _, err := r.ReadAt(buf, end-n); err != nil && !errors.Is(err, io.EOF) {
			return out, err
		}
		end -= n
		data := append(buf, carry...)
		for {
			i := bytes.LastIndexByte(data, '\n')
			if i < 0 {
				break
			}
			if visit(data[i+1:]) {
				return out, nil
			}
			data = data[:i]
		}
		carry = data
	}
	visit(carry)
	return out, nil
}

// readBack reads today's shadow spend from out when it is a regular file open for reading
// (see readSpent); it returns nil for any other output.
func readBack(out io.Writer, day time.Time) (*spentToday, error) {
	f, ok := out.(fileReader)
	if !ok {
		return nil, nil
	}
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return nil, nil
	}
	spent, err := readSpent(f, st.Size(), day)
	if err != nil {
		return nil, fmt.Errorf("shadow: reading back today's shadow spend from %s: %w", st.Name(), err)
	}
	return &spent, nil
}
