package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"parley/chat"
)

// The canned responses of a queue (docs/protocol.md, "Canned responses"):
// admins list, add, change, delete and reorder them; each request saves at
// once, apart from the queue's own Save.
func (a *api) adminCannedRoutes(e *echo.Echo) {
	e.GET("/api/admin/queues/:key/canned", a.cannedList, a.requireUser)
	e.POST("/api/admin/queues/:key/canned", a.cannedCreate, a.requireUser)
	e.PUT("/api/admin/queues/:key/canned/order", a.cannedOrder, a.requireUser)
	e.PUT("/api/admin/queues/:key/canned/:id", a.cannedUpdate, a.requireUser)
	e.DELETE("/api/admin/queues/:key/canned/:id", a.cannedDelete, a.requireUser)
}

func (a *api) cannedList(c echo.Context) error {
	list, err := a.Chat.Canned(c.Request().Context(), principal(c), c.Param("key"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"canned": list})
}

const cannedWant = `a JSON object {"title": "…", "text": "…"}`

func (a *api) cannedCreate(c echo.Context) error {
	var in chat.CannedInput
	if err := bind(c, &in, cannedWant); err != nil {
		return err
	}
	got, err := a.Chat.CreateCanned(c.Request().Context(), principal(c), c.Param("key"), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, got)
}

func cannedID(c echo.Context) (chat.CannedID, error) {
	n, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || n < 1 {
		return 0, apiError(http.StatusNotFound, "not_found", "no such canned response")
	}
	return chat.CannedID(n), nil
}

func (a *api) cannedUpdate(c echo.Context) error {
	id, err := cannedID(c)
	if err != nil {
		return err
	}
	var in chat.CannedInput
	if err := bind(c, &in, cannedWant); err != nil {
		return err
	}
	got, err := a.Chat.UpdateCanned(c.Request().Context(), principal(c), c.Param("key"), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, got)
}

func (a *api) cannedDelete(c echo.Context) error {
	id, err := cannedID(c)
	if err != nil {
		return err
	}
	if err := a.Chat.DeleteCanned(c.Request().Context(), principal(c), c.Param("key"), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (a *api) cannedOrder(c echo.Context) error {
	var in struct {
		IDs []chat.CannedID `json:"ids"`
	}
	if err := bind(c, &in, `a JSON object {"ids": [every canned response's id, in the new order]}`); err != nil {
		return err
	}
	list, err := a.Chat.OrderCanned(c.Request().Context(), principal(c), c.Param("key"), in.IDs)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"canned": list})
}
