package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"parley/auth"
	"parley/chat/queues"
	"parley/chat/search"
	"parley/store"
)

// h1 is the history search's benchmark: text searches with filters, as
// supervisors and agents ask them, against a database the fill command
// filled, one after the other, each timed from the call to its page.
// It calls chat/search directly (what history.search runs), so the
// figures are the database's and the search's, without the websocket.
//
//	loadtest h1 --database-url postgres://…/parley_history --searches 500
type h1Settings struct {
	searches int
	target   time.Duration
	seed     uint64
}

func (s *h1Settings) register(fs *flag.FlagSet) {
	fs.IntVar(&s.searches, "searches", 500, "searches to time (after 20 not timed, to warm the caches)")
	fs.DurationVar(&s.target, "target", 100*time.Millisecond, "the run fails when the p95 is above this")
	fs.Uint64Var(&s.seed, "seed", 2, "the random seed of the searches")
}

func runH1(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadtest h1", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var s h1Settings
	s.register(fs)
	dbURL := fs.String("database-url", "postgres://postgres@127.0.0.1:5432/parley_history?sslmode=disable",
		"a database loadtest fill filled")
	out := fs.String("json", "", "also write the run's figures to this `file` (for loadtest table)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || s.searches < 1 {
		return 2
	}
	pool, err := store.Open(ctx, *dbURL, store.Options{MaxConns: 2})
	if err != nil {
		fmt.Fprintln(stderr, "loadtest h1:", err)
		return 1
	}
	defer pool.Close()
	res, err := h1(ctx, pool, s)
	if res != nil {
		res.print(stdout)
		if *out != "" {
			if err := res.writeJSON(*out); err != nil {
				fmt.Fprintln(stderr, "loadtest h1:", err)
				return 1
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadtest h1:", err)
		return 1
	}
	if !res.Pass {
		return 1
	}
	return 0
}

// h1Search is one kind of search: who asks and what.
type h1Search struct {
	name string
	make func(r *rand.Rand, st h1Staff) (auth.Principal, search.Query)
}

// h1Staff are the fill's people and queues that the searches use.
type h1Staff struct {
	all, scoped, agent auth.Principal
	queues             []int64
	newest             time.Time
}

// common words of the generated chats, and rarer ones.
var h1Words = []string{"parcel", "refund", "order", "courier", "invoice", "warranty", "password", "return", "address",
	"kettle", "headphones", "monitor", "Prague", "Dublin", "blue", "cancel", "delivery", "manager", "discount"}

var h1Searches = []h1Search{
	{"a word, every queue", func(r *rand.Rand, st h1Staff) (auth.Principal, search.Query) {
		return st.all, search.Query{Text: pick(r, h1Words)}
	}},
	{"a word in a queue", func(r *rand.Rand, st h1Staff) (auth.Principal, search.Query) {
		return st.all, search.Query{Text: pick(r, h1Words), QueueID: queues.QueueID(pick(r, st.queues))}
	}},
	{"a word, 30 days, closed", func(r *rand.Rand, st h1Staff) (auth.Principal, search.Query) {
		to := st.newest.AddDate(0, 0, -r.IntN(150))
		return st.all, search.Query{Text: pick(r, h1Words), From: to.AddDate(0, 0, -30).Format(time.DateOnly),
			To: to.Format(time.DateOnly), Status: search.StatusClosed}
	}},
	{"two words and a contact", func(r *rand.Rand, st h1Staff) (auth.Principal, search.Query) {
		return st.all, search.Query{Text: pick(r, h1Words) + " " + pick(r, h1Words), Contact: pick(r, firstNames)}
	}},
	{"an order number", func(r *rand.Rand, st h1Staff) (auth.Principal, search.Query) {
		return st.all, search.Query{Text: strconv.Itoa(100000 + r.IntN(900000))}
	}},
	{"a phrase, important", func(r *rand.Rand, st h1Staff) (auth.Principal, search.Query) {
		return st.all, search.Query{Text: `"` + pick(r, products) + `"`, Important: ptrTo(true)}
	}},
	{"a word, supervisor of 2 queues", func(r *rand.Rand, st h1Staff) (auth.Principal, search.Query) {
		return st.scoped, search.Query{Text: pick(r, h1Words)}
	}},
	{"a word, an agent's own chats", func(r *rand.Rand, st h1Staff) (auth.Principal, search.Query) {
		return st.agent, search.Query{Text: pick(r, h1Words), Status: search.StatusClosed}
	}},
}

func pick[T any](r *rand.Rand, from []T) T { return from[r.IntN(len(from))] }
func ptrTo[T any](v T) *T                  { return &v }

// h1 runs the searches and reports their latencies.
func h1(ctx context.Context, pool *pgxpool.Pool, s h1Settings) (*result, error) {
	st, err := h1People(ctx, pool)
	if err != nil {
		return nil, err
	}
	var conversations, events int64
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM conversations), (SELECT count(*) FROM conversation_events
		WHERE kind IN ('message', 'comment'))`).Scan(&conversations, &events); err != nil {
		return nil, err
	}
	srch := search.New(pool)
	r := rand.New(rand.NewPCG(s.seed, 7))
	all := make([]time.Duration, 0, s.searches)
	byKind := make([][]time.Duration, len(h1Searches))
	found := 0
	for i := -20; i < s.searches; i++ {
		k := r.IntN(len(h1Searches))
		p, q := h1Searches[k].make(r, st)
		if r.IntN(5) == 0 { // a fifth ask for the second page
			page, err := srch.Search(ctx, p, q)
			if err != nil {
				return nil, fmt.Errorf("%s %+v: %w", h1Searches[k].name, q, err)
			}
			q.Cursor = page.Cursor
			if q.Cursor == "" {
				continue
			}
		}
		start := time.Now()
		page, err := srch.Search(ctx, p, q)
		took := time.Since(start)
		if err != nil {
			return nil, fmt.Errorf("%s %+v: %w", h1Searches[k].name, q, err)
		}
		if i < 0 {
			continue
		}
		found += len(page.Results)
		all = append(all, took)
		byKind[k] = append(byKind[k], took)
	}
	res := newResult("h1", fmt.Sprintf("H1 history search: %d searches over %d conversations, %d messages",
		len(all), conversations, events))
	sum := h1Summary(all)
	res.add("all searches", "%s", sum)
	for k, d := range byKind {
		res.add("  "+h1Searches[k].name, "%s", h1Summary(d))
	}
	res.add("results per search", "%.1f", float64(found)/float64(max(1, len(all))))
	p95 := percentile(sortedDurations(all), 0.95)
	res.Summary = fmt.Sprintf("history search p95 %s (p50 %s) over %d conversations, %d messages",
		ms(p95), ms(percentile(sortedDurations(all), 0.50)), conversations, events)
	res.Figures["p50_ms"] = float64(percentile(sortedDurations(all), 0.50)) / 1e6
	res.Figures["p95_ms"] = float64(p95) / 1e6
	res.Figures["p99_ms"] = float64(percentile(sortedDurations(all), 0.99)) / 1e6
	if found == 0 {
		res.fail("no search found anything: is the database filled (loadtest fill)?")
	}
	if p95 > s.target {
		res.fail("p95 %s is above the target %s", ms(p95), ms(s.target))
	}
	return res, nil
}

func h1Summary(d []time.Duration) string {
	if len(d) == 0 {
		return "none"
	}
	d = sortedDurations(d)
	return fmt.Sprintf("p50 %s  p95 %s  p99 %s  max %s  (n=%d)", ms(percentile(d, 0.5)), ms(percentile(d, 0.95)),
		ms(percentile(d, 0.99)), ms(d[len(d)-1]), len(d))
}

func sortedDurations(d []time.Duration) []time.Duration {
	d = slices.Clone(d)
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d
}

// h1People finds the newest fill's supervisors and its busiest agent.
func h1People(ctx context.Context, pool *pgxpool.Pool) (h1Staff, error) {
	var st h1Staff
	var all, scoped, agent int64
	err := pool.QueryRow(ctx, `SELECT
		(SELECT max(id) FROM users WHERE role = 'supervisor' AND username LIKE 'fill-%-sue'),
		(SELECT max(id) FROM users WHERE role = 'supervisor' AND username LIKE 'fill-%-sam'),
		(SELECT user_id FROM conversation_agents GROUP BY user_id ORDER BY count(*) DESC LIMIT 1),
		(SELECT max(queued_at) FROM conversations)`).Scan(&all, &scoped, &agent, &st.newest)
	if err != nil {
		return st, errors.New("no filled history here: run loadtest fill first")
	}
	st.all = auth.Principal{Kind: auth.KindUser, Role: auth.RoleSupervisor, UserID: auth.UserID(all)}
	st.scoped = auth.Principal{Kind: auth.KindUser, Role: auth.RoleSupervisor, UserID: auth.UserID(scoped)}
	st.agent = auth.Principal{Kind: auth.KindUser, Role: auth.RoleAgent, UserID: auth.UserID(agent)}
	rows, err := pool.Query(ctx, `SELECT id FROM queues ORDER BY id`)
	if err != nil {
		return st, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return st, err
		}
		st.queues = append(st.queues, id)
	}
	return st, rows.Err()
}
