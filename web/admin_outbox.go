package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"parley/mail"
)

// outboxPage is the most messages GET /api/admin/outbox answers at once.
const outboxPage = 50

// The admin console's E-mail tab: the outbox, newest first, and "Send
// again" for a failed message. Admins only.
func (a *api) outboxRoutes(e *echo.Echo) {
	g := e.Group("/api/admin/outbox", a.requireUser, a.requireOutbox)
	g.GET("", a.listOutbox)
	g.POST("/:id/retry", a.retryMail)
}

// requireOutbox answers not_found where there is no outbox (a web
// surface made without a database, in tests).
func (a *api) requireOutbox(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if a.Outbox == nil {
			return apiError(http.StatusNotFound, "not_found", "there is no outbox")
		}
		return next(c)
	}
}

// smtpStatus is what the console says of the sender: whether mail is
// sent at all, and through which server as whom (never the credentials).
type smtpStatus struct {
	Configured bool   `json:"configured"`
	Host       string `json:"host,omitempty"`
	Port       int    `json:"port,omitempty"`
	TLS        string `json:"tls,omitempty"`
	From       string `json:"from,omitempty"`
}

func (a *api) smtpStatus() smtpStatus {
	s := a.SMTP
	if !s.Configured() {
		return smtpStatus{}
	}
	return smtpStatus{Configured: true, Host: s.Host, Port: s.Port, TLS: s.TLS, From: s.From}
}

func (a *api) listOutbox(c echo.Context) error {
	if err := requireAdmin(c); err != nil {
		return err
	}
	state := c.QueryParam("state")
	if state != "" && !slices.Contains(mail.States, state) {
		return apiError(http.StatusBadRequest, "bad_request", "state: one of "+strings.Join(mail.States, ", ")+", or none for every message")
	}
	var before int64
	if s := c.QueryParam("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			return apiError(http.StatusBadRequest, "bad_request", "before: a message id, a positive number")
		}
		before = n
	}
	msgs, more, err := mail.List(c.Request().Context(), a.Outbox, state, before, outboxPage)
	if err != nil {
		return err
	}
	out := map[string]any{"messages": msgs, "smtp": a.smtpStatus()}
	if more {
		out["next_before"] = msgs[len(msgs)-1].ID
	}
	return c.JSON(http.StatusOK, out)
}

func (a *api) retryMail(c echo.Context) error {
	if err := requireAdmin(c); err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return apiError(http.StatusNotFound, "not_found", "there is no such message")
	}
	if err := noBody(c); err != nil {
		return err
	}
	m, err := mail.Retry(c.Request().Context(), a.Outbox, id)
	switch {
	case errors.Is(err, mail.ErrNotFound):
		return apiError(http.StatusNotFound, "not_found", "there is no such message")
	case errors.Is(err, mail.ErrNotFailed):
		return apiError(http.StatusConflict, "conflict", "only a failed message can be sent again")
	case err != nil:
		return err
	}
	return c.JSON(http.StatusOK, m)
}
