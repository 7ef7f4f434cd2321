package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"parley/auth"
	"parley/chat"
	"parley/chat/crm"
	"parley/cluster"
	"parley/conference"
	"parley/staff"
	"parley/store"
)

// The contacts' benchmark (docs/benchmarks.md, "Contact search"):
// fill-contacts adds contacts as a company's years would leave them
// (names, addresses, phones, companies), with COPY; k1 times
// contact.search's queries on them, one after the other, each from the
// call to its answer. It calls chat/crm directly (what contact.search
// runs), so the figures are the database's and the search's, without the
// websocket.
//
//	loadtest fill-contacts --database-url postgres://…/parley_contacts --contacts 100000
//	loadtest k1 --database-url postgres://…/parley_contacts --searches 500

const contactsDB = "postgres://postgres@127.0.0.1:5432/parley_contacts?sslmode=disable"

var companies = []string{"Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises",
	"Vandelay", "Soylent", "Tyrell", "Cyberdyne", "Wonka", "Gringotts", "Oscorp", "Aperture", "Monarch", "Dunder Mifflin",
	"Pied Piper", "Prestige Worldwide", "Massive Dynamic"}

var companyForms = []string{"s.r.o.", "a.s.", "GmbH", "Ltd", "SA", "BV", "AB", "Oy"}

// fakeContact is contact k of a fill: every field from k, so k1 knows
// what it may look for.
func fakeContact(k int, run string) crm.Contact {
	first, last := firstNames[k%len(firstNames)], lastNames[(k/len(firstNames))%len(lastNames)]
	c := crm.Contact{
		Name:       first + " " + last,
		Emails:     []string{fmt.Sprintf("%s.%s%d@%s", strings.ToLower(first), strings.ToLower(last), k%997, domains[k%len(domains)])},
		Phone:      fmt.Sprintf("+420 %03d %03d %03d", 600+k%400, (k/7)%1000, (k*31)%1000),
		Company:    companies[(k/3)%len(companies)] + " " + strconv.Itoa(k%50) + " " + companyForms[k%len(companyForms)],
		ExternalID: "fill-" + run + "-" + strconv.Itoa(k),
	}
	if k%4 == 3 { // a second address for some
		c.Emails = append(c.Emails, fmt.Sprintf("%s%d@work.example", strings.ToLower(last), k))
	}
	return c
}

func runFillContacts(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadtest fill-contacts", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("contacts", 100000, "contacts to add")
	dbURL := fs.String("database-url", contactsDB, "the database to fill (created and migrated when absent)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *n < 1 {
		return 2
	}
	pool, err := store.Open(ctx, *dbURL, store.Options{MaxConns: 2})
	if err != nil {
		fmt.Fprintln(stderr, "loadtest fill-contacts:", err)
		return 1
	}
	defer pool.Close()
	start := time.Now()
	if err := store.Migrate(ctx, pool, cluster.Migrations, auth.Migrations, conference.Migrations, chat.Migrations,
		staff.Migrations); err != nil {
		fmt.Fprintln(stderr, "loadtest fill-contacts:", err)
		return 1
	}
	run := strconv.FormatInt(time.Now().UnixNano()%1e9, 36) // this fill's external ids are its own
	k := 0
	rows := pgx.CopyFromFunc(func() ([]any, error) {
		if k == *n {
			return nil, nil
		}
		c := fakeContact(k, run)
		k++
		return []any{c.Name, c.Emails, c.Phone, c.Company, c.ExternalID,
			crm.SearchText(c.Name, c.Emails, c.Phone, c.Company)}, nil
	})
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"contacts"}, []string{"name", "emails", "phone", "company",
		"external_id", "search"}, rows); err != nil {
		fmt.Fprintln(stderr, "loadtest fill-contacts:", err)
		return 1
	}
	if _, err := pool.Exec(ctx, `ANALYZE contacts`); err != nil {
		fmt.Fprintln(stderr, "loadtest fill-contacts:", err)
		return 1
	}
	res := newResult("fill-contacts", fmt.Sprintf("fill-contacts: %d contacts into %s", *n, redact(*dbURL)))
	res.add("total", "%s", time.Since(start).Round(time.Millisecond))
	res.print(stdout)
	return 0
}

// k1Queries are the kinds of contact.search an agent types: a part of a
// name, a whole name, the start of an address, a part of a phone number,
// a company, and two letters.
var k1Queries = []struct {
	name string
	make func(r *rand.Rand, k int) string
}{
	{"a first name", func(_ *rand.Rand, k int) string { return strings.ToLower(firstNames[k%len(firstNames)]) }},
	{"a surname's start", func(_ *rand.Rand, k int) string {
		last := lastNames[(k/len(firstNames))%len(lastNames)]
		return last[:min(4, len(last))]
	}},
	{"a whole name", func(_ *rand.Rand, k int) string { return fakeContact(k, "").Name }},
	{"an address's start", func(_ *rand.Rand, k int) string {
		e := fakeContact(k, "").Emails[0]
		return e[:strings.IndexByte(e, '@')]
	}},
	{"a phone's digits", func(_ *rand.Rand, k int) string { return fakeContact(k, "").Phone[5:12] }},
	{"a company", func(_ *rand.Rand, k int) string { return companies[(k/3)%len(companies)] }},
	{"two letters", func(r *rand.Rand, _ int) string { return string(rune('a'+r.IntN(26))) + string(rune('a'+r.IntN(26))) }},
}

func runK1(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("loadtest k1", flag.ContinueOnError)
	fs.SetOutput(stderr)
	searches := fs.Int("searches", 500, "searches to time (after 20 not timed, to warm the caches)")
	target := fs.Duration("target", 50*time.Millisecond, "the run fails when the p95 is above this")
	seed := fs.Uint64("seed", 3, "the random seed of the searches")
	dbURL := fs.String("database-url", contactsDB, "a database loadtest fill-contacts filled")
	out := fs.String("json", "", "also write the run's figures to this `file` (for loadtest table)")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 || *searches < 1 {
		return 2
	}
	pool, err := store.Open(ctx, *dbURL, store.Options{MaxConns: 2})
	if err != nil {
		fmt.Fprintln(stderr, "loadtest k1:", err)
		return 1
	}
	defer pool.Close()
	res, err := k1(ctx, pool, *searches, *target, *seed)
	if res != nil {
		res.print(stdout)
		if *out != "" {
			if err := res.writeJSON(*out); err != nil {
				fmt.Fprintln(stderr, "loadtest k1:", err)
				return 1
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "loadtest k1:", err)
		return 1
	}
	if !res.Pass {
		return 1
	}
	return 0
}

// k1 runs the searches and reports their latencies.
func k1(ctx context.Context, pool *pgxpool.Pool, searches int, target time.Duration, seed uint64) (*result, error) {
	var contacts int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM contacts`).Scan(&contacts); err != nil {
		return nil, err
	}
	if contacts == 0 {
		return nil, fmt.Errorf("no contacts here: run loadtest fill-contacts first")
	}
	s := crm.NewContacts(pool)
	agent := auth.Principal{Kind: auth.KindUser, Role: auth.RoleAgent, UserID: 1, Name: "k1"}
	r := rand.New(rand.NewPCG(seed, 11))
	all := make([]time.Duration, 0, searches)
	byKind := make([][]time.Duration, len(k1Queries))
	found := 0
	for i := -20; i < searches; i++ {
		kind := r.IntN(len(k1Queries))
		q := k1Queries[kind].make(r, r.IntN(contacts))
		start := time.Now()
		got, err := s.Search(ctx, agent, q, crm.DefaultContactLimit)
		took := time.Since(start)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", k1Queries[kind].name, q, err)
		}
		if i < 0 {
			continue
		}
		found += len(got)
		all = append(all, took)
		byKind[kind] = append(byKind[kind], took)
	}
	res := newResult("k1", fmt.Sprintf("K1 contact search: %d searches over %d contacts", len(all), contacts))
	res.add("all searches", "%s", h1Summary(all))
	for k, d := range byKind {
		res.add("  "+k1Queries[k].name, "%s", h1Summary(d))
	}
	res.add("results per search", "%.1f", float64(found)/float64(max(1, len(all))))
	sorted := sortedDurations(all)
	p95 := percentile(sorted, 0.95)
	res.Summary = fmt.Sprintf("contact search p95 %s (p50 %s) over %d contacts", ms(p95), ms(percentile(sorted, 0.50)), contacts)
	res.Figures["p50_ms"] = float64(percentile(sorted, 0.50)) / 1e6
	res.Figures["p95_ms"] = float64(p95) / 1e6
	res.Figures["p99_ms"] = float64(percentile(sorted, 0.99)) / 1e6
	if found == 0 {
		res.fail("no search found anything: is the database filled (loadtest fill-contacts)?")
	}
	if p95 > target {
		res.fail("p95 %s is above the target %s", ms(p95), ms(target))
	}
	return res, nil
}
