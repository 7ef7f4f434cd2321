package queues

import (
	"time"
)

// The schedule: whether a queue takes chats at a moment. Hours and
// holidays are wall-clock times in the queue's TimeZone, so a span
// "09:00"–"17:00" is open from nine to five local time on every day of
// the year, summer time or not: a moment is placed on its local date and
// clock, never by adding hours to midnight. On the day clocks go forward
// the hour that does not exist is simply never reached; on the day they go
// back the hour that happens twice is inside or outside a span both times.

// OpenAt reports whether the queue takes chats at t: not disabled, t's
// date in the queue's TimeZone not a holiday, and t's local clock within
// one of that weekday's spans (From included, To excluded; "24:00" is the
// end of the day). Nil Hours is always open (holidays still close it).
func (q Queue) OpenAt(t time.Time) bool {
	if q.Disabled {
		return false
	}
	local := t.In(q.location())
	if q.holiday(local) {
		return false
	}
	if q.Hours == nil {
		return true
	}
	_, ok := q.spanAt(local)
	return ok
}

// ClosesAt is when the queue, open at t, closes next: the end of the span
// t is in, or of the spans that follow it without a gap (a day open until
// "24:00" and the next from "00:00" are one opening). ok is false when it
// is not open at t, or does not close within a week (open around the
// clock, without holidays ahead).
func (q Queue) ClosesAt(t time.Time) (end time.Time, ok bool) {
	if !q.OpenAt(t) {
		return time.Time{}, false
	}
	loc := q.location()
	local := t.In(loc)
	y, m, d := local.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, loc)
	// The minute within its day where the current opening is known to run to.
	at := local.Hour()*60 + local.Minute()
	for i := 0; i < 8; i++ {
		if q.holiday(day) {
			return day, true
		}
		to := 24 * 60
		if q.Hours != nil {
			sp, found := q.spanOn(day, at)
			if !found {
				return wallClock(day, at), true
			}
			to = sp
		}
		if to < 24*60 {
			return wallClock(day, to), true
		}
		day = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc)
		at = 0
	}
	return time.Time{}, false
}

// location is the queue's time zone; UTC when it is not one (Validate
// refuses such a zone, so only a row written by hand has one).
func (q Queue) location() *time.Location {
	if q.TimeZone == "" || q.TimeZone == "UTC" {
		return time.UTC
	}
	loc, err := time.LoadLocation(q.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// holiday reports whether local's date is one of the queue's holidays.
func (q Queue) holiday(local time.Time) bool {
	if len(q.Holidays) == 0 {
		return false
	}
	date := local.Format(time.DateOnly)
	for _, h := range q.Holidays {
		if h.Date == date {
			return true
		}
	}
	return false
}

// spanAt finds the span of local's weekday that holds local's clock, and
// answers its end in minutes since midnight.
func (q Queue) spanAt(local time.Time) (to int, ok bool) {
	sec := local.Hour()*3600 + local.Minute()*60 + local.Second()
	for _, sp := range (*q.Hours)[weekdayKey(local.Weekday())] {
		from, ok1 := minutes(sp.From)
		end, ok2 := minutes(sp.To)
		if ok1 && ok2 && from*60 <= sec && sec < end*60 {
			return end, true
		}
	}
	return 0, false
}

// spanOn finds the span of day's weekday that holds minute at, and
// answers its end in minutes since midnight.
func (q Queue) spanOn(day time.Time, at int) (to int, ok bool) {
	for _, sp := range (*q.Hours)[weekdayKey(day.Weekday())] {
		from, ok1 := minutes(sp.From)
		end, ok2 := minutes(sp.To)
		if ok1 && ok2 && from <= at && at < end {
			return end, true
		}
	}
	return 0, false
}

// wallClock is the moment of minute m of day (midnight of a local date)
// on the local clock. A minute the clocks skip (summer time) is the
// moment after the skip.
func wallClock(day time.Time, m int) time.Time {
	return time.Date(day.Year(), day.Month(), day.Day(), m/60, m%60, 0, 0, day.Location())
}

// weekdayKey is Hours' key of a weekday.
func weekdayKey(d time.Weekday) string {
	return Weekdays[(int(d)+6)%7] // Weekdays starts on Monday
}
