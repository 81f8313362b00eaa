package obx

import (
	"fmt"
	"time"
)

// OpeningHours is when a branch or ATM serves, in its catalog's time zone.
//
// Weekly periods may cross midnight: {Friday, 22:00, 02:00} is open from
// Friday 22:00 to Saturday 02:00. Exceptions replace the weekly periods of
// one date (a closure, shorter hours, an extra Saturday). On the bank's
// holidays a place with ClosedOnHolidays is closed unless an exception for
// that date says otherwise.
type OpeningHours struct {
	Always           bool // open 24 hours every day, holidays included, unless an exception says otherwise
	Weekly           []Period
	Exceptions       []HoursException
	ClosedOnHolidays bool
}

// Period is one span of opening on a day. Open and Close are minutes after
// midnight, 0 … 1440; Close <= Open means the period ends on the next day.
type Period struct {
	Day   time.Weekday // ignored inside an exception
	Open  int
	Close int
}

// HoursException replaces the hours of one date.
type HoursException struct {
	Date    string // YYYY-MM-DD
	Closed  bool   // closed all day; Periods is then empty
	Periods []Period
	Reason  string
}

// Clock formats minutes after midnight as HH:MM ("24:00" for 1440).
func Clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// ParseClock reads HH:MM, 00:00 … 24:00, into minutes after midnight.
func ParseClock(s string) (int, error) {
	if len(s) != 5 || s[2] != ':' || !allDigits(s[:2]) || !allDigits(s[3:]) {
		return 0, Errorf(EINVALID, "%q is not a time of day HH:MM.", s)
	}
	h, m := int(s[0]-'0')*10+int(s[1]-'0'), int(s[3]-'0')*10+int(s[4]-'0')
	if h > 24 || m > 59 || h == 24 && m != 0 {
		return 0, Errorf(EINVALID, "%q is not a time of day HH:MM.", s)
	}
	return h*60 + m, nil
}

// dateLayout is the layout of holiday and exception dates.
const dateLayout = "2006-01-02"

// HolidaySet is the set of a bank's holiday dates, YYYY-MM-DD.
type HolidaySet map[string]bool

// NewHolidaySet returns the set of hs's dates.
func NewHolidaySet(hs []Holiday) HolidaySet {
	s := HolidaySet{}
	for _, h := range hs {
		s[h.Date] = true
	}
	return s
}

// LocalTime is an instant read on one bank's calendar: what OpenDuring needs,
// computed once per bank rather than once per place.
type LocalTime struct {
	Minute           int // minutes after local midnight
	Today            string
	Weekday          time.Weekday
	Yesterday        string
	YesterdayDay     time.Weekday
	Holiday          bool // today is one of the bank's holidays
	HolidayYesterday bool
}

// NewLocalTime reads t in loc against the bank's holidays.
func NewLocalTime(t time.Time, loc *time.Location, holidays HolidaySet) LocalTime {
	lt := t.In(loc)
	y := lt.AddDate(0, 0, -1)
	l := LocalTime{Minute: lt.Hour()*60 + lt.Minute(), Today: lt.Format(dateLayout), Weekday: lt.Weekday(),
		Yesterday: y.Format(dateLayout), YesterdayDay: y.Weekday()}
	l.Holiday, l.HolidayYesterday = holidays[l.Today], holidays[l.Yesterday]
	return l
}

// OpenAt reports whether the place is open at t, read in loc, given the bank's
// holidays. A period open at 22:00 on a date and closing at 02:00 counts
// on the next date until 02:00, whatever that next date is (a holiday too).
func (h *OpeningHours) OpenAt(t time.Time, loc *time.Location, holidays HolidaySet) bool {
	return h.OpenDuring(NewLocalTime(t, loc, holidays))
}

// OpenDuring is OpenAt for a time already read on the bank's calendar. It
// runs for every candidate place of a nearby search, so it allocates nothing.
func (h *OpeningHours) OpenDuring(l LocalTime) bool {
	ps, dated, all := h.periodsOn(l.Today, l.Holiday)
	if all {
		return true
	}
	for _, p := range ps {
		if !dated && p.Day != l.Weekday {
			continue
		}
		if p.Close > p.Open && l.Minute >= p.Open && l.Minute < p.Close || p.Close <= p.Open && l.Minute >= p.Open {
			return true
		}
	}
	ps, dated, _ = h.periodsOn(l.Yesterday, l.HolidayYesterday) // a whole day ends at midnight
	for _, p := range ps {
		if !dated && p.Day != l.YesterdayDay {
			continue
		}
		if p.Close <= p.Open && l.Minute < p.Close { // yesterday's period running past midnight
			return true
		}
	}
	return false
}

// periodsOn returns the periods that may start on date: an exception's
// (dated: they apply whatever their Day), the weekly ones (only those of the
// date's weekday apply), none on a holiday, or all for a 24-hour day.
func (h *OpeningHours) periodsOn(date string, holiday bool) (ps []Period, dated, all bool) {
	for i := range h.Exceptions {
		if e := &h.Exceptions[i]; e.Date == date {
			return e.Periods, true, false
		}
	}
	if h.Always {
		return nil, false, true
	}
	if h.ClosedOnHolidays && holiday {
		return nil, false, false
	}
	return h.Weekly, false, false
}

// validate appends the problems of h to r under record.
func (h *OpeningHours) validate(r *problems, record string) {
	checkPeriod := func(field string, p Period) {
		if p.Day < time.Sunday || p.Day > time.Saturday {
			r.add(record, field+".day", "must be a weekday")
		}
		if p.Open < 0 || p.Open >= 1440 || p.Close < 0 || p.Close > 1440 {
			r.add(record, field, "open must be 00:00 … 23:59 and close 00:00 … 24:00")
		}
		if p.Open == p.Close && p.Close != 0 {
			r.add(record, field, "open and close are equal")
		}
	}
	if !h.Always && len(h.Weekly) == 0 && len(h.Exceptions) == 0 {
		r.add(record, "hours", "no opening hours: give weekly periods or always")
	}
	for i, p := range h.Weekly {
		checkPeriod(fmt.Sprintf("hours.weekly[%d]", i), p)
	}
	seen := map[string]bool{}
	for i, e := range h.Exceptions {
		field := fmt.Sprintf("hours.exceptions[%d]", i)
		if _, err := time.Parse(dateLayout, e.Date); err != nil {
			r.add(record, field+".date", "must be a date YYYY-MM-DD")
		}
		if seen[e.Date] {
			r.add(record, field+".date", "another exception has the same date")
		}
		seen[e.Date] = true
		if e.Closed && len(e.Periods) > 0 {
			r.add(record, field, "closed but has periods")
		}
		if !e.Closed && len(e.Periods) == 0 {
			r.add(record, field, "neither closed nor any periods")
		}
		for j, p := range e.Periods {
			p.Day = time.Sunday // ignored in exceptions
			checkPeriod(fmt.Sprintf("%s.periods[%d]", field, j), p)
		}
	}
}
