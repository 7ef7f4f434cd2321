package conversation

import "testing"

// Every Presence passes this; presence over several nodes adds its own
// constructor to the list.
func TestPresenceTellsWhenAPrincipalComesAndGoes(t *testing.T) {
	for name, p := range map[string]Presence{"local": NewLocalPresence()} {
		t.Run(name, func(t *testing.T) {
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
				if got := p.Add(step.key, step.d); got != step.changed {
					t.Errorf("step %d: Add(%s, %d) changed %v, want %v", i, step.key, step.d, got, step.changed)
				}
				if got := p.Online(step.key); got != step.online {
					t.Errorf("step %d: Online(%s) %v, want %v", i, step.key, got, step.online)
				}
			}
		})
	}
}
