package queues

import "testing"

// Every Cache passes this; a cache for several nodes adds its own
// constructor to the list.
func TestACacheKeepsWhatItIsGivenUntilItForgetsIt(t *testing.T) {
	for name, c := range map[string]Cache{"local": NewLocalCache()} {
		t.Run(name, func(t *testing.T) {
			if _, ok := c.Get(1); ok {
				t.Fatal("an empty cache has queue 1")
			}
			c.Put(Queue{ID: 1, Name: "Sales"})
			c.Put(Queue{ID: 2, Name: "Support"})
			if q, ok := c.Get(1); !ok || q.Name != "Sales" {
				t.Fatalf("Get(1) = %+v, %v after Put", q, ok)
			}
			c.Put(Queue{ID: 1, Name: "Sales EU"})
			if q, _ := c.Get(1); q.Name != "Sales EU" {
				t.Fatalf("Get(1) = %+v, want the settings put last", q)
			}
			c.Forget(1)
			if _, ok := c.Get(1); ok {
				t.Fatal("queue 1 is still there after Forget")
			}
			if _, ok := c.Get(2); !ok {
				t.Fatal("Forget(1) dropped queue 2")
			}
		})
	}
}
