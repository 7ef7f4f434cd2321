package conversation

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"parley/chat/queues"
)

// storeSQL writes a batch of messages in one statement, set-based: the
// batch arrives as one JSON array (an object per message, in arrival
// order: batchWriter.arrays) and the statement, for each message,
//
//   - checks that its sender may read the conversation, by readSQL,
//     the access rule's SQL ("allowed"), and that it is open: Decide's
//     Write;
//   - finds it if it is already stored under its client id ("dup");
//   - numbers the new messages of each open conversation after its
//     last_seq, and its public ones also after its last_public_seq (the
//     customer's numbering), in arrival order, with one UPDATE per
//     conversation that also records an agent's first public response;
//   - inserts them.
//
// It answers one row per message: its ordinal, what happened ('n' not
// found or not allowed, 'd' already stored, 'c' the chat is closed, 'i'
// inserted), the seq, public_seq (0 for a private message) and time, the author name (a customer's, from the
// conversation) and what the customer's view of the event needs of the
// queue. Data-modifying CTEs do not see each other's writes, so two
// messages with the same key in one batch are the caller's to handle.
//
// Shaped for the plan: the lookups are LATERAL … LIMIT 1 so they stay
// index probes whatever the statistics say (a generic plan over a table
// not analyzed yet hash-joined all of conversation_events), and "fresh" is
// one boolean column so that the planner expects half the batch, not one
// row, and hash-joins the CTEs instead of looping over them.
const storeSQL = `WITH i AS (
		SELECT * FROM ROWS FROM (jsonb_to_recordset($1::jsonb) AS (conv bigint, sender text, subject text, scope text,
			user_id bigint, author_key text, client_id text, author_name text, private boolean, text text, files jsonb))
			WITH ORDINALITY AS t(conv, sender, subject, scope, user_id, author_key, client_id, author_name, private, text, files, ord)
	), checked AS (
		SELECT i.ord, i.conv, i.author_key, i.client_id, i.private, i.text, i.files, c.state, c.queue_id,
			q.name AS queue_name, q.show_agent_name, q.agent_alias,
			CASE WHEN i.sender = 'customer' THEN 'customer' ELSE 'agent' END AS author_kind,
			CASE WHEN i.sender = 'customer' THEN c.customer_name ELSE i.author_name END AS author_name,
			` + readSQL + ` AS allowed,
			d.seq AS dup_seq, d.public_seq AS dup_public_seq, d.created_at AS dup_at,
			NOT EXISTS (SELECT 1 FROM jsonb_array_elements(i.files) fe WHERE NOT EXISTS (SELECT 1 FROM chat_files f
				WHERE f.id = (fe->>'id')::bigint AND f.conversation_id = i.conv AND f.owner_key = i.author_key
				AND f.seq IS NULL)) AS files_ok
		FROM i
		LEFT JOIN LATERAL (SELECT * FROM conversations c WHERE c.id = i.conv LIMIT 1) c ON true
		LEFT JOIN queues q ON q.id = c.queue_id
		LEFT JOIN LATERAL (SELECT seq, public_seq, created_at FROM conversation_events d
			WHERE d.conversation_id = i.conv AND d.author_key = i.author_key AND d.client_id = i.client_id LIMIT 1) d ON true
	), m AS (
		SELECT *, allowed AND dup_seq IS NULL AND files_ok AND state NOT IN ('closed', 'offline') AS fresh FROM checked
	), fresh AS (
		SELECT * FROM m WHERE fresh
	), num AS (
		UPDATE conversations c SET last_seq = c.last_seq + f.n, last_public_seq = c.last_public_seq + f.np,
			first_response_at = CASE WHEN f.responds THEN coalesce(c.first_response_at, now()) ELSE c.first_response_at END
		FROM (SELECT conv, count(*) AS n, count(*) FILTER (WHERE NOT private) AS np,
				bool_or(author_kind = 'agent' AND NOT private) AS responds
			FROM fresh GROUP BY conv) f
		WHERE c.id = f.conv AND c.state NOT IN ('closed', 'offline')
		RETURNING c.id, c.last_seq - f.n AS base, c.last_public_seq - f.np AS public_base
	), ins AS (
		INSERT INTO conversation_events
			(conversation_id, seq, kind, author_kind, author_key, author_name, private, text, client_id, status, public_seq, files)
		SELECT f.conv, num.base + row_number() OVER (PARTITION BY f.conv ORDER BY f.ord), 'message', f.author_kind,
			f.author_key, f.author_name, f.private, f.text, f.client_id, '',
			CASE WHEN NOT f.private THEN num.public_base + row_number() OVER (PARTITION BY f.conv, f.private ORDER BY f.ord) END,
			f.files
		FROM fresh f JOIN num ON num.id = f.conv
		RETURNING conversation_id, author_key, client_id, seq, public_seq, created_at, files, private
	), att AS (
		UPDATE chat_files cf SET seq = ins.seq, private = ins.private
		FROM ins, jsonb_array_elements(ins.files) fe
		WHERE ins.files IS NOT NULL AND cf.id = (fe->>'id')::bigint AND cf.seq IS NULL
	)
	SELECT m.ord,
		CASE WHEN NOT m.allowed THEN 'n' WHEN m.dup_seq IS NOT NULL THEN 'd' WHEN NOT m.files_ok THEN 'f' WHEN ins.seq IS NULL THEN 'c' ELSE 'i' END,
		coalesce(m.dup_seq, ins.seq, 0), coalesce(m.dup_public_seq, ins.public_seq, 0),
		coalesce(m.dup_at, ins.created_at, now()), coalesce(m.author_name, ''),
		coalesce(m.queue_id, 0), coalesce(m.queue_name, ''), coalesce(m.show_agent_name, false), coalesce(m.agent_alias, '')
	FROM m LEFT JOIN ins ON ins.conversation_id = m.conv AND ins.author_key = m.author_key AND ins.client_id = m.client_id`

// batchWriter holds the writer goroutine's connection and buffers, reused
// from batch to batch.
type batchWriter struct {
	pool *pgxpool.Pool
	conn *pgxpool.Conn // nil until the first batch and after it broke

	ids   []ID
	sent  []*sendReq // the batch less its in-batch resends, in order
	first map[messageKey]*sendReq
	doc   []byte // the statement's argument: sent as a JSON array
}

// messageKey is what makes a message unique (the index
// conversation_events_client).
type messageKey struct {
	conv             ID
	author, clientID string
}

func newBatchWriter(pool *pgxpool.Pool, max int) *batchWriter {
	return &batchWriter{pool: pool, first: make(map[messageKey]*sendReq, max)}
}

// connection is the writer's own connection, set to plan storeSQL once
// (a generic plan): the default would plan a batch of one afresh each
// time, which costs more than running it.
func (w *batchWriter) connection(ctx context.Context) (*pgxpool.Conn, error) {
	if w.conn != nil && !w.conn.Conn().IsClosed() {
		return w.conn, nil
	}
	w.release()
	c, err := w.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := c.Exec(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
		c.Release()
		return nil, err
	}
	w.conn = c
	return c, nil
}

// release gives the connection back to the pool as it found it.
func (w *batchWriter) release() {
	if w.conn == nil {
		return
	}
	if !w.conn.Conn().IsClosed() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if _, err := w.conn.Exec(ctx, `RESET plan_cache_mode`); err != nil {
			w.conn.Conn().Close(ctx) //nolint:errcheck // the pool drops a closed connection
		}
		cancel()
	}
	w.conn.Release()
	w.conn = nil
}

// store commits a batch with one statement, outside any transaction: the
// statement is its own, so when its result has been read to the end
// without error (pgx reads up to ReadyForQuery), the batch is committed. A
// message sent again with the same client id in the same batch is answered
// as a duplicate of the first (or with its error).
func (w *batchWriter) store(ctx context.Context, batch []*sendReq) error {
	w.arrays(batch)
	db, err := w.connection(ctx)
	if err != nil {
		return err
	}
	rows, err := db.Query(ctx, storeSQL, w.doc)
	if err != nil {
		return err
	}
	n := 0
	for rows.Next() {
		var ord int64
		var outcome string
		var seq, publicSeq int
		var at time.Time
		var author string
		var q queues.Queue
		if err := rows.Scan(&ord, &outcome, &seq, &publicSeq, &at, &author, &q.ID, &q.Name, &q.ShowAgentName,
			&q.AgentAlias); err != nil {
			rows.Close()
			return err
		}
		if ord < 1 || int(ord) > len(w.sent) {
			rows.Close()
			return fmt.Errorf("chat: store: answer for message %d of %d", ord, len(w.sent))
		}
		w.sent[ord-1].stored(outcome, seq, publicSeq, at, author, q)
		n++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if n != len(w.sent) {
		return fmt.Errorf("chat: store: %d answers for %d messages", n, len(w.sent))
	}
	for _, r := range batch {
		if f := r.first; f != nil {
			r.res, r.err = f.res, f.err
			r.res.Duplicate = f.err == nil
		}
	}
	return nil
}

// arrays writes the statement's argument from batch, leaving out resends
// of a message earlier in it: a JSON array of one object per message,
// which the statement reads with jsonb_to_recordset. One document
// encodes for a fraction of what eleven arrays did (pgx encodes each
// array element by element); a batch is mostly one message.
func (w *batchWriter) arrays(batch []*sendReq) {
	clear(w.first)
	w.sent = w.sent[:0]
	b := append(w.doc[:0], '[')
	for _, r := range batch {
		r.res, r.err, r.first = SendResult{}, nil, nil
		k := messageKey{r.ev.ConversationID, r.ev.Author.key, r.ev.ClientID}
		if f, ok := w.first[k]; ok {
			r.first = f
			continue
		}
		w.first[k] = r
		if len(w.sent) > 0 {
			b = append(b, ',')
		}
		w.sent = append(w.sent, r)
		b = append(b, `{"conv":`...)
		b = strconv.AppendInt(b, int64(r.ev.ConversationID), 10)
		b = append(b, `,"sender":`...)
		b = appendDocString(b, r.as)
		b = append(b, `,"subject":`...)
		b = appendDocString(b, r.p.Subject)
		b = append(b, `,"scope":`...)
		b = appendDocString(b, r.p.Scope)
		b = append(b, `,"user_id":`...)
		b = strconv.AppendInt(b, int64(r.p.UserID), 10)
		b = append(b, `,"author_key":`...)
		b = appendDocString(b, r.ev.Author.key)
		b = append(b, `,"client_id":`...)
		b = appendDocString(b, r.ev.ClientID)
		b = append(b, `,"author_name":`...)
		b = appendDocString(b, r.ev.Author.Name)
		b = append(b, `,"private":`...)
		b = strconv.AppendBool(b, r.ev.Private)
		b = append(b, `,"text":`...)
		b = appendDocString(b, r.ev.Text)
		if files := filesJSON(r.ev.Files); files != nil { // no key: files is NULL
			b = append(b, `,"files":`...)
			b = append(b, files...)
		}
		b = append(b, '}')
	}
	w.doc = append(b, ']')
}

// appendDocString appends s as a JSON string for PostgreSQL: the quote,
// the backslash and control characters escaped, every other byte as it
// is. So text PostgreSQL refuses (not UTF-8; a NUL, as \u0000) is refused
// in the document as it was in a text array, never changed on the way.
func appendDocString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			start = i + 1
		}
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// stored records what the statement did with r. A customer is answered
// with the public_seq, the numbering it sees.
func (r *sendReq) stored(outcome string, seq, publicSeq int, at time.Time, author string, q queues.Queue) {
	answer := seq
	if r.as == sendAsCustomer {
		answer = publicSeq
	}
	switch outcome {
	case "n":
		r.err = queues.ErrNotFound
	case "c":
		r.err = queues.Conflict("the chat is closed")
	case "f":
		r.err = queues.Conflict("files: a file of this message went with another one already")
	case "d":
		r.res = SendResult{Seq: answer, Time: at, Duplicate: true}
	default:
		r.res = SendResult{Seq: answer, Time: at}
		r.ev.Seq, r.ev.publicSeq, r.ev.Time, r.ev.Author.Name, r.queue = seq, publicSeq, at, author, q
	}
}

// filesJSON is a message's files as storeSQL takes them: nil for none.
func filesJSON(files []FileRef) []byte {
	if len(files) == 0 {
		return nil
	}
	b, _ := json.Marshal(files) // plain fields: never fails
	return b
}
