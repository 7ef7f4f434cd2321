package mail

import (
	"testing"
	"time"
)

func TestTheBackoffDoublesFromThirtySecondsToAnHour(t *testing.T) {
	o := Options{}.withDefaults()
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
		16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
	for i, w := range want {
		if got := o.backoff(i + 1); got != w {
			t.Errorf("after attempt %d: %v, want %v", i+1, got, w)
		}
	}
	if o.MaxAttempts != 8 || o.Lease < 2*o.Timeout {
		t.Errorf("defaults %+v", o)
	}
}
