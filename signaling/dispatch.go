package signaling

import (
	"encoding/json"
	"time"
)

// A connection's requests that need I/O run off its reader, on lines. A
// line handles its requests one after the other, in the order they
// arrived; different lines run side by side. The line of a request is
// the conversation or the room its data names ("conversation_id", else
// "room_id"); every other request is on the connection's common line. So
// two chat.send to one conversation are stored and answered in order, an
// rtc.candidate follows its rtc.offer, and a slow request of one
// conversation holds up neither another conversation nor session.ping.
//
// At most Config.InFlight requests are taken and not yet answered; past
// that the reader stops reading until one is answered, so a client that
// sends faster than its requests finish is slowed by TCP, and its
// requests are never dropped. A request's deadline runs from when the
// reader took it, so one queued behind a stalled request is answered in
// time too.

// line is one ordered queue of a connection's requests.
type line struct {
	queue []job
}

type job struct {
	rt   route
	req  *Request
	read time.Time // when the reader took it: its deadline runs from here
}

// lineOf names the line of a request from its data, a JSON object that
// DecodeRequest accepted. The value is taken as written: "conversation_id"
// 42 and 42.0 are two lines, as they always were.
func lineOf(data json.RawMessage) string {
	var conv, room []byte
	whole := eachMember(data, func(key, value []byte) {
		switch {
		case keyIs(key, "conversation_id"):
			conv = value
		case keyIs(key, "room_id"):
			room = value
		}
	})
	if !whole {
		return "" // the handler's Bind answers the fault
	}
	if len(conv) > 0 && string(conv) != "null" {
		return "conversation " + string(conv)
	}
	if len(room) > 0 && string(room) != "null" {
		return "room " + string(room)
	}
	return ""
}

// dispatch queues a request on its line, starting the line's worker if it
// was idle. It waits, not reading, while InFlight requests are unanswered.
func (c *Conn) dispatch(name string, j job) {
	select {
	case c.slots <- struct{}{}:
	default:
		c.hub.metrics.backpressure.Inc()
		select {
		case c.slots <- struct{}{}:
		case <-c.done:
			return
		}
	}
	c.linesMu.Lock()
	l, running := c.lines[name]
	if !running {
		l = &line{}
		c.lines[name] = l
	}
	l.queue = append(l.queue, j)
	c.linesMu.Unlock()
	if !running {
		c.workers.Add(1)
		c.hub.workers.run(func() { c.work(name, l) })
	}
}

// work runs a line's requests until its queue is empty, then ends.
func (c *Conn) work(name string, l *line) {
	defer c.workers.Done()
	for {
		c.linesMu.Lock()
		if len(l.queue) == 0 {
			delete(c.lines, name)
			c.linesMu.Unlock()
			return
		}
		j := l.queue[0]
		l.queue[0] = job{}
		l.queue = l.queue[1:]
		c.linesMu.Unlock()
		data, err := c.call(j)
		<-c.slots // done: the reader may take another
		c.reply(j.req.ID, data, err)
	}
}
