package chat

import (
	"reflect"
	"testing"
	"time"

	"parley/auth"
)

func TestPickFollowsTheQueuesStrategy(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	// Agent 1 is busiest and idle longest; 2 idle least; 3 in between, least busy.
	free := func() []candidate {
		return []candidate{
			{ID: 2, Load: 1, LastBusy: t0.Add(30 * time.Minute)},
			{ID: 1, Load: 2, LastBusy: t0},
			{ID: 3, Load: 0, LastBusy: t0.Add(10 * time.Minute)},
		}
	}
	last := func(id auth.UserID) *auth.UserID { return &id }
	cases := []struct {
		name string
		q    Queue
		want []auth.UserID
	}{
		{"longest idle offers the one idle longest", Queue{Strategy: LongestIdle}, []auth.UserID{1}},
		{"least busy offers the one with fewest chats", Queue{Strategy: LeastBusy}, []auth.UserID{3}},
		{"round robin starts at the lowest id", Queue{Strategy: RoundRobin}, []auth.UserID{1}},
		{"round robin goes on after the last offered", Queue{Strategy: RoundRobin, rrLast: last(1)}, []auth.UserID{2}},
		{"round robin wraps round", Queue{Strategy: RoundRobin, rrLast: last(3)}, []auth.UserID{1}},
		{"ring all offers everyone", Queue{Strategy: RingAll}, []auth.UserID{2, 1, 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := pick(tc.q, free()); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("picked %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLeastBusyBreaksTiesByIdleTime(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	free := []candidate{{ID: 5, Load: 1, LastBusy: t0.Add(time.Minute)}, {ID: 6, Load: 1, LastBusy: t0}}
	if got := pick(Queue{Strategy: LeastBusy}, free); got[0] != 6 {
		t.Fatalf("picked %v, want 6", got)
	}
}
