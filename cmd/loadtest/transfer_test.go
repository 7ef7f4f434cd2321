package main

import (
	"strings"
	"testing"
	"time"
)

func TestDeliveryCountsLostAndDuplicatedMessagesOnceBySeq(t *testing.T) {
	t0 := time.Now()
	msgs := map[string]*custMsg{}
	for _, id := range []string{"ok", "gone", "twice", "overlap", "unseen", "again", "refused"} {
		msgs[id] = &custMsg{conv: 7, text: taggedText(t0, id, 48), sentAt: t0, acked: id != "refused"}
	}
	msg := func(seq int, id string) wireEvent {
		ev := wireEvent{ConversationID: 7, Seq: seq, Kind: "message", Text: msgs[id].text, ClientID: id}
		ev.Author.Kind = "customer"
		return ev
	}
	transcript := []wireEvent{
		{ConversationID: 7, Seq: 1, Kind: "queued"},
		msg(2, "ok"), msg(3, "twice"), msg(4, "twice"), msg(5, "overlap"), msg(6, "unseen"), msg(7, "again"),
	}
	// The agent who has the chat: its accept answer up to seq 5, then the
	// live events, which repeat seq 5 (subscribed before the read: the
	// same event, once), miss seq 6 and bring "again" under seq 7 and a
	// second time under seq 8.
	v := newView()
	for _, ev := range transcript[:5] {
		v.add(ev)
	}
	for _, ev := range []wireEvent{msg(5, "overlap"), msg(7, "again"), msg(8, "again")} {
		v.add(ev)
	}
	d := checkDelivery(msgs, map[int64][]wireEvent{7: transcript}, map[int64]*view{7: v})
	if d.transcriptLost != 1 || d.transcriptDup != 1 {
		t.Errorf("transcript: lost %d duplicated %d, want 1 (gone) and 1 (twice)", d.transcriptLost, d.transcriptDup)
	}
	if d.viewLost != 2 || d.viewDup != 2 {
		t.Errorf("view: lost %d duplicated %d, want 2 (gone, unseen) and 2 (twice, again): %v", d.viewLost, d.viewDup, d.samples)
	}
	if d.holes != 1 || d.unheld != 0 || d.conversations != 1 {
		t.Errorf("holes %d unheld %d conversations %d, want 1 (seq 6 missing) 0 1", d.holes, d.unheld, d.conversations)
	}

	d = checkDelivery(msgs, map[int64][]wireEvent{7: transcript}, map[int64]*view{})
	if d.unheld != 1 || d.viewLost != 6 {
		t.Errorf("a chat no agent has: unheld %d, view lost %d, want 1 and every acked message (6)", d.unheld, d.viewLost)
	}
}

func TestTransferTextsAreUniqueAndCarryTheSendTime(t *testing.T) {
	at := time.Unix(1763746215, 123456789)
	a, b := taggedText(at, "c1-1", 80), taggedText(at, "c1-2", 80)
	if a == b || len(a) != 80 || !strings.Contains(a, "c1-1") {
		t.Fatalf("texts %q and %q: want 80 bytes each, each with its id", a, b)
	}
	if got, ok := parseMessageText(a); !ok || !got.Equal(at) {
		t.Fatalf("parsed %v %v, want %v", got, ok, at)
	}
}

func TestTransferShareSpreadsEvenly(t *testing.T) {
	for _, c := range []struct {
		share float64
		want  int
	}{{0, 0}, {0.5, 100}, {0.25, 50}, {1, 200}} {
		n := 0
		for i := range 200 {
			if transferNext(i, c.share) {
				n++
			}
		}
		if n != c.want {
			t.Errorf("share %.2f: %d of 200 to a queue, want %d", c.share, n, c.want)
		}
	}
}
