// Package client is a Go client of Parley's websocket protocol
// (docs/protocol.md). The tests and the load tester speak to the server
// through it, so it uses nothing the protocol document does not describe.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Envelope is a frame as the server sends it.
type Envelope struct {
	Type  string          `json:"type"`
	ID    string          `json:"id,omitempty"`
	Re    string          `json:"re,omitempty"`
	Data  json.RawMessage `json:"data,omitempty"`
	Error *Error          `json:"error,omitempty"`
}

// Error is an error envelope's body, returned by Request.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrClosed is returned for requests on, or cut off by, a closed connection.
var ErrClosed = errors.New("client: connection closed")

// Client is one websocket connection. Requests may be made from many
// goroutines; events arrive on Events.
type Client struct {
	ws     *websocket.Conn
	nextID atomic.Uint64
	events chan Envelope

	wmu     sync.Mutex // one writer at a time
	mu      sync.Mutex
	pending map[string]chan Envelope
	closeCh chan struct{}
	closeMu sync.Mutex
	closeAs *websocket.CloseError
}

// Options of Dial.
type Options struct {
	Token  string      // sent as Authorization: Bearer
	Header http.Header // extra headers (Origin, Cookie…)
	Events int         // event buffer, default 1024; when full, reading stops, as a slow client would
}

// Dial connects to url (ws://host/ws) without saying hello.
func Dial(ctx context.Context, url string, opt Options) (*Client, *http.Response, error) {
	h := http.Header{}
	for k, v := range opt.Header {
		h[k] = v
	}
	if opt.Token != "" {
		h.Set("Authorization", "Bearer "+opt.Token)
	}
	if opt.Events == 0 {
		opt.Events = 1024
	}
	ws, resp, err := websocket.DefaultDialer.DialContext(ctx, url, h)
	if err != nil {
		return nil, resp, err
	}
	c := &Client{ws: ws, events: make(chan Envelope, opt.Events), pending: map[string]chan Envelope{}, closeCh: make(chan struct{})}
	go c.readLoop()
	return c, resp, nil
}

// Connect dials and says session.hello, returning the hello's answer.
func Connect(ctx context.Context, url string, opt Options) (*Client, json.RawMessage, error) {
	c, _, err := Dial(ctx, url, opt)
	if err != nil {
		return nil, nil, err
	}
	hello, err := c.Request(ctx, "session.hello", map[string]any{"version": 1, "client": "parley-go"})
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return c, hello, nil
}

// Events delivers server events (envelopes without re). It is closed when
// the connection ends.
func (c *Client) Events() <-chan Envelope { return c.events }

// Done is closed when the connection ends.
func (c *Client) Done() <-chan struct{} { return c.closeCh }

// CloseError is the close frame the server sent, once Done is closed (nil
// if the connection ended without one).
func (c *Client) CloseError() *websocket.CloseError {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	return c.closeAs
}

// Request sends a request and waits for its ack (returning its data) or
// error (returning *Error).
func (c *Client) Request(ctx context.Context, typ string, data any) (json.RawMessage, error) {
	id := "r-" + strconv.FormatUint(c.nextID.Add(1), 10)
	frame := map[string]any{"type": typ, "id": id}
	if data != nil {
		frame["data"] = data
	}
	raw, err := json.Marshal(frame)
	if err != nil {
		return nil, err
	}
	ch := make(chan Envelope, 1)
	c.mu.Lock()
	c.pending[id] = ch
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
	}()
	if err := c.WriteRaw(raw); err != nil {
		return nil, err
	}
	select {
	case env := <-ch:
		if env.Type == "error" && env.Error != nil {
			return nil, env.Error
		}
		return env.Data, nil
	case <-c.closeCh:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// WriteRaw sends a frame as it is: tests use it to send what no
// well-behaved client would.
func (c *Client) WriteRaw(frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second)) //nolint:errcheck
	if err := c.ws.WriteMessage(websocket.TextMessage, frame); err != nil {
		return fmt.Errorf("client: write: %w", err)
	}
	return nil
}

// WriteMessage sends a frame of any websocket kind (binary, say).
func (c *Client) WriteMessage(kind int, frame []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.WriteMessage(kind, frame)
}

// Close closes the connection.
func (c *Client) Close() error {
	c.wmu.Lock()
	c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second)) //nolint:errcheck
	c.wmu.Unlock()
	return c.ws.Close()
}

// Unanswered is the frame the server sent with an re that no pending
// request had, or that could not be read: delivered as an event of type
// "unanswered" so tests can see it.
const Unanswered = "unanswered"

func (c *Client) readLoop() {
	defer close(c.events)
	defer close(c.closeCh)
	for {
		_, msg, err := c.ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) {
				c.closeMu.Lock()
				c.closeAs = ce
				c.closeMu.Unlock()
			}
			c.ws.Close()
			return
		}
		var env Envelope
		if err := json.Unmarshal(msg, &env); err != nil {
			c.events <- Envelope{Type: Unanswered, Data: msg}
			continue
		}
		if env.Re == "" && env.Type != "ack" && env.Type != "error" {
			c.events <- env
			continue
		}
		c.mu.Lock()
		ch, ok := c.pending[env.Re]
		c.mu.Unlock()
		if !ok {
			c.events <- Envelope{Type: Unanswered, Re: env.Re, Error: env.Error, Data: msg}
			continue
		}
		ch <- env
	}
}
