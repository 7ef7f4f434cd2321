package web

import (
	"context"
	"mime"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"parley/auth"
	"parley/chat"
)

// Files in messages: the upload and the download (docs/protocol.md,
// "Files"). Neither has the usual body limit nor the requests' database
// deadline (see New): an upload is streamed into the database as it
// arrives and a download out of it, bounded by the queue's file_max_bytes
// and by the client's connection.
const (
	uploadRoute   = "/api/conversations/:id/files"
	downloadRoute = "/api/files/:id"
)

// filePolicy is every file answer's Content-Security-Policy: opened as a
// page, a file (an SVG, say) runs nothing and loads nothing.
const filePolicy = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

func (a *api) fileRoutes(e *echo.Echo) {
	e.POST(uploadRoute, a.upload)
	e.GET(downloadRoute, a.download)
}

func (a *api) filePrincipal(c echo.Context) (auth.Principal, int64, error) {
	if c.QueryParam("token") != "" {
		return auth.Principal{}, 0, apiError(http.StatusBadRequest, "bad_request",
			"send the token as the header Authorization: Bearer TOKEN; only /ws takes ?token=")
	}
	// These routes have no request deadline (a file takes its time), so
	// the session check has one of its own.
	ctx, cancel := context.WithTimeout(c.Request().Context(), a.Limits.withDefaults().DBTimeout)
	defer cancel()
	p, err := a.Auth.Authenticate(ctx, auth.RequestToken(c.Request(), false))
	if err != nil {
		return p, 0, err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return p, 0, apiError(http.StatusBadRequest, "bad_request", "the id in the path is a positive number")
	}
	return p, id, nil
}

// upload takes the request's body as the file's content, its name from
// ?name=.
func (a *api) upload(c echo.Context) error {
	p, id, err := a.filePrincipal(c)
	if err != nil {
		return err
	}
	r := c.Request()
	f, err := a.Chat.Upload(r.Context(), p, chat.ConversationID(id), c.QueryParam("name"), r.ContentLength, r.Body)
	if err != nil {
		// The rest of a refused body is not read: close after the answer.
		c.Response().Header().Set("Connection", "close")
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"file": f})
}

// download sends a file to a reader of its conversation: as an
// attachment with its sniffed type, inline only for raster images.
func (a *api) download(c echo.Context) error {
	p, id, err := a.filePrincipal(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	f, err := a.Chat.OpenFile(ctx, p, chat.FileID(id))
	if err != nil {
		return err
	}
	h := c.Response().Header()
	disposition := "attachment"
	if f.Image {
		disposition = "inline"
	}
	h.Set("Content-Type", f.Type)
	h.Set("Content-Length", strconv.FormatInt(f.Size, 10))
	h.Set("Content-Disposition", mime.FormatMediaType(disposition, map[string]string{"filename": f.Name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", filePolicy)
	h.Set("Cache-Control", "private, no-store")
	c.Response().WriteHeader(http.StatusOK)
	if err := a.Chat.CopyFile(ctx, f, c.Response()); err != nil {
		a.Log.Warn("file download cut off", "file", f.ID, "err", err)
	}
	return nil
}
