package queues

// Hours are a queue's opening hours: per weekday ("mon" … "sun") the
// spans it is open, in its TimeZone. A day that is absent or empty is
// closed.
type Hours map[string][]Span

// Span is one opening span of a day, "HH:MM" to "HH:MM" ("24:00" is the
// day's end), From before To.
type Span struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// Holiday is a date ("YYYY-MM-DD", in the queue's TimeZone) on which the
// queue is closed all day.
type Holiday struct {
	Date string `json:"date"`
	Name string `json:"name"`
}

// Weekdays are Hours' keys, Monday first.
var Weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// Default texts of a queue's messages to customers.
const (
	DefaultOfflineMessage     = "We're away right now. Leave us a message and we'll get back to you."
	DefaultUnavailableMessage = "All our agents are busy right now. Please try again in a little while."
)

// minutes reads "HH:MM" (00:00–24:00) as minutes since midnight.
func minutes(hm string) (int, bool) {
	if len(hm) != 5 || hm[2] != ':' {
		return 0, false
	}
	h, m := atoi2(hm[0:2]), atoi2(hm[3:5])
	if h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

func atoi2(s string) int {
	if s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return -1
	}
	return int(s[0]-'0')*10 + int(s[1]-'0')
}

// check checks the days' keys and spans: each "HH:MM", From before To,
// and a day's spans in order without overlap.
func (h Hours) check() error {
	known := map[string]bool{}
	for _, d := range Weekdays {
		known[d] = true
	}
	for day, spans := range h {
		if !known[day] {
			return Bad("hours: %q is not a weekday (mon, tue, wed, thu, fri, sat, sun)", day)
		}
		if len(spans) > 6 {
			return Bad("hours: %s has more than 6 spans", day)
		}
		end := -1
		for _, sp := range spans {
			from, ok1 := minutes(sp.From)
			to, ok2 := minutes(sp.To)
			switch {
			case !ok1 || !ok2:
				return Bad("hours: %s: times are HH:MM, 00:00 to 24:00", day)
			case from >= to:
				return Bad("hours: %s: %s–%s ends before it starts", day, sp.From, sp.To)
			case from < end:
				return Bad("hours: %s: spans must be in order and must not overlap", day)
			}
			end = to
		}
	}
	return nil
}
