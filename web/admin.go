package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"parley/auth"
	"parley/chat"
)

// Admin API: accounts and queues. The admin role is checked here for
// accounts and in chat for queues.
func (a *api) adminRoutes(e *echo.Echo) {
	g := e.Group("/api/admin", a.requireUser)
	g.GET("/users", a.listUsers)
	g.POST("/users", a.createUser)
	g.PATCH("/users/:id", a.editUser)
	g.POST("/users/:id/password", a.setPassword)
	g.POST("/users/:id/deactivate", a.deactivate)
	g.POST("/users/:id/reactivate", a.reactivate)
	g.GET("/users/:id/queues", a.supervisorQueues)
	g.PUT("/users/:id/queues", a.supervise)
	g.GET("/queues", a.listQueues)
	g.PUT("/queues/:key", a.saveQueue)
	a.identityRoutes(g)
}

func principal(c echo.Context) auth.Principal { return c.Get("principal").(auth.Principal) }

func requireAdmin(c echo.Context) error {
	if !principal(c).Is(auth.RoleAdmin) {
		return apiError(http.StatusForbidden, "forbidden", "this needs the admin role")
	}
	return nil
}

func (a *api) listUsers(c echo.Context) error {
	if err := requireAdmin(c); err != nil {
		return err
	}
	users, err := a.Auth.Accounts(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"users": users})
}

func (a *api) createUser(c echo.Context) error {
	if err := requireAdmin(c); err != nil {
		return err
	}
	var in struct {
		Username string    `json:"username"`
		Name     string    `json:"name"`
		Role     auth.Role `json:"role"`
		Password string    `json:"password"`
	}
	if err := bind(c, &in, "send username, name, role and password as JSON"); err != nil {
		return err
	}
	u, err := a.Auth.CreateUser(c.Request().Context(), auth.NewUser{Username: in.Username, Name: in.Name, Role: in.Role, Password: in.Password})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, u)
}

func (a *api) listQueues(c echo.Context) error {
	qs, err := a.Chat.Queues(c.Request().Context(), principal(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"queues": qs})
}

func (a *api) saveQueue(c echo.Context) error {
	var in chat.QueueConfig
	if err := bind(c, &in, "send the queue's settings as JSON"); err != nil {
		return err
	}
	in.Key = c.Param("key")
	q, err := a.Chat.SaveQueue(c.Request().Context(), principal(c), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, q)
}

// userID reads the path's {id}: not_found unless a positive number.
func userID(c echo.Context) (auth.UserID, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apiError(http.StatusNotFound, "not_found", "there is no such user")
	}
	return auth.UserID(id), nil
}

func (a *api) supervisorQueues(c echo.Context) error {
	if err := requireAdmin(c); err != nil {
		return err
	}
	id, err := userID(c)
	if err != nil {
		return err
	}
	sq, err := a.Chat.SupervisorQueues(c.Request().Context(), principal(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sq)
}

func (a *api) supervise(c echo.Context) error {
	if err := requireAdmin(c); err != nil {
		return err
	}
	var in struct {
		Queues []chat.QueueID `json:"queues"`
	}
	if err := bind(c, &in, `send {"queues": [queue ids]} as JSON`); err != nil {
		return err
	}
	id, err := userID(c)
	if err != nil {
		return err
	}
	sq, err := a.Chat.Supervise(c.Request().Context(), principal(c), id, in.Queues)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sq)
}
