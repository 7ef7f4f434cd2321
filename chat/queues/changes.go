package queues

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/auth"
)

// Change is one entry of a queue's change log: an admin's save that
// changed something (a save that changes nothing is not recorded).
type Change struct {
	ID int64     `json:"id"`
	At time.Time `json:"at"`
	// By is who saved: their account (0 once it is removed) and their
	// name when they saved.
	By struct {
		ID   auth.UserID `json:"id"`
		Name string      `json:"name"`
	} `json:"by"`
	// Created: the save made the queue; Fields then lists every setting
	// with Old null.
	Created bool          `json:"created"`
	Fields  []FieldChange `json:"fields"`
	// MembersAdded and MembersRemoved are usernames, sorted.
	MembersAdded   []string `json:"members_added"`
	MembersRemoved []string `json:"members_removed"`
}

// FieldChange is one setting's value before and after a save, each as
// the setting's JSON in the admin API (Old is null when the save made
// the queue).
type FieldChange struct {
	Field string          `json:"field"`
	Old   json.RawMessage `json:"old"`
	New   json.RawMessage `json:"new"`
}

// ChangePage is a page of a queue's change log, newest first; Next is
// the cursor of the next (older) page, 0 when there is none.
type ChangePage struct {
	Changes []Change `json:"changes"`
	Next    int64    `json:"next"`
}

// MaxChangePage is the most entries one page of a change log holds.
const MaxChangePage = 100

// loadForSave takes the save lock of queue key (a transaction-scoped
// advisory lock, so two saves of one key, even two that both create it,
// follow each other) and reads the queue as it stands, FOR UPDATE, with
// its members' usernames: nil when there is no such queue yet.
func loadForSave(ctx context.Context, tx pgx.Tx, key string) (*QueueConfig, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('parley.queue_save.' || $1, 0))`, key); err != nil {
		return nil, err
	}
	var c QueueConfig
	var err error
	c.Queue, err = scanQueue(tx.QueryRow(ctx, `SELECT `+queueColumns+`,
		coalesce((SELECT array_agg(u.username ORDER BY u.username) FROM queue_members m JOIN users u ON u.id = m.user_id
		          WHERE m.queue_id = queues.id), '{}') FROM queues WHERE key = $1 FOR UPDATE`, key), &c.Members)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// diffQueue is what a save changes from old (nil: the save creates the
// queue) to saved: the settings whose JSON differs, in the order of
// Queue's fields, and the members added and removed.
func diffQueue(old *QueueConfig, saved QueueConfig) (fields []FieldChange, added, removed []string) {
	nv := reflect.ValueOf(saved.Queue)
	var ov reflect.Value
	if old != nil {
		ov = reflect.ValueOf(old.Queue)
	}
	t := nv.Type()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" || name == "id" || name == "key" {
			continue
		}
		n := settingJSON(nv.Field(i))
		if old == nil {
			fields = append(fields, FieldChange{Field: name, Old: json.RawMessage("null"), New: n})
			continue
		}
		if o := settingJSON(ov.Field(i)); !bytes.Equal(o, n) {
			fields = append(fields, FieldChange{Field: name, Old: o, New: n})
		}
	}
	var before []string
	if old != nil {
		before = old.Members
	}
	was, is := uniq(before), uniq(saved.Members)
	for m := range is {
		if !was[m] {
			added = append(added, m)
		}
	}
	for m := range was {
		if !is[m] {
			removed = append(removed, m)
		}
	}
	slices.Sort(added)
	slices.Sort(removed)
	return fields, added, removed
}

// settingJSON is a setting's value as the admin API writes it, an empty
// list and a missing one alike ([]), so that a list saved empty over
// none is no change.
func settingJSON(v reflect.Value) json.RawMessage {
	if v.Kind() == reflect.Slice && v.Len() == 0 {
		return json.RawMessage("[]")
	}
	b, err := json.Marshal(v.Interface())
	if err != nil { // settings are plain values: this does not happen
		return json.RawMessage("null")
	}
	return b
}

// recordChange writes, in tx, the change log entry of p's save of queue id
// from old (nil: created) to saved, unless it changed nothing.
func recordChange(ctx context.Context, tx pgx.Tx, p auth.Principal, id QueueID, old *QueueConfig, saved QueueConfig) error {
	fields, added, removed := diffQueue(old, saved)
	if old != nil && len(fields) == 0 && len(added) == 0 && len(removed) == 0 {
		return nil
	}
	var by *auth.UserID
	if p.UserID != 0 {
		by = &p.UserID
	}
	if fields == nil { // the members alone changed
		fields = []FieldChange{}
	}
	if added == nil {
		added = []string{}
	}
	if removed == nil {
		removed = []string{}
	}
	_, err := tx.Exec(ctx, `INSERT INTO queue_changes (queue_id, user_id, user_name, created, fields, members_added, members_removed)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, by, p.Name, old == nil, fields, added, removed)
	return err
}

// Changes is a page of queue key's change log for an admin, newest
// first: the entries older than before (0: from the newest), at most
// limit of them (1–MaxChangePage; 0 is 20).
func (s *Store) Changes(ctx context.Context, p auth.Principal, key string, before int64, limit int) (ChangePage, error) {
	if err := mustAdmin(p); err != nil {
		return ChangePage{}, err
	}
	switch {
	case limit == 0:
		limit = 20
	case limit < 1 || limit > MaxChangePage:
		return ChangePage{}, Bad("limit: 1–%d", MaxChangePage)
	case before < 0:
		return ChangePage{}, Bad("before: an entry's id")
	}
	q, err := s.ByKey(ctx, key)
	if err != nil {
		return ChangePage{}, err
	}
	rows, err := s.pool.Query(ctx, `SELECT id, at, coalesce(user_id, 0), user_name, created, fields, members_added, members_removed
		FROM queue_changes WHERE queue_id = $1 AND ($2 = 0 OR id < $2) ORDER BY id DESC LIMIT $3`, q.ID, before, limit+1)
	if err != nil {
		return ChangePage{}, err
	}
	page := ChangePage{Changes: []Change{}}
	page.Changes, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Change, error) {
		var c Change
		err := r.Scan(&c.ID, &c.At, &c.By.ID, &c.By.Name, &c.Created, &c.Fields, &c.MembersAdded, &c.MembersRemoved)
		for i := range c.Fields {
			c.Fields[i].Old, c.Fields[i].New = compact(c.Fields[i].Old), compact(c.Fields[i].New)
		}
		return c, err
	})
	if err != nil {
		return ChangePage{}, err
	}
	if len(page.Changes) > limit {
		page.Changes = page.Changes[:limit]
		page.Next = page.Changes[limit-1].ID
	}
	return page, nil
}

// compact writes a value read back from jsonb (which spaces it and
// orders object keys its own way) as the admin API writes settings.
func compact(raw json.RawMessage) json.RawMessage {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return raw
	}
	b, err := json.Marshal(v)
	if err != nil {
		return raw
	}
	return b
}
