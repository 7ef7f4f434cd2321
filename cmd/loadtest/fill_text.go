package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// The columns the generator copies.
var (
	convColumns = []string{"id", "queue_id", "visitor", "customer_name", "customer_email", "state", "agent_id",
		"queued_at", "accepted_at", "first_response_at", "closed_at", "closed_by", "close_status", "last_seq",
		"last_public_seq", "important"}
	eventColumns = []string{"conversation_id", "seq", "kind", "author_kind", "author_key", "author_name", "private",
		"text", "status", "created_at", "public_seq"}
)

// generator makes the rows of a fill: the conversations first, then
// their agents and events, from what it kept of each conversation.
type generator struct {
	s        fillSettings
	rng      *rand.Rand
	f        filled
	first    int64 // the first conversation's id
	run      string
	start    time.Time
	step     time.Duration // between two conversations' starts
	counts   []int         // messages of each conversation
	convs    []genConv
	ev       genEvents
	events   int
	messages int

	agentRows [][]any
}

// genConv is what the events of a conversation need.
type genConv struct {
	id          int64
	at          time.Time
	customer    int
	agents      []int // indexes into f.agents, the lead first
	open        bool
	closedBy    string
	closeStatus string
}

// genEvents walks the events of one conversation after the other.
type genEvents struct {
	conv   int // index into convs
	seq    int
	public int
	plan   []plannedEvent
}

type plannedEvent struct {
	kind, author, text, status string
	agent                      int
	private                    bool
	offset                     time.Duration // after the conversation's start
}

func newGenerator(s fillSettings, rng *rand.Rand, f filled, first int64, run string) *generator {
	span := time.Duration(s.days) * 24 * time.Hour
	g := &generator{s: s, rng: rng, f: f, first: first, run: run, start: time.Now().Add(-span),
		step: span / time.Duration(s.conversations), ev: genEvents{conv: -1}}
	g.counts = spread(rng, s.messages, s.conversations, 40)
	g.convs = make([]genConv, 0, s.conversations)
	return g
}

// spread cuts total into n counts of 1 to most each, around the mean.
func spread(rng *rand.Rand, total, n, most int) []int {
	mean := total / n
	counts := make([]int, n)
	sum := 0
	for i := range counts {
		counts[i] = max(1, min(most, 1+rng.IntN(2*mean)))
		sum += counts[i]
	}
	for sum != total {
		i := rng.IntN(n)
		switch {
		case sum < total && counts[i] < most:
			counts[i]++
			sum++
		case sum > total && counts[i] > 1:
			counts[i]--
			sum--
		}
	}
	return counts
}

// customers come back: there are a third as many as conversations.
func (g *generator) customers() int { return max(1, g.s.conversations/3) }

func customerName(k int) string {
	return firstNames[k%len(firstNames)] + " " + lastNames[(k/len(firstNames))%len(lastNames)]
}

func customerEmail(k int) string {
	if k%5 == 4 {
		return "" // one in five gives none
	}
	first := strings.ToLower(firstNames[k%len(firstNames)])
	last := strings.ToLower(lastNames[(k/len(firstNames))%len(lastNames)])
	return fmt.Sprintf("%s.%s%d@%s", first, last, k%97, domains[k%len(domains)])
}

func (g *generator) visitor(k int) string { return "fill-" + g.run + "-v" + strconv.Itoa(k) }

// nextConversation is a conversations row, nil after the last.
func (g *generator) nextConversation() ([]any, error) {
	i := len(g.convs)
	if i == g.s.conversations {
		return nil, nil
	}
	id := g.first + int64(i)
	at := g.start.Add(time.Duration(i)*g.step + time.Duration(g.rng.Int64N(int64(g.step)+1)))
	// Queues are not equally busy: the first takes the most.
	qi := min(len(g.f.queues)-1, int(g.rng.ExpFloat64()*float64(len(g.f.queues))/3))
	queue := g.f.queues[qi]
	members := g.f.members[queue]
	c := genConv{id: id, at: at, customer: g.rng.IntN(g.customers())}
	// The newest few are still open: waiting, or with an agent.
	c.open = i >= g.s.conversations-max(1, g.s.conversations/300)
	waiting := c.open && g.rng.IntN(3) == 0
	if !waiting {
		c.agents = []int{members[g.rng.IntN(len(members))]}
		if g.rng.IntN(20) == 0 && len(g.f.agents) > 1 { // an invited colleague
			other := g.rng.IntN(len(g.f.agents))
			if other != c.agents[0] {
				c.agents = append(c.agents, other)
			}
		}
	}
	state, agentID := "closed", any(nil)
	var accepted, firstResponse, closedAt, closedBy, closeStatus any
	g.plan(&c, i)
	lastSeq, lastPublic := len(g.ev.plan), 0
	for _, p := range g.ev.plan {
		if !p.private {
			lastPublic++
		}
	}
	if c.open {
		state = "queued"
	}
	if len(c.agents) > 0 {
		agentID = g.f.agents[c.agents[0]]
		accepted = at.Add(g.ev.plan[1].offset)
		firstResponse = at.Add(g.ev.plan[min(3, len(g.ev.plan)-1)].offset)
		if c.open {
			state = "active"
		}
		for _, a := range c.agents {
			g.agentRows = append(g.agentRows, []any{id, g.f.agents[a], accepted})
		}
	}
	if !c.open {
		closedAt, closedBy, closeStatus = at.Add(g.ev.plan[len(g.ev.plan)-1].offset), c.closedBy, c.closeStatus
	}
	g.convs = append(g.convs, c)
	return []any{id, queue, g.visitor(c.customer), customerName(c.customer), customerEmail(c.customer), state, agentID,
		at, accepted, firstResponse, closedAt, closedBy, closeStatus, lastSeq, lastPublic, g.rng.IntN(100) == 0}, nil
}

// plan sets the close of c and plans its events into g.ev.plan (the
// plan is made again, with the same choices, when the events are
// written: it keeps nothing but the conversation's choices).
func (g *generator) plan(c *genConv, i int) {
	if c.closedBy == "" && !c.open {
		c.closedBy = "agent"
		if g.rng.IntN(4) == 0 {
			c.closedBy = "customer"
		}
		c.closeStatus = fillStatuses[g.rng.IntN(len(fillStatuses))]
	}
	r := rand.New(rand.NewPCG(g.s.seed, uint64(c.id))) // the same plan both times
	plan := g.ev.plan[:0]
	plan = append(plan, plannedEvent{kind: "queued", author: "customer"})
	if len(c.agents) > 0 {
		plan = append(plan, plannedEvent{kind: "accepted", author: "agent", agent: c.agents[0]})
	}
	topic := r.IntN(len(topics))
	n := g.counts[i]
	for m := 0; m < n; m++ {
		e := plannedEvent{kind: "message", author: "customer"}
		if len(c.agents) > 0 && m%2 == 1 {
			e.author, e.agent = "agent", c.agents[r.IntN(len(c.agents))]
			switch x := r.IntN(100); {
			case x < 4:
				e.private = true
			case x < 6:
				e.kind, e.private = "comment", true
			}
		}
		e.text = say(r, topic, e.author, m, c.customer)
		plan = append(plan, e)
		if m == 1 && len(c.agents) > 1 {
			plan = append(plan, plannedEvent{kind: "joined", author: "agent", agent: c.agents[1]})
		}
	}
	if !c.open {
		e := plannedEvent{kind: "closed", author: c.closedBy, agent: -1}
		if c.closedBy == "agent" && len(c.agents) > 0 {
			e.agent, e.status = c.agents[0], c.closeStatus
		} else {
			e.author = "customer"
		}
		plan = append(plan, e)
		if c.closedBy == "customer" && len(c.agents) > 0 {
			plan = append(plan, plannedEvent{kind: "wrapped_up", author: "agent", agent: c.agents[0], private: true,
				status: c.closeStatus})
		}
	}
	var off time.Duration
	for k := range plan {
		if k > 0 {
			off += time.Duration(5+r.IntN(51)) * time.Second
		}
		plan[k].offset = off
	}
	g.ev.plan = plan
}

// nextEvent is a conversation_events row, nil after the last.
func (g *generator) nextEvent() ([]any, error) {
	for g.ev.conv < 0 || g.ev.seq == len(g.ev.plan) {
		g.ev.conv++
		if g.ev.conv == len(g.convs) {
			return nil, nil
		}
		c := &g.convs[g.ev.conv]
		g.plan(c, g.ev.conv)
		g.ev.seq, g.ev.public = 0, 0
	}
	c := g.convs[g.ev.conv]
	p := g.ev.plan[g.ev.seq]
	g.ev.seq++
	var public any
	if !p.private {
		g.ev.public++
		public = g.ev.public
	}
	key, name := "visitor:"+g.visitor(c.customer), customerName(c.customer)
	if p.author == "agent" {
		key, name = "user:"+strconv.FormatInt(g.f.agents[p.agent], 10), g.f.agentNames[p.agent]
	}
	g.events++
	if p.kind == "message" || p.kind == "comment" {
		g.messages++
	}
	return []any{c.id, g.ev.seq, p.kind, p.author, key, name, p.private, p.text, p.status, c.at.Add(p.offset), public}, nil
}

// say is a line of a chat about topic: the customer asks, the agent
// answers, in the words such chats use, with the names, products and
// numbers that make most texts differ.
func say(r *rand.Rand, topic int, author string, m, customer int) string {
	t := topics[topic]
	var tmpl string
	switch {
	case author == "customer" && m == 0:
		tmpl = t.open[r.IntN(len(t.open))]
	case author == "customer":
		tmpl = customerLines[r.IntN(len(customerLines))]
	case m == 1:
		tmpl = t.answer[r.IntN(len(t.answer))]
	default:
		tmpl = agentLines[r.IntN(len(agentLines))]
	}
	return strings.NewReplacer(
		"{product}", products[r.IntN(len(products))],
		"{color}", colors[r.IntN(len(colors))],
		"{order}", strconv.Itoa(100000+r.IntN(900000)),
		"{city}", cities[r.IntN(len(cities))],
		"{day}", days[r.IntN(len(days))],
		"{amount}", strconv.Itoa(5+r.IntN(995))+"."+strconv.Itoa(10+r.IntN(90)),
		"{name}", firstNames[customer%len(firstNames)],
	).Replace(tmpl)
}

type topic struct{ open, answer []string }

var topics = []topic{
	{[]string{"Hi, my order {order} has not arrived yet, it was due on {day}",
		"Where is my parcel? Order number {order}, shipped to {city}",
		"The tracking for {order} has said in transit for a week"},
		[]string{"Sorry about the delay, {name}. Let me check order {order} with the courier",
			"I can see the parcel is at the depot in {city}, it should arrive by {day}"}},
	{[]string{"I want to return the {color} {product} I bought last week",
		"The {product} I received is broken, can I get a refund?",
		"How do I send back a {product}? It is the wrong size"},
		[]string{"Of course, I will send you a return label for the {product} by email",
			"I am sorry the {product} arrived damaged, I can refund {amount} or send a replacement"}},
	{[]string{"I was charged twice for order {order}",
		"Why is there a charge of {amount} on my card?",
		"My invoice for {order} shows the wrong address in {city}"},
		[]string{"I see two payments of {amount}, I will refund the second one today",
			"Let me correct the invoice, could you confirm your billing address?"}},
	{[]string{"Do you have the {product} in {color}?",
		"Is the {product} compatible with the one I bought in {city}?",
		"What is the warranty on the {product}?"},
		[]string{"Yes, the {color} {product} is in stock and ships on {day}",
			"The {product} comes with a two year warranty, extended cover is {amount}"}},
	{[]string{"I cannot log in to my account, the password reset email never comes",
		"The app crashes when I open my orders",
		"Your website shows an error when I pay for the {product}"},
		[]string{"I have sent a new reset link, please check your spam folder too",
			"Thanks for telling us, which browser are you using? I will pass it to our technical team"}},
	{[]string{"Can I change the delivery address of order {order} to {city}?",
		"I would like to cancel order {order} please",
		"Can you deliver the {product} on {day} instead?"},
		[]string{"I have updated the address to {city}, the courier has it now",
			"Order {order} is cancelled, the refund of {amount} takes three to five days"}},
}

var customerLines = []string{
	"Thank you", "OK, thanks a lot", "How long will that take?", "Can you send me an email about it?",
	"It is order {order}", "I live in {city}", "I already tried that twice", "That would be great",
	"Is there a discount for the trouble?", "The {product} is {color}", "I paid {amount}",
	"Can I speak to a manager?", "Sorry, my internet is slow", "Yes, that is right", "No, that is not it",
	"I need it before {day}", "Will I get a confirmation?", "Perfect, have a nice day",
}

var agentLines = []string{
	"Let me check that for you", "One moment please", "I have sent you an email with the details",
	"Is there anything else I can help you with?", "The refund of {amount} is on its way",
	"I have escalated it to our {city} warehouse", "Could you confirm the order number?",
	"The courier will call you on {day}", "I have noted that on your account",
	"I understand, I am sorry for the trouble", "Our team will contact you by {day}",
	"I can offer you free shipping on your next order", "The {product} ships from {city}",
}

var products = []string{"kettle", "toaster", "headphones", "laptop bag", "desk lamp", "coffee grinder", "blender",
	"backpack", "phone case", "charger", "monitor", "keyboard", "office chair", "running shoes", "rain jacket",
	"water bottle", "speaker", "camera strap", "sofa cushion", "bike helmet"}

var colors = []string{"black", "white", "red", "blue", "green", "grey", "yellow", "navy", "pink", "silver"}

var cities = []string{"Prague", "Berlin", "Vienna", "Lyon", "Milan", "Madrid", "Leeds", "Dublin", "Porto", "Oslo",
	"Gdansk", "Brno", "Graz", "Basel", "Ghent"}

var days = []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "tomorrow", "next week"}

var domains = []string{"example.com", "mail.example.org", "example.net", "inbox.example"}

var firstNames = []string{"Anna", "Ben", "Clara", "David", "Eva", "Filip", "Grace", "Hugo", "Ida", "Jan", "Kate",
	"Leo", "Mia", "Noah", "Olga", "Petr", "Quinn", "Rosa", "Sam", "Tereza", "Uma", "Viktor", "Wendy", "Xavier",
	"Yara", "Zdenek", "Jo", "Kim", "Max", "Nina"}

var lastNames = []string{"Novak", "Smith", "Garcia", "Muller", "Rossi", "Dubois", "Svoboda", "Brown", "Nowak",
	"Jensen", "Silva", "Kowalski", "Horvat", "Murphy", "Dvorak", "Lee", "Martin", "Berg", "Costa", "Fischer",
	"Walsh", "Cerny", "Moreau", "Russo", "Larsen"}
