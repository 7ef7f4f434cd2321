package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
)

// The search doubles, then bisects to within an eighth of the capacity,
// and says which step bounded it; a budget spent stops it at the last
// step that passed.
func TestCapRoomsSearchDoublesThenBisects(t *testing.T) {
	cfg := capRoomsConfig{start: 4, most: 256}
	for _, capacity := range []int{3, 4, 13, 40, 255, 300} {
		var tried []int
		try := func(n int) (roomStep, error) {
			tried = append(tried, n)
			return roomStep{rooms: n, pass: n <= capacity}, nil
		}
		lo, hi, _, err := searchRooms(cfg, try, func() bool { return false })
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case capacity < cfg.start:
			if lo != 0 || hi != cfg.start {
				t.Errorf("capacity %d: lo %d hi %d, want 0 and %d", capacity, lo, hi, cfg.start)
			}
		case capacity >= cfg.most:
			if lo != cfg.most || hi != 0 {
				t.Errorf("capacity %d: lo %d hi %d, want %d and none failed", capacity, lo, hi, cfg.most)
			}
		default:
			if lo > capacity || hi <= capacity || hi-lo > max(1, lo/8) {
				t.Errorf("capacity %d: lo %d hi %d (tried %v), want lo ≤ %d < hi within an eighth", capacity, lo, hi, tried, capacity)
			}
		}
		if len(tried) > 10 {
			t.Errorf("capacity %d: %d steps (%v)", capacity, len(tried), tried)
		}
	}
	var tried []int
	try := func(n int) (roomStep, error) { tried = append(tried, n); return roomStep{rooms: n, pass: true}, nil }
	lo, _, _, _ := searchRooms(cfg, try, func() bool { return len(tried) >= 2 })
	if lo != 8 || !slices.Equal(tried, []int{4, 8}) {
		t.Errorf("with the budget spent after two steps: lo %d, tried %v", lo, tried)
	}
}

func TestCapRoomsRefusesARunningServer(t *testing.T) {
	var out, errs bytes.Buffer
	code := run(context.Background(), []string{"cap-rooms", "--url", "http://127.0.0.1:1"}, &out, &errs)
	if code != 2 || !strings.Contains(errs.String(), "server of its own") {
		t.Errorf("code %d, %q", code, errs.String())
	}
}
