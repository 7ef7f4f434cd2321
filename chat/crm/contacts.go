package crm

import (
	"context"
	"errors"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"parley/auth"
	"parley/chat/queues"
)

// Contacts (docs/protocol.md, "Contacts (staff)"): every agent,
// supervisor and admin may search, read, create and edit them; customers
// and guests may do nothing with them. Every save is recorded in
// contact_changes (who, when, what), and editing a field that came
// verified drops its verified mark.

// ContactID identifies a contact.
type ContactID int64

// Contact is a person the company knows.
type Contact struct {
	ID         ContactID `json:"id"`
	Name       string    `json:"name"`
	Emails     []string  `json:"emails"`
	Phone      string    `json:"phone"`
	Company    string    `json:"company"`
	Notes      string    `json:"notes"`
	ExternalID string    `json:"external_id"` // "" when none
	Verified   Verified  `json:"verified"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	UpdatedBy  *UserRef  `json:"updated_by"` // nil: the system
}

// Verified is what came signed by the company's backend (a verified
// identity) and has not been edited by hand since.
type Verified struct {
	ExternalID bool     `json:"external_id,omitempty"`
	Name       bool     `json:"name,omitempty"`
	Emails     []string `json:"emails,omitempty"`
}

// UserRef names a staff member.
type UserRef struct {
	ID   auth.UserID `json:"id"`
	Name string      `json:"name"`
}

// Change is one save of a contact: who made it, when, and what changed.
type Change struct {
	At      time.Time `json:"at"`
	User    *UserRef  `json:"user"` // nil: the system, or an account since removed
	Created bool      `json:"created"`
	Fields  []Field   `json:"fields"`
}

// Field is one field's change: Old and New are strings, or lists of
// strings for emails.
type Field struct {
	Field string `json:"field"`
	Old   any    `json:"old"`
	New   any    `json:"new"`
}

// ContactInput is a contact.create's fields, or a contact.update's: a nil
// field is kept (update) or empty (create).
type ContactInput struct {
	Name       *string   `json:"name"`
	Emails     *[]string `json:"emails"`
	Phone      *string   `json:"phone"`
	Company    *string   `json:"company"`
	Notes      *string   `json:"notes"`
	ExternalID *string   `json:"external_id"`
}

// The limits of a contact's fields.
const (
	MaxName       = 100
	MaxEmails     = 10
	MaxShort      = 100 // phone, company, an e-mail address
	MaxNotes      = 2000
	MaxExternalID = 200
)

// Check validates in's fields and normalises them: text trimmed, e-mails
// lower-cased without repeats. create requires a name.
func (in *ContactInput) Check(create bool) error {
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"name", in.Name, MaxName}, {"phone", in.Phone, MaxShort}, {"company", in.Company, MaxShort},
		{"notes", in.Notes, MaxNotes}, {"external_id", in.ExternalID, MaxExternalID}} {
		if f.v == nil {
			continue
		}
		if err := queues.BadText(f.name, *f.v); err != nil {
			return err
		}
		*f.v = strings.TrimSpace(*f.v)
		if n := utf8.RuneCountInString(*f.v); n > f.max {
			return queues.Bad("%s: at most %d characters, not %d", f.name, f.max, n)
		}
	}
	if (create && in.Name == nil) || (in.Name != nil && *in.Name == "") {
		return queues.Bad("name: the contact's name is required")
	}
	if in.Emails != nil {
		if len(*in.Emails) > MaxEmails {
			return queues.Bad("emails: at most %d addresses, not %d", MaxEmails, len(*in.Emails))
		}
		out := make([]string, 0, len(*in.Emails))
		for i, e := range *in.Emails {
			if err := queues.BadText("emails", e); err != nil {
				return err
			}
			e = strings.ToLower(strings.TrimSpace(e))
			if !ValidEmail(e) || len(e) > MaxShort {
				return queues.Bad("emails: %q (the %d. address) is not a valid e-mail address", e, i+1)
			}
			if !slices.Contains(out, e) {
				out = append(out, e)
			}
		}
		*in.Emails = out
	}
	return nil
}

// ValidEmail says whether s is a bare address with a dot in its domain
// (what the pre-chat form takes too).
func ValidEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && strings.Contains(s[strings.LastIndexByte(s, '@'):], ".")
}

// SearchText is what contact.search looks in (contacts.search): the name,
// the e-mails, the phone and the company, lower-cased.
func SearchText(name string, emails []string, phone, company string) string {
	parts := append([]string{name}, emails...)
	return strings.ToLower(strings.Join(append(parts, phone, company), " "))
}

// rowReader is a pool or a transaction.
type rowReader interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Contacts reads and writes the contacts.
type Contacts struct{ pool *pgxpool.Pool }

// NewContacts makes the contacts' store over pool.
func NewContacts(pool *pgxpool.Pool) *Contacts { return &Contacts{pool} }

// Staff refuses anyone but staff: customers and guests reach no contact.
func Staff(p auth.Principal) error {
	if !p.IsStaff() {
		return queues.Detail(queues.ErrForbidden, "contacts are for staff")
	}
	return nil
}

// ErrNoContact answers a contact that does not exist.
var ErrNoContact = queues.Detail(queues.ErrNotFound, "no such contact")

const contactColumns = `ct.id, ct.name, ct.emails, ct.phone, ct.company, ct.notes, coalesce(ct.external_id, ''),
	ct.verified, ct.created_at, ct.updated_at, ct.updated_by, coalesce(uu.display_name, '')`

const contactFrom = ` FROM contacts ct LEFT JOIN users uu ON uu.id = ct.updated_by `

func scanContact(row pgx.Row) (Contact, error) {
	var c Contact
	var by *auth.UserID
	var byName string
	err := row.Scan(&c.ID, &c.Name, &c.Emails, &c.Phone, &c.Company, &c.Notes, &c.ExternalID, &c.Verified,
		&c.CreatedAt, &c.UpdatedAt, &by, &byName)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNoContact
	}
	if by != nil {
		c.UpdatedBy = &UserRef{*by, byName}
	}
	return c, err
}

// getContact reads contact id, locking its row when lock is set and db is
// a transaction.
func getContact(ctx context.Context, db rowReader, id ContactID, lock bool) (Contact, error) {
	sql := `SELECT ` + contactColumns + contactFrom + ` WHERE ct.id = $1`
	if lock {
		sql += ` FOR UPDATE OF ct`
	}
	return scanContact(db.QueryRow(ctx, sql, id))
}

// Get reads a contact and its change log, newest first.
func (s *Contacts) Get(ctx context.Context, p auth.Principal, id ContactID) (Contact, []Change, error) {
	if err := Staff(p); err != nil {
		return Contact{}, nil, err
	}
	c, err := getContact(ctx, s.pool, id, false)
	if err != nil {
		return Contact{}, nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT ch.at, ch.user_id, coalesce(u.display_name, ch.user_name), ch.created, ch.fields
		FROM contact_changes ch LEFT JOIN users u ON u.id = ch.user_id
		WHERE ch.contact_id = $1 ORDER BY ch.id DESC LIMIT 100`, id)
	if err != nil {
		return Contact{}, nil, err
	}
	changes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Change, error) {
		var ch Change
		var by *auth.UserID
		var name string
		err := r.Scan(&ch.At, &by, &name, &ch.Created, &ch.Fields)
		if by != nil {
			ch.User = &UserRef{*by, name}
		}
		return ch, err
	})
	return c, changes, err
}

// The bounds of a contact.search.
const (
	MinContactQuery     = 2
	MaxContactQuery     = 100
	DefaultContactLimit = 20
	MaxContactLimit     = 50
)

// Search finds the contacts whose name, an e-mail, the phone or the
// company contains query (case-insensitive; a query of two characters:
// has a word that starts with it), best matches first (by pg_trgm's word
// similarity: those with a word most like the query).
func (s *Contacts) Search(ctx context.Context, p auth.Principal, query string, limit int) ([]Contact, error) {
	if err := Staff(p); err != nil {
		return nil, err
	}
	if err := queues.BadText("query", query); err != nil {
		return nil, err
	}
	q := strings.ToLower(strings.TrimSpace(query))
	switch n := utf8.RuneCountInString(q); {
	case n < MinContactQuery:
		return nil, queues.Bad("query: at least %d characters", MinContactQuery)
	case n > MaxContactQuery:
		return nil, queues.Bad("query: at most %d characters, not %d", MaxContactQuery, n)
	}
	switch {
	case limit == 0:
		limit = DefaultContactLimit
	case limit < 1 || limit > MaxContactLimit:
		return nil, queues.Bad("limit: 1–%d, not %d", MaxContactLimit, limit)
	}
	return s.search(ctx, q, limit)
}

// fewMatches is how many matches a search ranks all of; past it, it asks
// for the nearest ones only.
const fewMatches = 200

// search finds the contacts whose search column contains q, best first.
// No one plan is quick for every query over 100,000 contacts
// (docs/benchmarks.md, "Contact search"): a query most contacts do not
// match is found soonest by the GIN trigram index (contacts.search, chat
// 0023), whose matches are then ranked; one that thousands match (a first
// name) by the GiST index (lower(search), chat 0025), which gives the
// matches nearest the query first and stops at the limit, where ranking
// them all took 50–150 ms. So search asks the GIN index for a few more
// than fewMatches, ranks them if that was all, and else asks the GiST
// index. Two characters hold no trigram, so "contains" could only be a
// scan of every contact: they find the contacts with a word (of the name,
// the e-mails, the phone, the company) that starts with them, which the
// GIN index finds (a word's start is a trigram), newest first.
func (s *Contacts) search(ctx context.Context, q string, limit int) ([]Contact, error) {
	var out []Contact
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		// Each statement is planned for its values (as history.search's
		// are): a plan made for any query (the generic plan of a prepared
		// statement) cannot tell a query that matches thousands from one
		// that matches none, and a scan of every contact costs 50–200 ms.
		if _, err := tx.Exec(ctx, `SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL jit = off;
			SET LOCAL max_parallel_workers_per_gather = 0`); err != nil {
			return err
		}
		var err error
		out, err = searchIn(ctx, tx, q, limit)
		return err
	})
	return out, err
}

// searchIn is search's statements, in tx.
func searchIn(ctx context.Context, tx pgx.Tx, q string, limit int) ([]Contact, error) {
	like := "%" + likeEscape(q) + "%"
	collect := func(rows pgx.Rows, err error) ([]Contact, error) {
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Contact, error) { return scanContact(r) })
	}
	if utf8.RuneCountInString(q) < 3 {
		word := likeEscape(q) + "%"
		return collect(tx.Query(ctx, `SELECT `+contactColumns+contactFrom+`
			WHERE ct.search LIKE $1 OR ct.search LIKE '% ' || $1 ORDER BY ct.id DESC LIMIT $2`, word, limit))
	}
	var ids []ContactID
	if err := tx.QueryRow(ctx, `SELECT coalesce(array_agg(id), '{}') FROM
		(SELECT id FROM contacts WHERE search LIKE $1 LIMIT $2) m`, like, fewMatches+1).Scan(&ids); err != nil {
		return nil, err
	}
	if len(ids) <= fewMatches {
		return collect(tx.Query(ctx, `SELECT `+contactColumns+contactFrom+`
			WHERE ct.id = ANY ($1) ORDER BY ct.search <->> $2::text, ct.id DESC LIMIT $3`, ids, q, limit))
	}
	return collect(tx.Query(ctx, `SELECT `+contactColumns+contactFrom+`
		WHERE lower(ct.search) LIKE $1 ORDER BY lower(ct.search) <->> $2::text LIMIT $3`, like, q, limit))
}

// likeEscape escapes LIKE's wildcards (and its escape character) in s.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// CreateContact makes a contact from in, by p, inside tx, and records it in the
// change log.
func CreateContact(ctx context.Context, tx pgx.Tx, p auth.Principal, in ContactInput) (Contact, error) {
	if err := Staff(p); err != nil {
		return Contact{}, err
	}
	if err := in.Check(true); err != nil {
		return Contact{}, err
	}
	c := Contact{Name: *in.Name, Emails: []string{}}
	if in.Emails != nil {
		c.Emails = *in.Emails
	}
	for _, f := range []struct{ to, from *string }{{&c.Phone, in.Phone}, {&c.Company, in.Company},
		{&c.Notes, in.Notes}, {&c.ExternalID, in.ExternalID}} {
		if f.from != nil {
			*f.to = *f.from
		}
	}
	id, err := insertContact(ctx, tx, c, &p.UserID)
	if err != nil {
		return Contact{}, err
	}
	if err := logChange(ctx, tx, id, &p.UserID, true, contactDiff(Contact{Emails: []string{}}, c)); err != nil {
		return Contact{}, err
	}
	return getContact(ctx, tx, id, false)
}

// insertContact stores c, made by user (nil: the system), and answers
// its id; conflict when its external id is another contact's.
func insertContact(ctx context.Context, tx pgx.Tx, c Contact, user *auth.UserID) (ContactID, error) {
	var id ContactID
	err := tx.QueryRow(ctx, `INSERT INTO contacts (name, emails, phone, company, notes, external_id, verified,
			created_by, updated_by, search)
		VALUES ($1, $2, $3, $4, $5, nullif($6, ''), $7, $8, $8, $9) RETURNING id`,
		c.Name, c.Emails, c.Phone, c.Company, c.Notes, c.ExternalID, c.Verified, user,
		SearchText(c.Name, c.Emails, c.Phone, c.Company)).Scan(&id)
	return id, takenExternalID(err)
}

// takenExternalID answers the unique external id's violation as a conflict.
func takenExternalID(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "contacts_external_id_key" {
		return queues.Conflict("external_id: another contact has this external id")
	}
	return err
}

// logChange records a save of contact id by user (nil: the system).
func logChange(ctx context.Context, tx pgx.Tx, id ContactID, user *auth.UserID, created bool, fields []Field) error {
	if fields == nil {
		fields = []Field{}
	}
	_, err := tx.Exec(ctx, `INSERT INTO contact_changes (contact_id, user_id, user_name, created, fields)
		VALUES ($1, $2, coalesce((SELECT display_name FROM users WHERE id = $2), ''), $3, $4)`, id, user, created, fields)
	return err
}

// Create makes a contact from in, by p.
func (s *Contacts) Create(ctx context.Context, p auth.Principal, in ContactInput) (Contact, error) {
	var c Contact
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		c, err = CreateContact(ctx, tx, p, in)
		return err
	})
	return c, err
}

// Update changes contact id's fields that in names, by p, recording what
// changed; a field that came verified and is changed loses its mark. A
// save that changes nothing records nothing.
func (s *Contacts) Update(ctx context.Context, p auth.Principal, id ContactID, in ContactInput) (Contact, error) {
	if err := Staff(p); err != nil {
		return Contact{}, err
	}
	if err := in.Check(false); err != nil {
		return Contact{}, err
	}
	var out Contact
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		old, err := getContact(ctx, tx, id, true)
		if err != nil {
			return err
		}
		c := old
		for _, f := range []struct{ to, from *string }{{&c.Name, in.Name}, {&c.Phone, in.Phone},
			{&c.Company, in.Company}, {&c.Notes, in.Notes}, {&c.ExternalID, in.ExternalID}} {
			if f.from != nil {
				*f.to = *f.from
			}
		}
		if in.Emails != nil {
			c.Emails = *in.Emails
		}
		fields := contactDiff(old, c)
		if len(fields) == 0 {
			out = old
			return nil
		}
		c.Verified = unverify(old, c)
		if _, err := tx.Exec(ctx, `UPDATE contacts SET name = $2, emails = $3, phone = $4, company = $5, notes = $6,
				external_id = nullif($7, ''), verified = $8, updated_at = now(), updated_by = $9, search = $10
			WHERE id = $1`, id, c.Name, c.Emails, c.Phone, c.Company, c.Notes, c.ExternalID, c.Verified, p.UserID,
			SearchText(c.Name, c.Emails, c.Phone, c.Company)); err != nil {
			return takenExternalID(err)
		}
		if err := logChange(ctx, tx, id, &p.UserID, false, fields); err != nil {
			return err
		}
		out, err = getContact(ctx, tx, id, false)
		return err
	})
	return out, err
}

// diff lists the fields that differ from old to c, in the wire's order.
func contactDiff(old, c Contact) []Field {
	var out []Field
	if old.Name != c.Name {
		out = append(out, Field{"name", old.Name, c.Name})
	}
	if !slices.Equal(old.Emails, c.Emails) {
		out = append(out, Field{"emails", old.Emails, c.Emails})
	}
	for _, f := range []struct{ name, old, new string }{{"phone", old.Phone, c.Phone},
		{"company", old.Company, c.Company}, {"notes", old.Notes, c.Notes},
		{"external_id", old.ExternalID, c.ExternalID}} {
		if f.old != f.new {
			out = append(out, Field{f.name, f.old, f.new})
		}
	}
	return out
}

// unverify is old's verified marks less those of what c changed: a name or
// an external id edited by hand is no longer the backend's, nor is an
// address removed; an address kept stays verified.
func unverify(old, c Contact) Verified {
	v := Verified{
		ExternalID: old.Verified.ExternalID && old.ExternalID == c.ExternalID,
		Name:       old.Verified.Name && old.Name == c.Name,
	}
	for _, e := range old.Verified.Emails {
		if slices.Contains(c.Emails, e) {
			v.Emails = append(v.Emails, e)
		}
	}
	return v
}
