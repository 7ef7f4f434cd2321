package conversation

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/bus"
	"parley/chat/chattest"
	"parley/chat/crm"
	"parley/chat/queues"
	"parley/mail"
	"parley/store"
)

// systemTicket is the ticket the system made of chat id, read from the
// table: zero when there is none.
type systemTicket struct {
	ID                                        crm.TicketID
	State, Source, Title, Email, CustomerName string
	Queue                                     queues.QueueID
	Events                                    int
}

func (f *writerFixture) systemTicket(t *testing.T, id ID) systemTicket {
	t.Helper()
	var s systemTicket
	err := f.svc.pool.QueryRow(context.Background(), `SELECT t.id, t.state, t.source, t.title, t.email, t.customer_name,
		t.queue_id, (SELECT count(*) FROM ticket_events e WHERE e.ticket_id = t.id)
		FROM tickets t WHERE t.conversation_id = $1`, id).
		Scan(&s.ID, &s.State, &s.Source, &s.Title, &s.Email, &s.CustomerName, &s.Queue, &s.Events)
	if err == pgx.ErrNoRows {
		return systemTicket{}
	}
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// toldOfTicket counts the ticket.changed frames user is told.
func (f *writerFixture) toldOfTicket(t *testing.T, user auth.Principal) chan crm.TicketID {
	t.Helper()
	told := make(chan crm.TicketID, 16)
	unsub, err := f.svc.bus.Subscribe(bus.PrincipalSubject(user.Key()), func(b []byte) {
		var env struct {
			Type string `json:"type"`
			Data struct {
				Ticket crm.Ticket `json:"ticket"`
			} `json:"data"`
		}
		if json.Unmarshal(b, &env) == nil && env.Type == crm.ChangedType {
			told <- env.Data.Ticket.ID
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(unsub)
	return told
}

func waitTold(t *testing.T, told chan crm.TicketID, id crm.TicketID) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case got := <-told:
			if got == id {
				return
			}
		case <-deadline:
			t.Fatalf("no ticket.changed of ticket %d", id)
		}
	}
}

// A chat the system ended before anyone answered it, for max wait or
// the queue's closing, is an unassigned ticket of its queue, made in the
// close's transaction, once, linked to the chat, and told to the queue's
// agents. A chat an agent had answered is not.
func TestAChatNobodyAnsweredBecomesOneUnassignedTicket(t *testing.T) {
	ctx := context.Background()
	f := newWriterFixture(t)
	told := f.toldOfTicket(t, f.alice)
	f.setQueue(t, `max_wait_seconds = 60`)
	_, waits := f.customer(t, "Wendy")
	f.exec(t, `UPDATE conversations SET customer_email = 'wendy@example.com', queued_at = now() - interval '61 seconds'
		WHERE id = $1`, waits)
	if ended, err := f.svc.SystemClose(ctx, waits, ReasonMaxWait); err != nil || !ended {
		t.Fatalf("ended %v, %v", ended, err)
	}
	got := f.systemTicket(t, waits)
	if got.ID == 0 || got.State != crm.StateUnassigned || got.Source != crm.SourceMaxWait || got.Queue != f.q.ID ||
		got.Email != "wendy@example.com" || got.CustomerName != "Wendy" || got.Events != 1 {
		t.Fatalf("the ticket of a chat that waited too long: %+v", got)
	}
	c, err := Get(ctx, f.svc.pool, waits, false)
	if err != nil || c.Ticket == nil || c.Ticket.ID != int64(got.ID) || c.Ticket.State != crm.StateUnassigned {
		t.Fatalf("the chat carries %+v (%v)", c.Ticket, err)
	}
	waitTold(t, told, got.ID)
	// Once: made again (a retry, another node) it is not.
	err = pgx.BeginFunc(ctx, f.svc.pool, func(tx pgx.Tx) error {
		_, made, err := crm.SystemTx(ctx, tx, int64(waits), crm.SourceMaxWait, "again")
		if made {
			t.Error("a second ticket of the same chat was made")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// The queue closed while it waited.
	_, olga := f.customer(t, "Olga")
	f.setQueue(t, `max_wait_seconds = 0, hours = '{}'`)
	if ended, err := f.svc.SystemClose(ctx, olga, ReasonQueueClosed); err != nil || !ended {
		t.Fatalf("ended %v, %v", ended, err)
	}
	if got := f.systemTicket(t, olga); got.Source != crm.SourceQueueClosed || got.State != crm.StateUnassigned {
		t.Fatalf("the ticket of a chat whose queue closed: %+v", got)
	}

	// Answered, then back in the queue (its agent left): past its max wait
	// it ends, and is no ticket.
	f.setQueue(t, `max_wait_seconds = 60, hours = NULL`)
	_, answered := f.customer(t, "Anna")
	f.offer(t, answered, f.alice.UserID)
	f.accept(t, answered, f.alice)
	f.exec(t, `UPDATE conversations SET state = 'queued', agent_id = NULL, queued_at = now() - interval '61 seconds'
		WHERE id = $1`, answered)
	f.exec(t, `DELETE FROM conversation_agents WHERE conversation_id = $1`, answered)
	if ended, err := f.svc.SystemClose(ctx, answered, ReasonMaxWait); err != nil || !ended {
		t.Fatalf("ended %v, %v", ended, err)
	}
	if got := f.systemTicket(t, answered); got.ID != 0 {
		t.Fatalf("an answered chat became ticket %+v", got)
	}
}

// An offline message is an unassigned ticket of its queue, titled by its
// first line, with the customer's address, in the message's transaction.
func TestAnOfflineMessageBecomesAnUnassignedTicket(t *testing.T) {
	ctx := context.Background()
	f := newWriterFixture(t)
	if err := store.Migrate(ctx, f.svc.pool, mail.Migrations); err != nil {
		t.Fatal(err)
	}
	q, err := f.qs.Create(ctx, queues.Queue{Key: chattest.Unique("offline"), Name: "Sales", OfflineForm: true}, f.alice.UserID)
	if err != nil {
		t.Fatal(err)
	}
	told := f.toldOfTicket(t, f.alice)
	c, err := f.svc.Offline(ctx, chattest.Visitor("Ann", q.Key), OfflineInput{Name: "Ann Lee", Email: "ann@example.org",
		Message: "Do you ship to Mars?\nI need it by June."})
	if err != nil {
		t.Fatal(err)
	}
	got := f.systemTicket(t, c.ID)
	if got.Source != crm.SourceOffline || got.State != crm.StateUnassigned || got.Title != "Do you ship to Mars?" ||
		got.Email != "ann@example.org" || got.CustomerName != "Ann Lee" || got.Queue != q.ID {
		t.Fatalf("the offline message's ticket: %+v", got)
	}
	waitTold(t, told, got.ID)
}

// A ticket made from a chat takes its queue, customer and address and is
// linked to it: the chat carries it, and a private ticket_linked event
// says so. Linking another ticket moves the chat to it; unlinking leaves
// it without; each is in both threads.
func TestATicketFromAChatAndLinkingIt(t *testing.T) {
	ctx := context.Background()
	f := newWriterFixture(t)
	vera, id := f.customer(t, "Vera")
	f.exec(t, `UPDATE conversations SET customer_email = 'vera@example.com' WHERE id = $1`, id)
	f.offer(t, id, f.alice.UserID)
	f.accept(t, id, f.alice)
	tid, err := f.svc.CreateTicket(ctx, f.alice, crm.CreateInput{ConversationID: int64(id), Title: "Parcel never arrived"})
	if err != nil {
		t.Fatal(err)
	}
	got := f.systemTicket(t, id)
	if got.ID != tid || got.Source != crm.SourceAgent || got.Email != "vera@example.com" || got.CustomerName != "Vera" ||
		got.Queue != f.q.ID {
		t.Fatalf("the ticket from the chat: %+v", got)
	}
	ev := f.lastEvent(t, id)
	if ev.Kind != KindTicketLinked || !ev.Private || ev.Ticket == nil || ev.Ticket.ID != int64(tid) ||
		ev.Ticket.Title != "Parcel never arrived" || ev.Author.Name != "Alice" {
		t.Fatalf("the chat's event %+v", ev)
	}
	if c, err := Get(ctx, f.svc.pool, id, false); err != nil || c.Ticket == nil || c.Ticket.ID != int64(tid) {
		t.Fatalf("the chat carries %+v (%v)", c.Ticket, err)
	}

	tickets := crm.NewTickets(f.svc.pool, f.svc.bus, chattest.Quiet)
	other, err := tickets.Create(ctx, f.alice, crm.CreateInput{QueueID: f.q.ID, Title: "Refund"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.LinkTicket(ctx, f.alice, id, &other.ID)
	if err != nil || c.Ticket == nil || c.Ticket.ID != int64(other.ID) || c.Ticket.Title != "Refund" {
		t.Fatalf("linked: %+v, %v", c.Ticket, err)
	}
	if _, err := f.svc.LinkTicket(ctx, f.alice, id, &other.ID); !isCode(err, "conflict") {
		t.Fatalf("linking the same ticket again: %v", err)
	}
	c, err = f.svc.LinkTicket(ctx, f.alice, id, nil)
	if err != nil || c.Ticket != nil {
		t.Fatalf("unlinked: %+v, %v", c.Ticket, err)
	}
	if ev := f.lastEvent(t, id); ev.Kind != KindTicketLinked || ev.Ticket != nil || !ev.Private {
		t.Fatalf("the unlinking event %+v", ev)
	}
	for tk, want := range map[crm.TicketID][]string{tid: {"created", "unlinked"}, other.ID: {"created", "linked", "unlinked"}} {
		th, err := tickets.Get(ctx, f.alice, tk)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range th.Events {
			kinds = append(kinds, e.Kind)
		}
		if len(kinds) != len(want) || kinds[len(kinds)-1] != want[len(want)-1] {
			t.Errorf("ticket %d's events %v, want %v", tk, kinds, want)
		}
	}
	// A ticket made from a chat that has one takes the chat from it.
	if _, err := f.svc.LinkTicket(ctx, f.alice, id, &other.ID); err != nil {
		t.Fatal(err)
	}
	third, err := f.svc.CreateTicket(ctx, f.alice, crm.CreateInput{ConversationID: int64(id), Title: "Third"})
	if err != nil {
		t.Fatal(err)
	}
	if c, err := Get(ctx, f.svc.pool, id, false); err != nil || c.Ticket == nil || c.Ticket.ID != int64(third) {
		t.Fatalf("the chat carries %+v (%v)", c.Ticket, err)
	}
	if th, err := tickets.Get(ctx, f.alice, other.ID); err != nil || th.Events[len(th.Events)-1].Kind != crm.EventUnlinked {
		t.Fatalf("the ticket the chat left: %+v, %v", th.Events, err)
	}
	// Bob, of the queue but not in the chat, may not link it; its
	// customer is forbidden.
	if _, err := f.svc.LinkTicket(ctx, f.bob, id, &other.ID); !isCode(err, "not_found") {
		t.Errorf("Bob links a chat he does not read: %v", err)
	}
	if _, err := f.svc.LinkTicket(ctx, vera, id, &other.ID); !isCode(err, "forbidden") {
		t.Errorf("the customer links: %v", err)
	}
	if _, err := f.svc.CreateTicket(ctx, vera, crm.CreateInput{ConversationID: int64(id), Title: "x"}); !isCode(err, "forbidden") {
		t.Errorf("the customer makes a ticket: %v", err)
	}
}

func isCode(err error, code string) bool {
	var c interface{ Code() string }
	return errors.As(err, &c) && c.Code() == code
}
