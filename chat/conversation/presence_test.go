package conversation

import (
	"fmt"
	"testing"
)

// LocalPresence tells of every change at once; the cluster's presence
// (cluster/presence_test.go) passes the same steps, waiting for them.
func TestPresenceTellsWhenAPrincipalComesAndGoes(t *testing.T) {
	for name, p := range map[string]Presence{"local": NewLocalPresence()} {
		t.Run(name, func(t *testing.T) {
			var changes []string
			p.Watch(func(key string, online bool) { changes = append(changes, fmt.Sprint(key, online)) })
			for i, step := range []struct {
				key     string
				d       int
				changed bool
				online  bool
			}{
				{"user:1", 1, true, true},   // the first tab
				{"user:1", 1, false, true},  // a second tab
				{"user:2", 1, true, true},   // someone else
				{"user:1", -1, false, true}, // one tab of two closes
				{"user:1", -1, true, false}, // the last one
				{"user:1", -1, false, false},
				{"user:1", 1, true, true}, // never below nobody
			} {
				changes = nil
				p.Add(step.key, step.d)
				if want := fmt.Sprint(step.key, step.online); step.changed && (len(changes) != 1 || changes[0] != want) {
					t.Errorf("step %d: Add(%s, %d) told %v, want %s", i, step.key, step.d, changes, want)
				} else if !step.changed && len(changes) > 0 {
					t.Errorf("step %d: Add(%s, %d) told %v, want nothing", i, step.key, step.d, changes)
				}
				if got := p.Online(step.key); got != step.online {
					t.Errorf("step %d: Online(%s) %v, want %v", i, step.key, got, step.online)
				}
			}
		})
	}
}
