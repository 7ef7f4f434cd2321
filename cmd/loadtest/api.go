package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// api speaks Parley's HTTP API (docs/protocol.md). Requests may leave from
// a chosen loopback source address: the server limits sign-ins and new
// visitors per client address, and thousands of customers on one machine
// would otherwise all be one address. Every 127.0.0.0/8 address reaches
// the server on Linux, so each block of customers gets its own, as
// customers of a real site would have theirs.
type api struct {
	base     string
	loopback bool // the server is on a loopback address: sources may be chosen

	mu      sync.Mutex
	clients map[string]*http.Client // by source address
}

func newAPI(base string) *api {
	a := &api{base: base, clients: map[string]*http.Client{}}
	if u, err := url.Parse(base); err == nil {
		if ip := net.ParseIP(u.Hostname()); ip != nil && ip.IsLoopback() && ip.To4() != nil {
			a.loopback = true
		}
	}
	return a
}

// client is the HTTP client whose connections leave from src (nil: any).
func (a *api) client(src net.IP) *http.Client {
	if !a.loopback {
		src = nil
	}
	key := src.String()
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.clients[key]; ok {
		return c
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	if src != nil {
		d.LocalAddr = &net.TCPAddr{IP: src}
	}
	c := &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			DialContext:         d.DialContext,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     30 * time.Second,
		},
	}
	a.clients[key] = c
	return c
}

func (a *api) closeIdle() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, c := range a.clients {
		c.CloseIdleConnections()
	}
}

// apiError is an HTTP answer that was not a success.
type apiError struct {
	Status     int
	Code       string
	Message    string
	RetryAfter time.Duration
}

func (e *apiError) Error() string {
	return fmt.Sprintf("HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

// do sends a JSON request and decodes a JSON answer into out. A refusal
// for rate is waited out (Retry-After) and sent again, until ctx ends.
func (a *api) do(ctx context.Context, src net.IP, method, path, token string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return err
		}
	}
	for {
		err := a.once(ctx, src, method, path, token, body, out)
		var ae *apiError
		if !errors.As(err, &ae) || ae.Status != http.StatusTooManyRequests {
			return err
		}
		wait := ae.RetryAfter
		if wait <= 0 {
			wait = time.Second
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (still rate limited)", ctx.Err())
		case <-time.After(wait):
		}
	}
}

func (a *api) once(ctx context.Context, src net.IP, method, path, token string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.client(src).Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		e := &apiError{Status: resp.StatusCode}
		var eb struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		if json.Unmarshal(raw, &eb) == nil {
			e.Code, e.Message = eb.Error.Code, eb.Error.Message
		}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil {
			e.RetryAfter = time.Duration(s) * time.Second
		}
		return e
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: answer is not the documented JSON: %w", method, path, err)
		}
	}
	return nil
}

// login signs in (POST /api/login) and returns the session's token.
func (a *api) login(ctx context.Context, src net.IP, username, password string) (string, error) {
	tok, _, err := a.signIn(ctx, src, username, password)
	return tok, err
}

// signIn is login that also returns the signed-in user's id.
func (a *api) signIn(ctx context.Context, src net.IP, username, password string) (string, int64, error) {
	var out struct {
		Token string `json:"token"`
		User  struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}
	err := a.do(ctx, src, http.MethodPost, "/api/login", "", map[string]string{"username": username, "password": password}, &out)
	if err == nil && out.Token == "" {
		err = errors.New("POST /api/login: no token in the answer")
	}
	return out.Token, out.User.ID, err
}

// createUser adds an account (POST /api/admin/users). An existing username
// is not an error: runs against a running server reuse their agents.
func (a *api) createUser(ctx context.Context, admin, username, name, role, password string) error {
	err := a.do(ctx, nil, http.MethodPost, "/api/admin/users", admin,
		map[string]string{"username": username, "name": name, "role": role, "password": password}, nil)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == http.StatusConflict {
		return nil
	}
	return err
}

// saveQueue creates or replaces a queue (PUT /api/admin/queues/{key}).
func (a *api) saveQueue(ctx context.Context, admin, key string, settings map[string]any) error {
	_, err := a.saveQueueID(ctx, admin, key, settings)
	return err
}

// saveQueueID is saveQueue that returns the saved queue's id.
func (a *api) saveQueueID(ctx context.Context, admin, key string, settings map[string]any) (int64, error) {
	var out struct {
		ID int64 `json:"id"`
	}
	err := a.do(ctx, nil, http.MethodPut, "/api/admin/queues/"+url.PathEscape(key), admin, settings, &out)
	if err == nil && out.ID == 0 {
		err = fmt.Errorf("PUT /api/admin/queues/%s: no id in the answer", key)
	}
	return out.ID, err
}

// transcript reads a conversation's transcript
// (GET /api/conversations/{id}/transcript) as the holder of token sees it.
func (a *api) transcript(ctx context.Context, token string, conv int64, out any) error {
	return a.do(ctx, nil, http.MethodGet, fmt.Sprintf("/api/conversations/%d/transcript", conv), token, nil, out)
}

// visitor gets a new visitor token for a queue (POST /api/widget/{key}/visitor).
func (a *api) visitor(ctx context.Context, src net.IP, key string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	err := a.do(ctx, src, http.MethodPost, "/api/widget/"+url.PathEscape(key)+"/visitor", "", map[string]string{}, &out)
	if err == nil && out.Token == "" {
		err = errors.New("visitor: no token in the answer")
	}
	return out.Token, err
}

// sources hands out loopback source addresses, perAddr uses each: the
// server's per-address limits (60 new visitors at once, 10 sign-ins)
// are not what is measured.
type sources struct {
	second  byte // 127.second.x.y
	perAddr int
}

func (s sources) addr(i int) net.IP {
	b := i / s.perAddr
	return net.IPv4(127, s.second, byte(b/250), byte(b%250+1))
}
