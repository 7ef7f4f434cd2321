package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"parley/auth"
)

// Accounts as an admin keeps them (docs/protocol.md, "Administration"):
// list (listUsers, admin.go), create (createUser), edit the name and the
// role, set a new password, deactivate and reactivate. auth decides who
// may and what is allowed; these decode, call it, and then close the
// user's websockets on every node through Deps.CloseUser, since what the
// sockets were opened with no longer holds.

// The close codes of a user's websockets (docs/protocol.md, close codes).
const (
	closeSignedOut      = 4001 // the sessions ended: sign in again
	closeAccountChanged = 4002 // the role changed: reconnect with the same session
)

// closeUser closes every websocket of user, on every node, when the
// deployment wired it (cmd/parley: the hub's CloseUser).
func (a *api) closeUser(user auth.UserID, code int, reason string) {
	if a.CloseUser != nil {
		a.CloseUser(user, code, reason)
	}
}

func (a *api) editUser(c echo.Context) error {
	if err := requireAdmin(c); err != nil {
		return err
	}
	id, err := userID(c)
	if err != nil {
		return err
	}
	var in struct {
		Name *string    `json:"name"`
		Role *auth.Role `json:"role"`
	}
	if err := bind(c, &in, `send {"name", "role"} as JSON`); err != nil {
		return err
	}
	if in.Name == nil && in.Role == nil {
		return apiError(http.StatusBadRequest, "bad_request", `send "name", "role" or both`)
	}
	acc, roleChanged, err := a.Auth.UpdateAccount(c.Request().Context(), principal(c), id, auth.AccountChange{Name: in.Name, Role: in.Role})
	if err != nil {
		return err
	}
	if roleChanged {
		a.closeUser(id, closeAccountChanged, "your role changed")
	}
	return c.JSON(http.StatusOK, acc)
}

func (a *api) setPassword(c echo.Context) error {
	if err := requireAdmin(c); err != nil {
		return err
	}
	id, err := userID(c)
	if err != nil {
		return err
	}
	var in struct {
		Password string `json:"password"`
	}
	if err := bind(c, &in, `send {"password"} as JSON`); err != nil {
		return err
	}
	p := principal(c)
	keep := "" // another user's sessions all end
	if id == p.UserID {
		keep = auth.RequestToken(c.Request(), false) // an admin's own: it stays signed in here
	}
	if err := a.Auth.SetPassword(c.Request().Context(), p, id, in.Password, keep); err != nil {
		return err
	}
	if id != p.UserID {
		a.closeUser(id, closeSignedOut, p.Name+" set a new password for you")
	}
	return c.NoContent(http.StatusNoContent)
}

// deactivate ends the account's sessions (auth, one transaction), closes
// its websockets on every node, then takes its status, offers and chats
// away (chat). Sent again for an account already deactivated, it does
// again what is left.
func (a *api) deactivate(c echo.Context) error {
	if err := requireAdmin(c); err != nil {
		return err
	}
	if err := noBody(c); err != nil {
		return err
	}
	id, err := userID(c)
	if err != nil {
		return err
	}
	ctx, p := c.Request().Context(), principal(c)
	acc, err := a.Auth.Deactivate(ctx, p, id)
	if err != nil {
		return err
	}
	a.closeUser(id, closeSignedOut, p.Name+" deactivated your account")
	if _, err := a.Chat.Deactivated(ctx, p, id); err != nil {
		return err
	}
	a.Log.Info("account deactivated", "user", acc.Username, "by", p.UserID)
	return c.JSON(http.StatusOK, acc)
}

func (a *api) reactivate(c echo.Context) error {
	if err := requireAdmin(c); err != nil {
		return err
	}
	if err := noBody(c); err != nil {
		return err
	}
	id, err := userID(c)
	if err != nil {
		return err
	}
	acc, err := a.Auth.Reactivate(c.Request().Context(), principal(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, acc)
}

// noBody reads the body of a request that takes none (or {}), so that
// one larger than the limit is refused as any body is, before anything
// is done.
func noBody(c echo.Context) error {
	var none struct{}
	return bind(c, &none, "send no body, or {}")
}
