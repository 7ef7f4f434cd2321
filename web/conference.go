package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"parley/auth"
	"parley/conference"
)

// conferenceAPI looks rooms up by number and admits guests. Wrong numbers
// are limited per client address, so numbers cannot be enumerated; right
// ones are not, so a guest who mistyped once is not locked out.
type conferenceAPI struct {
	*api
	conf  *conference.Service
	wrong auth.RateLimit
}

func (a *conferenceAPI) routes(e *echo.Echo) {
	e.POST("/api/conference/lookup", a.lookup)
	e.POST("/api/conference/guest", a.guest)
	e.GET("/api/users", a.users, a.requireUser)
}

// roomByNumber finds the open conference room with the body's number, or
// answers with the error the person should see.
func (a *conferenceAPI) roomByNumber(c echo.Context, number string) (conference.Room, error) {
	addr := c.RealIP()
	if blocked, retry := a.wrong.Blocked(addr); blocked {
		c.Response().Header().Set("Retry-After", fmt.Sprint(int(retry.Seconds())+1))
		return conference.Room{}, apiError(http.StatusTooManyRequests, "rate_limited",
			fmt.Sprintf("Too many wrong room numbers from your address. Try again in %d seconds.", int(retry.Seconds())+1))
	}
	r, err := a.conf.ByNumber(c.Request().Context(), number)
	if errors.Is(err, conference.ErrNotFound) || (err == nil && r.Kind != conference.KindConference) {
		a.wrong.Allow(addr)
		return conference.Room{}, apiError(http.StatusNotFound, "not_found", "No room has this number")
	}
	if err != nil {
		return conference.Room{}, err
	}
	if r.Ended() {
		return conference.Room{}, apiError(http.StatusGone, "gone", "This room has ended")
	}
	return r, nil
}

type roomSummary struct {
	ID     string `json:"id"`
	Number string `json:"number"`
	Name   string `json:"name"`
	Ended  bool   `json:"ended"`
}

func summary(r conference.Room) roomSummary {
	return roomSummary{ID: r.ID, Number: *r.Number, Name: r.Name, Ended: r.Ended()}
}

func (a *conferenceAPI) lookup(c echo.Context) error {
	var in struct {
		Number string `json:"number"`
	}
	if err := bind(c, &in, `the body is a JSON object with "number"`); err != nil {
		return err
	}
	r, err := a.roomByNumber(c, in.Number)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"room": summary(r)})
}

func (a *conferenceAPI) guest(c echo.Context) error {
	var in struct {
		Number string `json:"number"`
		Name   string `json:"name"`
	}
	if err := bind(c, &in, `the body is a JSON object with "number" and "name"`); err != nil {
		return err
	}
	r, err := a.roomByNumber(c, in.Number)
	if err != nil {
		return err
	}
	tok, expires, err := a.conf.IssueGuest(r, in.Name)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"token": tok, "room": summary(r), "expires_at": expires})
}

type directoryEntry struct {
	ID     auth.UserID `json:"id"`
	Name   string      `json:"name"`
	Role   auth.Role   `json:"role"`
	Online bool        `json:"online"`
}

// users lists the colleagues a signed-in user may invite.
func (a *conferenceAPI) users(c echo.Context) error {
	users, err := a.Auth.Users(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]directoryEntry, 0, len(users))
	for _, u := range users {
		p := auth.Principal{Kind: auth.KindUser, UserID: u.ID}
		out = append(out, directoryEntry{ID: u.ID, Name: u.Name, Role: u.Role, Online: a.Chat.Online(p.Key())})
	}
	return c.JSON(http.StatusOK, map[string]any{"users": out})
}
