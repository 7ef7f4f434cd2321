// Package search is the history of conversations: every conversation,
// open or closed, found by contact, agent, queue, dates, status,
// important mark and text (PostgreSQL full-text search over the events'
// text, a GIN index), newest first and paged with a cursor; each opened
// as its full transcript; and the important mark. Who may find what is
// one rule (rule.go).
package search

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"parley/auth"
	"parley/chat/conversation"
)

// Searcher answers history searches over the chat tables.
type Searcher struct {
	pool   *pgxpool.Pool
	window int // see find; tests make it small
}

// New makes a Searcher.
func New(pool *pgxpool.Pool) *Searcher { return &Searcher{pool, defaultWindow} }

// Result is one conversation found, with what matched.
type Result struct {
	Conversation conversation.Conversation `json:"conversation"`
	Important    bool                      `json:"important"`
	// Match is the first event whose text matches the query's text (nil
	// without text).
	Match *Match `json:"match"`
}

// Match is an event that matched, with a snippet of its text.
type Match struct {
	Seq     int    `json:"seq"`
	Kind    string `json:"kind"`
	Private bool   `json:"private"`
	// Snippet is the text around the matching words, in parts: Hit
	// parts are the words that matched.
	Snippet []Part `json:"snippet"`
}

// Part is a piece of a snippet.
type Part struct {
	Text string `json:"text"`
	Hit  bool   `json:"hit,omitempty"`
}

// Page is a page of results, newest first. Cursor asks for the next
// page; empty when this is the last.
type Page struct {
	Results []Result `json:"results"`
	Cursor  string   `json:"cursor"`
}

// textSQL is an event e's words (0010_search.sql): to_tsvector('simple',
// e.text), stored, with a GIN index.
const textSQL = `e.words`

// contactSQL is a conversation c's contact words (0010_search.sql): its
// customer's name and e-mail, stored, with a GIN index.
const contactSQL = `c.contact_words`

// Search finds the conversations p may see that match q, newest first
// (by when they started), a page at a time.
func (s *Searcher) Search(ctx context.Context, p auth.Principal, q Query) (Page, error) {
	f, err := q.check()
	if err != nil {
		return Page{}, err
	}
	w, err := whoIs(ctx, s.pool, p)
	if err != nil {
		return Page{}, err
	}
	var page []cursor
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		// A search is a few milliseconds of one core: a parallel worker's
		// start, or JIT compiling, costs more than they save. And each
		// statement is planned for its values: a plan made for any words
		// (the generic plan of a prepared statement) cannot tell a common
		// word from a rare one.
		if _, err := tx.Exec(ctx, `SET LOCAL max_parallel_workers_per_gather = 0; SET LOCAL jit = off;
			SET LOCAL plan_cache_mode = force_custom_plan`); err != nil {
			return err
		}
		page, err = find(ctx, tx, f, w, s.window)
		return err
	})
	if err != nil {
		return Page{}, err
	}
	var out Page
	if len(page) > f.limit {
		page = page[:f.limit]
		out.Cursor = page[len(page)-1].String()
	}
	out.Results, err = s.results(ctx, page, f.text)
	return out, err
}

// defaultWindow is how many of the newest conversations that pass the
// other filters a text search tests one by one before it asks the text
// index.
const defaultWindow = 200

// find is the page's conversations and one more (is there a next page?).
//
// Without text, it is one walk of the conversations newest first. With
// text, no one plan is quick for every word: a common word is found
// soonest by testing the newest conversations' events one conversation
// after the other, a rare one by asking the text index first; and
// PostgreSQL's guess of how common words are is poor for phrases. So
// find tests the newest window of conversations first; if that does not
// fill the page, the words are rare there (fewer than a page in the
// window), and it asks the index for the rest, older than the window.
func find(ctx context.Context, tx pgx.Tx, f filter, w who, window int) ([]cursor, error) {
	need := f.limit + 1
	if f.text == "" {
		var a args
		return cursors(ctx, tx, `SELECT c.id, c.queued_at FROM conversations c WHERE `+filterSQL(f, w, f.after, &a)+
			` ORDER BY c.queued_at DESC, c.id DESC LIMIT `+a.add(need), a)
	}
	var a args
	inWindow := `SELECT c.id, c.queued_at FROM conversations c WHERE ` + filterSQL(f, w, f.after, &a) +
		` ORDER BY c.queued_at DESC, c.id DESC LIMIT ` + a.add(window)
	// A scalar subquery is run row by row, in the window's order, and stops
	// at the page's end: never a join over every event with the words.
	hits, err := cursors(ctx, tx, `SELECT id, queued_at FROM (`+inWindow+`) c
		WHERE (SELECT true FROM conversation_events e WHERE e.conversation_id = c.id
			AND `+textSQL+` @@ websearch_to_tsquery('simple', `+a.add(f.text)+`) LIMIT 1)
		ORDER BY queued_at DESC, id DESC LIMIT `+a.add(need), a)
	if err != nil || len(hits) == need {
		return hits, err
	}
	a = nil
	edge, err := cursors(ctx, tx, `SELECT c.id, c.queued_at FROM conversations c WHERE `+filterSQL(f, w, f.after, &a)+
		` ORDER BY c.queued_at DESC, c.id DESC OFFSET `+a.add(window-1)+` LIMIT 1`, a)
	if err != nil || len(edge) == 0 { // the window held every conversation left
		return hits, err
	}
	a = nil
	rest, err := cursors(ctx, tx, `SELECT c.id, c.queued_at FROM conversations c WHERE `+filterSQL(f, w, &edge[0], &a)+`
		AND c.id IN (SELECT e.conversation_id FROM conversation_events e
			WHERE `+textSQL+` @@ websearch_to_tsquery('simple', `+a.add(f.text)+`))
		ORDER BY c.queued_at DESC, c.id DESC LIMIT `+a.add(need-len(hits)), a)
	return append(hits, rest...), err
}

// filterSQL is the condition of every filter but the text, and of the rule
// (who), on conversations c older than after (nil: all).
func filterSQL(f filter, w who, after *cursor, a *args) string {
	where := []string{w.sql(a)}
	if f.contact != "" {
		where = append(where, contactSQL+` @@ to_tsquery('simple', `+a.add(f.contact)+`)`)
	}
	if f.agent != 0 {
		u := a.add(f.agent)
		where = append(where, `(c.agent_id = `+u+` OR EXISTS (SELECT 1 FROM conversation_agents fa
			WHERE fa.conversation_id = c.id AND fa.user_id = `+u+`))`)
	}
	if f.queue != 0 {
		where = append(where, `c.queue_id = `+a.add(f.queue))
	}
	if !f.from.IsZero() {
		where = append(where, `c.queued_at >= `+a.add(f.from))
	}
	if !f.to.IsZero() {
		where = append(where, `c.queued_at < `+a.add(f.to))
	}
	switch f.status {
	case StatusOpen:
		where = append(where, `c.state NOT IN ('closed', 'offline')`)
	case StatusClosed:
		where = append(where, `c.state = 'closed'`)
	case StatusOffline:
		where = append(where, `c.state = 'offline'`)
	}
	if f.closeStatus != "" {
		where = append(where, `c.close_status = `+a.add(f.closeStatus))
	}
	if f.important != nil {
		where = append(where, `c.important = `+a.add(*f.important))
	}
	if after != nil {
		where = append(where, `(c.queued_at, c.id) < (`+a.add(after.at)+`, `+a.add(after.id)+`)`)
	}
	return strings.Join(where, ` AND `)
}

// cursors runs a query of (id, queued_at) rows.
func cursors(ctx context.Context, tx pgx.Tx, sql string, a args) ([]cursor, error) {
	rows, err := tx.Query(ctx, sql, a...)
	if err != nil {
		return nil, err
	}
	var out []cursor
	var c cursor
	_, err = pgx.ForEachRow(rows, []any{&c.id, &c.at}, func() error { out = append(out, c); return nil })
	return out, err
}

// results reads the conversations of a page, in its order, and the
// snippets of their first events that match text: ts_headline runs over
// the page's conversations only, never over every match.
func (s *Searcher) results(ctx context.Context, page []cursor, text string) ([]Result, error) {
	ids := make([]int64, len(page))
	for i, c := range page {
		ids[i] = c.id
	}
	rows, err := s.pool.Query(ctx, `SELECT `+conversation.Columns+`, c.important`+conversation.From+`
		WHERE c.id = ANY ($1) ORDER BY c.queued_at DESC, c.id DESC`, ids)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Result, error) {
		var res Result
		var err error
		res.Conversation, err = conversation.Scan(r, &res.Important)
		return res, err
	})
	if err != nil || text == "" || len(out) == 0 {
		return out, err
	}
	rows, err = s.pool.Query(ctx, `SELECT DISTINCT ON (e.conversation_id) e.conversation_id, e.seq, e.kind, e.private,
			ts_headline('simple', e.text, query, 'MaxWords=24, MinWords=12, StartSel='
				|| chr(1) || ', StopSel=' || chr(2))
		FROM conversation_events e, websearch_to_tsquery('simple', $2) query
		WHERE e.conversation_id = ANY ($1) AND `+textSQL+` @@ query
		ORDER BY e.conversation_id, e.seq`, ids, text)
	if err != nil {
		return nil, err
	}
	matches := map[conversation.ID]*Match{}
	var id conversation.ID
	var m Match
	var headline string
	_, err = pgx.ForEachRow(rows, []any{&id, &m.Seq, &m.Kind, &m.Private, &headline}, func() error {
		m.Snippet = parts(headline)
		matches[id] = &Match{Seq: m.Seq, Kind: m.Kind, Private: m.Private, Snippet: m.Snippet}
		return nil
	})
	for i := range out {
		out[i].Match = matches[out[i].Conversation.ID]
	}
	return out, err
}

// parts cuts a headline marked with \x01 (a hit starts) and \x02 (it
// ends) into parts, so that clients show the hits without parsing markup.
// A text that holds those control characters itself gets a part wrongly
// marked, nothing worse: parts are text, never HTML.
func parts(headline string) []Part {
	var out []Part
	for headline != "" {
		start := strings.IndexByte(headline, 1)
		if start < 0 {
			out = append(out, Part{Text: headline})
			break
		}
		if start > 0 {
			out = append(out, Part{Text: headline[:start]})
		}
		rest := headline[start+1:]
		end := strings.IndexByte(rest, 2)
		if end < 0 {
			end = len(rest)
		}
		out = append(out, Part{Text: rest[:end], Hit: true})
		headline = rest[min(end+1, len(rest)):]
	}
	return out
}
