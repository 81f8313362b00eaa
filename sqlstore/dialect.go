package sqlstore

import (
	"fmt"
	"time"
)

// timeLayout renders SQLite timestamps at fixed width in UTC, so that comparing
// the text compares the times.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

// ts converts t into the value the engine stores for a timestamp column. The
// zero time is stored as NULL.
func (db *DB) ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	if db.engine == SQLite {
		return t.UTC().Format(timeLayout)
	}
	return t.UTC()
}

// timeCol scans a timestamp column of either engine into a UTC time; NULL
// becomes the zero time.
type timeCol struct{ t *time.Time }

func scanTime(t *time.Time) timeCol { return timeCol{t} }

// Scan implements sql.Scanner.
func (c timeCol) Scan(v any) error {
	switch v := v.(type) {
	case nil:
		*c.t = time.Time{}
	case time.Time:
		*c.t = v.UTC()
	case string:
		return c.parse(v)
	case []byte:
		return c.parse(string(v))
	default:
		return fmt.Errorf("scan timestamp: unsupported type %T", v)
	}
	return nil
}

func (c timeCol) parse(s string) error {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("scan timestamp %q: %w", s, err)
	}
	*c.t = t.UTC()
	return nil
}
