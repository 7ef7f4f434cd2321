package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"parley/auth"
	"parley/chat"
)

// offlineForm takes the widget's offline form: POST
// /api/widget/{key}/offline with the visitor token.
type offlineForm struct {
	*widget
	limit auth.RateLimit // offline messages per visitor
}

func (o *offlineForm) routes(e *echo.Echo) {
	e.POST("/api/widget/:key/offline", o.send)
}

// send stores the visitor's offline message (chat.Offline decides whether
// the queue takes one and checks the fields). Only messages stored count
// against the visitor's allowance, so a field left empty costs nothing.
func (o *offlineForm) send(c echo.Context) error {
	q, err := o.queue(c)
	if err != nil {
		return err
	}
	if c.QueryParam("token") != "" {
		return apiError(http.StatusBadRequest, "bad_request",
			"send the token as the header Authorization: Bearer TOKEN; only /ws takes ?token=")
	}
	p, err := o.auth.Authenticate(c.Request().Context(), auth.RequestToken(c.Request(), false))
	if err != nil {
		return err
	}
	if p.Kind != auth.KindVisitor || p.Scope != q.Key {
		return apiError(http.StatusForbidden, "forbidden", "the offline form takes the visitor token of this queue's widget")
	}
	key := q.Key + "/" + p.Subject
	if blocked, retry := o.limit.Blocked(key); blocked {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())+1))
		return apiError(http.StatusTooManyRequests, "rate_limited",
			"You have sent several messages just now; try again in "+humanDuration(retry)+".")
	}
	var in chat.OfflineInput
	if err := bind(c, &in, `send {"name", "email", "message"} as JSON`); err != nil {
		return err
	}
	conv, err := o.chat.Offline(c.Request().Context(), p, in)
	if err != nil {
		return err
	}
	o.limit.Allow(key)
	return c.JSON(http.StatusCreated, map[string]any{"conversation": conv})
}
