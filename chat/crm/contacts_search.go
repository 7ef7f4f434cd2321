package crm

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/queues"
)

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
