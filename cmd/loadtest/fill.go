package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/crypto/bcrypt"

	"parley/auth"
	"parley/chat"
	"parley/cluster"
	"parley/conference"
	"parley/staff"
	"parley/store"
)

// fill is the history generator: it fills a database with conversations
// as a contact center's months would leave them (several queues and
// agents, customers who come back, dates over months, close statuses,
// private messages and comments), written with COPY, for the history
// search's benchmark (h1). It speaks SQL, not the protocol: a million
// messages sent through the server would take hours.
//
//	loadtest fill --database-url postgres://…/parley_history --conversations 100000 --messages 1000000
type fillSettings struct {
	conversations int
	messages      int
	queues        int
	agents        int
	days          int
	seed          uint64
}

func (s *fillSettings) register(fs *flag.FlagSet) {
	fs.IntVar(&s.conversations, "conversations", 100000, "conversations to add")
	fs.IntVar(&s.messages, "messages", 1000000, "messages to add among them (1 to 40 each, this many on average)")
	fs.IntVar(&s.queues, "queues", 6, "queues (1–12) the conversations are spread over")
	fs.IntVar(&s.agents, "agents", 40, "agents, each a member of one or two queues")
	fs.IntVar(&s.days, "days", 180, "the conversations started over this many days before now")
	fs.Uint64Var(&s.seed, "seed", 1, "the random seed: the same seed makes the same text")
}

func (s fillSettings) check() error {
	switch {
	case s.conversations < 1:
		return fmt.Errorf("%w: --conversations must be at least 1", errUsage)
	case s.messages < s.conversations || s.messages > 40*s.conversations:
		return fmt.Errorf("%w: --messages must be 1 to 40 per conversation (%d to %d)", errUsage, s.conversations, 40*s.conversations)
	case s.queues < 1 || s.queues > len(fillQueues):
		return fmt.Errorf("%w: --queues must be 1 to %d", errUsage, len(fillQueues))
	case s.agents < s.queues:
		return fmt.Errorf("%w: --agents must be at least --queues", errUsage)
	case s.days < 1:
		return fmt.Errorf("%w: --days must be at least 1", errUsage)
	}
	return nil
}

// filled is what a fill added: its staff, for h1 to search as.
type filled struct {
	queues      []int64
	agents      []int64
	agentNames  []string
	members     map[int64][]int // each queue's agents, by index in agents
	supervisor  int64           // oversees every queue
	scoped      int64           // a supervisor given the first two queues (or the one)
	events      int
	messages    int
	tookCopy    time.Duration
	tookIndexes time.Duration
}

// runFill is the fill command: flags, then fillDB.
func runFill(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadtest fill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var s fillSettings
	s.register(fs)
	dbURL := fs.String("database-url", "postgres://postgres@127.0.0.1:5432/parley_history?sslmode=disable",
		"the database to fill (created and migrated when absent); run no server on it meanwhile")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return 2
	}
	if err := s.check(); err != nil {
		fmt.Fprintln(stderr, "loadtest fill:", err)
		return 2
	}
	pool, err := store.Open(ctx, *dbURL, store.Options{MaxConns: 4})
	if err != nil {
		fmt.Fprintln(stderr, "loadtest fill:", err)
		return 1
	}
	defer pool.Close()
	start := time.Now()
	f, err := fillDB(ctx, pool, s)
	if err != nil {
		fmt.Fprintln(stderr, "loadtest fill:", err)
		return 1
	}
	res := newResult("fill", fmt.Sprintf("fill: %d conversations, %d messages into %s", s.conversations, f.messages, redact(*dbURL)))
	res.add("conversations", "%d", s.conversations)
	res.add("messages", "%d (of %d events)", f.messages, f.events)
	res.add("queues, agents", "%d, %d", len(f.queues), len(f.agents))
	res.add("supervisors", "all queues: user %d; first queues only: user %d", f.supervisor, f.scoped)
	res.add("copy", "%s", f.tookCopy.Round(time.Millisecond))
	res.add("indexes, analyze", "%s", f.tookIndexes.Round(time.Millisecond))
	res.add("total", "%s", time.Since(start).Round(time.Millisecond))
	res.print(stdout)
	return 0
}

// fillDB migrates the database as the server would, adds the staff and
// queues, then the conversations with COPY. The text index is dropped
// during the COPY and built again after it (a GIN index built at once is
// far quicker than one kept up row by row); so is the contact index.
func fillDB(ctx context.Context, pool *pgxpool.Pool, s fillSettings) (filled, error) {
	var f filled
	if err := store.Migrate(ctx, pool, cluster.Migrations, auth.Migrations, conference.Migrations, chat.Migrations,
		staff.Migrations); err != nil {
		return f, err
	}
	rng := rand.New(rand.NewPCG(s.seed, s.seed^0x9e3779b97f4a7c15))
	run := strconv.FormatInt(time.Now().UnixNano()%1e9, 36) // makes this fill's names unique in the database
	if err := fillStaff(ctx, pool, s, rng, run, &f); err != nil {
		return f, err
	}
	// The conversations' ids: taken from the sequence in one go, so a
	// fill next to other rows leaves the sequence past its own.
	var first int64
	if err := pool.QueryRow(ctx, `SELECT nextval('conversations_id_seq')`).Scan(&first); err != nil {
		return f, err
	}
	if _, err := pool.Exec(ctx, `SELECT setval('conversations_id_seq', $1)`, first+int64(s.conversations)); err != nil {
		return f, err
	}
	indexes, err := dropIndexes(ctx, pool, "conversation_events_words", "conversations_contact")
	if err != nil {
		return f, err
	}
	g := newGenerator(s, rng, f, first, run)
	t0 := time.Now()
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"conversations"}, convColumns, pgx.CopyFromFunc(g.nextConversation)); err != nil {
			return fmt.Errorf("copy conversations: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"conversation_agents"}, []string{"conversation_id", "user_id", "joined_at"},
			pgx.CopyFromRows(g.agentRows)); err != nil {
			return fmt.Errorf("copy conversation_agents: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"conversation_events"}, eventColumns, pgx.CopyFromFunc(g.nextEvent)); err != nil {
			return fmt.Errorf("copy conversation_events: %w", err)
		}
		return nil
	})
	f.tookCopy = time.Since(t0)
	if err != nil {
		return f, err
	}
	t0 = time.Now()
	for _, def := range indexes {
		if _, err := pool.Exec(ctx, def); err != nil {
			return f, fmt.Errorf("%s: %w", def, err)
		}
	}
	for _, table := range []string{"conversations", "conversation_agents", "conversation_events"} {
		if _, err := pool.Exec(ctx, `ANALYZE `+table); err != nil {
			return f, err
		}
	}
	f.tookIndexes = time.Since(t0)
	f.events, f.messages = g.events, g.messages
	return f, nil
}

// dropIndexes drops the named indexes and returns the statements that
// make them again, as the migrations made them.
func dropIndexes(ctx context.Context, pool *pgxpool.Pool, names ...string) ([]string, error) {
	var defs []string
	for _, name := range names {
		var def string
		err := pool.QueryRow(ctx, `SELECT pg_get_indexdef(c.oid) FROM pg_class c WHERE c.relname = $1 AND c.relkind = 'i'`,
			name).Scan(&def)
		if err != nil {
			return nil, fmt.Errorf("index %s: %w", name, err)
		}
		if _, err := pool.Exec(ctx, `DROP INDEX `+pgx.Identifier{name}.Sanitize()); err != nil {
			return nil, err
		}
		defs = append(defs, def)
	}
	return defs, nil
}

var fillQueues = []string{"Sales", "Support", "Billing", "Returns", "Technical", "VIP", "Wholesale", "Shipping",
	"Accounts", "Partners", "Careers", "Press"}

var fillStatuses = []string{"Resolved", "Resolved", "Resolved", "Resolved", "Follow-up needed", "Escalated", "Spam", "No answer"}

// fillStaff adds the queues, agents (each in one or two queues) and two
// supervisors.
func fillStaff(ctx context.Context, pool *pgxpool.Pool, s fillSettings, rng *rand.Rand, run string, f *filled) error {
	hash, err := bcrypt.GenerateFromPassword([]byte("demo"), bcrypt.MinCost)
	if err != nil {
		return err
	}
	f.members = map[int64][]int{}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		for i := range s.queues {
			var id int64
			if err := tx.QueryRow(ctx, `INSERT INTO queues (key, name, statuses) VALUES ($1, $2, $3) RETURNING id`,
				"fill-"+run+"-"+strconv.Itoa(i), fillQueues[i], fillStatuses).Scan(&id); err != nil {
				return err
			}
			f.queues = append(f.queues, id)
		}
		user := func(username, name, role string) (int64, error) {
			var id int64
			err := tx.QueryRow(ctx, `INSERT INTO users (username, display_name, role, password_hash)
				VALUES ($1, $2, $3, $4) RETURNING id`, username, name, role, string(hash)).Scan(&id)
			return id, err
		}
		for i := range s.agents {
			name := firstNames[rng.IntN(len(firstNames))] + " " + lastNames[rng.IntN(len(lastNames))]
			id, err := user(fmt.Sprintf("fill-%s-agent-%d", run, i), name, "agent")
			if err != nil {
				return err
			}
			f.agents, f.agentNames = append(f.agents, id), append(f.agentNames, name)
			// Every queue has agents: agent i is in queue i mod n, and some
			// in a second one.
			qs := []int64{f.queues[i%len(f.queues)]}
			if len(f.queues) > 1 && rng.IntN(3) == 0 {
				qs = append(qs, f.queues[(i+1+rng.IntN(len(f.queues)-1))%len(f.queues)])
			}
			for _, q := range qs {
				f.members[q] = append(f.members[q], i)
				if _, err := tx.Exec(ctx, `INSERT INTO queue_members (queue_id, user_id) VALUES ($1, $2)`, q, id); err != nil {
					return err
				}
			}
		}
		if f.supervisor, err = user("fill-"+run+"-sue", "Sue Supervisor", "supervisor"); err != nil {
			return err
		}
		if f.scoped, err = user("fill-"+run+"-sam", "Sam Supervisor", "supervisor"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO supervisor_queues (user_id, queue_id) SELECT $1, unnest($2::bigint[])`,
			f.scoped, f.queues[:min(2, len(f.queues))])
		return err
	})
}
