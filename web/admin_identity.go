package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// The queues' identity secrets (docs/protocol.md, "Verified identity"):
// the admin role is checked in chat.
func (a *api) identityRoutes(g *echo.Group) {
	g.GET("/queues/:key/secret", a.queueSecret)
	g.POST("/queues/:key/secret", a.rotateQueueSecret)
}

func (a *api) queueSecret(c echo.Context) error {
	s, err := a.Chat.QueueSecret(c.Request().Context(), principal(c), c.Param("key"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, s)
}

func (a *api) rotateQueueSecret(c echo.Context) error {
	if err := noBody(c); err != nil {
		return err
	}
	s, err := a.Chat.RotateQueueSecret(c.Request().Context(), principal(c), c.Param("key"))
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, s)
}
