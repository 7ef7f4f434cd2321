package web

import (
	"io/fs"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"
)

// The Queues tab of the admin console: each queue's change log, and the
// widget page in preview mode that the tab frames.
func (a *api) adminQueueRoutes(e *echo.Echo, files fs.FS) {
	e.GET("/api/admin/queues/:key/changes", a.queueChanges, a.requireUser)
	e.GET("/admin/widget-preview", a.adminPage(widgetPreview(files)))
}

func (a *api) queueChanges(c echo.Context) error {
	var before int64
	var limit int
	if v := c.QueryParam("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			return apiError(http.StatusBadRequest, "bad_request", "before: an entry's id (the page's next)")
		}
		before = n
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return apiError(http.StatusBadRequest, "bad_request", "limit: a number of entries, 1–100")
		}
		limit = n
	}
	page, err := a.Chat.QueueChanges(c.Request().Context(), principal(c), c.Param("key"), before, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

// widgetPreview serves the widget's page for the console's preview: the
// same page as /widget/{key}, which in preview mode takes its settings
// from the console by postMessage and never connects (widget/preview.js).
// Only Parley's own pages may frame it.
func widgetPreview(files fs.FS) echo.HandlerFunc {
	return func(c echo.Context) error {
		b, err := fs.ReadFile(files, "widget.html")
		if err != nil {
			return err
		}
		h := c.Response().Header()
		h.Set("X-Frame-Options", "SAMEORIGIN")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; connect-src 'self'; style-src 'self'; frame-ancestors 'self'")
		h.Set("Cache-Control", "no-cache")
		return c.HTMLBlob(http.StatusOK, b)
	}
}
