package queues

import (
	"testing"
	"time"
)

func at(t *testing.T, zone, local string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04:05", local, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestOpenAtFollowsTheQueuesHoursInItsTimeZone(t *testing.T) {
	office := &Hours{"mon": {{"09:00", "12:00"}, {"13:00", "17:00"}}, "tue": {{"09:00", "17:00"}},
		"fri": {{"22:00", "24:00"}}, "sat": {{"00:00", "02:00"}}, "sun": {{"01:00", "04:00"}}}
	prague := Queue{TimeZone: "Europe/Prague", Hours: office}
	ny := Queue{TimeZone: "America/New_York", Hours: office}
	always := Queue{TimeZone: "Europe/Prague"}
	xmas := Queue{TimeZone: "Europe/Prague", Hours: office, Holidays: []Holiday{{Date: "2026-12-22", Name: "Christmas"}}}
	alwaysXmas := Queue{TimeZone: "Europe/Prague", Holidays: []Holiday{{Date: "2026-12-24"}}}
	closedDays := Queue{TimeZone: "UTC", Hours: &Hours{}}
	off := Queue{TimeZone: "Europe/Prague", Disabled: true}
	for _, tc := range []struct {
		name string
		q    Queue
		t    time.Time
		want bool
	}{
		// 2026-11-23 is a Monday.
		{"Monday morning in Prague", prague, at(t, "Europe/Prague", "2026-11-23 09:00:00"), true},
		{"a minute before the opening", prague, at(t, "Europe/Prague", "2026-11-23 08:59:59"), false},
		{"the lunch break", prague, at(t, "Europe/Prague", "2026-11-23 12:30:00"), false},
		{"the end of a span is closed", prague, at(t, "Europe/Prague", "2026-11-23 17:00:00"), false},
		{"the last second of a span", prague, at(t, "Europe/Prague", "2026-11-23 16:59:59"), true},
		{"a day without hours", prague, at(t, "Europe/Prague", "2026-11-25 10:00:00"), false},
		{"Prague's 09:00 is 03:00 in New York", prague, at(t, "America/New_York", "2026-11-23 03:00:00"), true},
		{"New York's own 09:00", ny, at(t, "America/New_York", "2026-11-23 09:00:00"), true},
		{"New York at Prague's 09:00 is closed", ny, at(t, "Europe/Prague", "2026-11-23 09:00:00"), false},
		{"a UTC moment is placed in the zone", prague, time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC), true},
		// Friday 22:00–24:00 and Saturday 00:00–02:00.
		{"Friday before midnight (24:00)", prague, at(t, "Europe/Prague", "2026-11-27 23:59:59"), true},
		{"Saturday's midnight", prague, at(t, "Europe/Prague", "2026-11-28 00:00:00"), true},
		{"Saturday after its span", prague, at(t, "Europe/Prague", "2026-11-28 02:00:00"), false},
		{"nil hours are always open", always, at(t, "Europe/Prague", "2026-11-25 03:00:00"), true},
		{"a holiday closes a day with hours", xmas, at(t, "Europe/Prague", "2026-12-22 10:00:00"), false},
		{"the day after the holiday", xmas, at(t, "Europe/Prague", "2026-12-21 10:00:00"), true},
		{"a holiday closes an always-open queue", alwaysXmas, at(t, "Europe/Prague", "2026-12-24 12:00:00"), false},
		{"a holiday is a date in the queue's zone", alwaysXmas, time.Date(2026, 12, 23, 23, 30, 0, 0, time.UTC), false},
		{"empty hours are never open", closedDays, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), false},
		{"disabled is closed", off, at(t, "Europe/Prague", "2026-11-23 10:00:00"), false},
		// 2026-03-29, a Sunday: Prague's clocks go from 02:00 to 03:00.
		{"DST spring: 01:30 before the jump", prague, at(t, "Europe/Prague", "2026-03-29 01:30:00"), true},
		{"DST spring: 03:30, an hour after 01:30 by wall clock", prague, at(t, "Europe/Prague", "2026-03-29 03:30:00"), true},
		{"DST spring: two real hours after 01:30 is 04:30, closed", prague, at(t, "Europe/Prague", "2026-03-29 01:30:00").Add(2 * time.Hour), false},
		// 2026-10-25, a Sunday: Prague's clocks go from 03:00 back to 02:00.
		{"DST autumn: the second 02:30", prague, at(t, "Europe/Prague", "2026-10-25 01:00:00").Add(150 * time.Minute), true},
		{"DST autumn: 03:59 local, four real hours after 01:00", prague, at(t, "Europe/Prague", "2026-10-25 01:00:00").Add(239 * time.Minute), true},
		{"DST autumn: 04:00 local is closed", prague, at(t, "Europe/Prague", "2026-10-25 01:00:00").Add(240 * time.Minute), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.q.OpenAt(tc.t); got != tc.want {
				t.Errorf("OpenAt(%s) = %v, want %v", tc.t, got, tc.want)
			}
		})
	}
}

func TestClosesAtIsTheEndOfTheOpening(t *testing.T) {
	office := &Hours{"mon": {{"09:00", "12:00"}, {"13:00", "17:00"}},
		"fri": {{"22:00", "24:00"}}, "sat": {{"00:00", "02:00"}}, "sun": {{"00:00", "24:00"}}}
	prague := Queue{TimeZone: "Europe/Prague", Hours: office}
	for _, tc := range []struct {
		name   string
		q      Queue
		t      time.Time
		want   time.Time
		closes bool
	}{
		{"the end of the morning span", prague, at(t, "Europe/Prague", "2026-11-23 10:00:00"), at(t, "Europe/Prague", "2026-11-23 12:00:00"), true},
		{"closed now: no end", prague, at(t, "Europe/Prague", "2026-11-23 12:30:00"), time.Time{}, false},
		{"across midnight", prague, at(t, "Europe/Prague", "2026-11-27 23:00:00"), at(t, "Europe/Prague", "2026-11-28 02:00:00"), true},
		{"Sunday open all day closes at Monday's midnight", prague, at(t, "Europe/Prague", "2026-11-29 10:00:00"), at(t, "Europe/Prague", "2026-11-30 00:00:00"), true},
		{"always open never closes", Queue{TimeZone: "UTC"}, time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC), time.Time{}, false},
		{"always open closes for a holiday", Queue{TimeZone: "Europe/Prague", Holidays: []Holiday{{Date: "2026-11-25"}}},
			at(t, "Europe/Prague", "2026-11-23 10:00:00"), at(t, "Europe/Prague", "2026-11-25 00:00:00"), true},
		{"a span ending on a DST day", Queue{TimeZone: "Europe/Prague", Hours: &Hours{"sun": {{"01:00", "04:00"}}}},
			at(t, "Europe/Prague", "2026-03-29 01:30:00"), time.Date(2026, 3, 29, 2, 0, 0, 0, time.UTC), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := tc.q.ClosesAt(tc.t)
			if ok != tc.closes || !got.Equal(tc.want) {
				t.Errorf("ClosesAt(%s) = %s %v, want %s %v", tc.t, got, ok, tc.want, tc.closes)
			}
		})
	}
}
