package routing

import (
	"context"
	"slices"
	"testing"
	"time"

	"parley/auth"
	"parley/chat/queues"
)

func TestAQueueSaysWhetherMissedOffersPauseTheAgent(t *testing.T) {
	cases := []struct {
		setting    string
		wantStatus string
		wantReason string
	}{
		{queues.MissedPause, StatusPaused, "missed offer"},
		{queues.MissedIgnore, StatusAvailable, ""},
	}
	for _, tc := range cases {
		t.Run(tc.setting, func(t *testing.T) {
			f := newFixture(t)
			ctx := context.Background()
			f.set(t, `UPDATE queues SET missed_offers = $2 WHERE id = $1`, f.q.ID, tc.setting)
			f.connect(f.alice)
			_, id := f.customer(t, "Ann")
			for i := range MissesBeforePause {
				f.route(t)
				if got := f.pending(t, id); !slices.Equal(got, []auth.UserID{f.alice.UserID}) {
					t.Fatalf("offer %d went to %v, want to Alice", i+1, got)
				}
				f.set(t, `UPDATE offers SET deadline = now() WHERE conversation_id = $1 AND state = 'pending'`, id)
				if err := f.svc.expireOffers(ctx); err != nil {
					t.Fatal(err)
				}
				f.turnedDownAgo(t, id, DefaultRejectCooldown+time.Second)
			}
			var state string
			if err := f.svc.pool.QueryRow(ctx, `SELECT state FROM conversations WHERE id = $1`, id).Scan(&state); err != nil {
				t.Fatal(err)
			}
			if state != "queued" {
				t.Fatalf("after the missed offers the chat is %s, want queued (back in the queue)", state)
			}
			if st := f.status(t, f.alice); st.Status != tc.wantStatus || st.Reason != tc.wantReason {
				t.Fatalf("after %d missed offers in a row Alice is %s (%q), want %s (%q)",
					MissesBeforePause, st.Status, st.Reason, tc.wantStatus, tc.wantReason)
			}
		})
	}
}
