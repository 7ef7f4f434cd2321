// Package web is the HTTP surface: the pages and their static files
// (embedded), the REST API, health, and the mount point of the
// websocket endpoint. Handlers are thin: the rules live in the domain
// packages.
package web

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"parley/auth"
	"parley/chat"
	"parley/conference"
	"parley/mail"
)

//go:embed static
var static embed.FS

// Pinger reports whether the database answers (pgxpool.Pool does).
type Pinger interface {
	Ping(ctx context.Context) error
}

// Deps are what the HTTP surface needs, given by cmd/parley.
type Deps struct {
	Auth       *auth.Service
	Chat       *chat.Service
	Conference *conference.Service
	DB         Pinger
	WS         http.Handler // the /ws endpoint
	PublicURL  *url.URL
	Log        *slog.Logger
	Metrics    *prometheus.Registry // HTTP latency is registered here; cmd/parley serves it on --metrics-addr
	Limits     Limits
	// LoginLimit limits sign-in attempts per client address; nil: 10 at
	// once, then one every 6 seconds.
	LoginLimit auth.RateLimit
	// RoomNumberLimit limits wrong room numbers per client address; nil:
	// 10, then one every 30 seconds.
	RoomNumberLimit auth.RateLimit
	// KeyLimit limits unknown widget keys per client address; nil: 10,
	// then one every 30 seconds.
	KeyLimit *auth.Limiter
	// SignedOut, if set, is told of each user who signed out: it closes
	// the user's websockets.
	SignedOut func(auth.Principal)
	// CloseUser, if set, closes every websocket of a user, on every node,
	// with a close code and reason: an admin deactivated the account, set
	// its password or changed its role (admin_users.go).
	CloseUser func(user auth.UserID, code int, reason string)
	// TrustedProxies are the load balancers in front of the node: from
	// a peer in one of these networks the client's address is the
	// nearest one in X-Forwarded-For that is not a trusted proxy. None:
	// the TCP peer is the client, whatever the header says.
	TrustedProxies []*net.IPNet
	// Outbox is the database of the e-mail outbox (the pool), which the
	// admin console lists; SMTP is the sender's settings, of which the
	// console says whether mail is sent at all.
	Outbox mail.Querier
	SMTP   mail.Settings
	// OfflineLimit limits the offline form's messages per visitor; nil:
	// 3 at once, then one every 5 minutes.
	OfflineLimit auth.RateLimit
}

// New builds the echo instance with every route.
func New(d Deps) *echo.Echo {
	if d.LoginLimit == nil {
		d.LoginLimit = auth.NewLimiter(6*time.Second, 10)
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = clientAddress(d.TrustedProxies)
	e.HTTPErrorHandler = errorHandler(d.Log)
	lim := d.Limits.withDefaults()
	requests := newPerAddress(lim.RequestsPerAddress, "requests in progress")
	websockets := newPerAddress(lim.WebsocketsPerAddress, "websockets open")
	e.Use(recoverJSON(d.Log), observe(d.Log, d.Metrics), secureHeaders, skipping(uploadRoute, limitBody(lim.MaxBody)),
		skipping("/ws", requests.middleware),
		skipping("/ws", skipping(uploadRoute, skipping(downloadRoute, dbDeadline(lim.DBTimeout)))),
		sameOriginWrites(d.PublicURL))

	a := &api{Deps: d}
	e.POST("/api/login", a.login)
	e.POST("/api/logout", a.logout)
	e.GET("/api/me", a.me, a.requireUser)
	e.GET("/healthz", a.healthz)
	e.GET("/ws", websockets.websockets(d.WS))

	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err)
	}
	e.GET("/", func(c echo.Context) error { return c.Redirect(http.StatusFound, "/desk") })
	e.GET("/login", page(sub, "login.html"))
	e.GET("/desk", page(sub, "desk.html"))
	e.GET("/supervisor", a.supervisorPage(page(sub, "supervisor.html")))
	e.GET("/admin", a.adminPage(page(sub, "admin.html")))
	e.GET("/external/conference", page(sub, "conference.html"))
	e.GET("/external/conference/", page(sub, "conference.html"))
	e.GET("/robots.txt", func(c echo.Context) error {
		b, err := fs.ReadFile(sub, "robots.txt")
		if err != nil {
			return err
		}
		return c.Blob(http.StatusOK, "text/plain; charset=utf-8", b)
	})
	e.GET("/static/*", echo.WrapHandler(http.StripPrefix("/static/", http.FileServer(http.FS(filesOnly{sub})))))
	e.GET("/api/conversations/:id/transcript", a.transcript)
	a.fileRoutes(e)
	a.adminRoutes(e)
	a.adminQueueRoutes(e, sub)
	a.adminCannedRoutes(e)
	a.outboxRoutes(e)
	if d.Conference != nil {
		ca := &conferenceAPI{api: a, conf: d.Conference, wrong: d.RoomNumberLimit}
		if ca.wrong == nil {
			ca.wrong = auth.NewLimiter(30*time.Second, 10)
		}
		ca.routes(e)
	}
	if d.KeyLimit == nil {
		d.KeyLimit = auth.NewLimiter(30*time.Second, 10)
	}
	w := &widget{chat: d.Chat, auth: d.Auth, files: sub, tokens: auth.NewLimiter(time.Second, 60), wrong: d.KeyLimit}
	w.routes(e)
	if d.OfflineLimit == nil {
		d.OfflineLimit = auth.NewLimiter(5*time.Minute, 3)
	}
	(&offlineForm{widget: w, limit: d.OfflineLimit}).routes(e)
	return e
}

// clientAddress says whose address a request comes from, which every
// per-address limit counts by. Without trusted proxies it is the TCP
// peer's: a header the client could forge is never read. With them (the
// deployment's load balancers), X-Forwarded-For is read from the right,
// skipping trusted proxies only, so a client cannot name an address of
// its choice by sending the header itself: the balancer appends the
// address it saw, and that is the one taken.
func clientAddress(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

func page(files fs.FS, name string) echo.HandlerFunc {
	return func(c echo.Context) error {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		c.Response().Header().Set("Cache-Control", "no-cache")
		return c.HTMLBlob(http.StatusOK, b)
	}
}

// filesOnly serves files and hides directories, so /static/ lists
// nothing: a directory is not found.
type filesOnly struct{ fs.FS }

func (f filesOnly) Open(name string) (fs.File, error) {
	file, err := f.FS.Open(name)
	if err != nil {
		return nil, err
	}
	if st, err := file.Stat(); err != nil || st.IsDir() {
		file.Close()
		return nil, fs.ErrNotExist
	}
	return file, nil
}

type api struct{ Deps }

type credentials struct {
	Username string `json:"username" form:"username"`
	Password string `json:"password" form:"password"`
}

func (a *api) login(c echo.Context) error {
	if ok, retry := a.LoginLimit.Allow(c.RealIP()); !ok {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())+1))
		return apiError(http.StatusTooManyRequests, "rate_limited",
			"Too many sign-in attempts from your address. Try again in "+humanDuration(retry)+".")
	}
	var in credentials
	if err := bind(c, &in, "send username and password as JSON or a form"); err != nil {
		return err
	}
	if in.Username == "" || in.Password == "" {
		return apiError(http.StatusBadRequest, "bad_request", "username and password are required")
	}
	s, err := a.Auth.Login(c.Request().Context(), in.Username, in.Password)
	if errors.Is(err, auth.ErrInvalidCredentials) {
		return apiError(http.StatusUnauthorized, "invalid_credentials", "Wrong username or password.")
	}
	if err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{
		Name:     auth.CookieName,
		Value:    s.Token,
		Path:     "/",
		Expires:  s.Expires,
		HttpOnly: true,
		Secure:   a.PublicURL.Scheme == "https",
		SameSite: http.SameSiteLaxMode,
	})
	a.Log.Info("signed in", "user", s.User.Username, "remote", c.RealIP())
	return c.JSON(http.StatusOK, s)
}

func (a *api) logout(c echo.Context) error {
	token := auth.RequestToken(c.Request(), false)
	p, authErr := a.Auth.Authenticate(c.Request().Context(), token)
	if err := a.Auth.Logout(c.Request().Context(), token); err != nil {
		return err
	}
	if authErr == nil && p.IsStaff() && a.SignedOut != nil {
		a.SignedOut(p)
	}
	c.SetCookie(&http.Cookie{Name: auth.CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: a.PublicURL.Scheme == "https", SameSite: http.SameSiteLaxMode})
	return c.NoContent(http.StatusNoContent)
}

func (a *api) me(c echo.Context) error {
	u, err := a.Auth.UserByID(c.Request().Context(), principal(c).UserID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

// supervisorPage serves the supervisor console to supervisors and admins
// only: an agent is sent to the desk, someone signed out to sign in.
func (a *api) supervisorPage(serve echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := a.Auth.Authenticate(c.Request().Context(), auth.RequestToken(c.Request(), false))
		switch {
		case errors.Is(err, auth.ErrUnauthenticated):
			return c.Redirect(http.StatusFound, "/login?next="+url.QueryEscape("/supervisor"))
		case err != nil:
			return err
		case !p.Is(auth.RoleSupervisor, auth.RoleAdmin):
			return c.Redirect(http.StatusFound, "/desk")
		}
		return serve(c)
	}
}

// adminPage serves the admin console to admins only: a supervisor is
// sent to the supervisor console, an agent to the desk, someone signed
// out to sign in.
func (a *api) adminPage(serve echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := a.Auth.Authenticate(c.Request().Context(), auth.RequestToken(c.Request(), false))
		switch {
		case errors.Is(err, auth.ErrUnauthenticated):
			return c.Redirect(http.StatusFound, "/login?next="+url.QueryEscape("/admin"))
		case err != nil:
			return err
		case p.Is(auth.RoleSupervisor):
			return c.Redirect(http.StatusFound, "/supervisor")
		case !p.Is(auth.RoleAdmin):
			return c.Redirect(http.StatusFound, "/desk")
		}
		return serve(c)
	}
}

// requireUser admits signed-in accounts (cookie or bearer token).
func (a *api) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := a.Auth.Authenticate(c.Request().Context(), auth.RequestToken(c.Request(), false))
		if err != nil {
			return err
		}
		if !p.IsStaff() {
			return apiError(http.StatusForbidden, "forbidden", "this needs an account")
		}
		c.Set("principal", p)
		return next(c)
	}
}

func (a *api) healthz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := a.DB.Ping(ctx); err != nil {
		a.Log.Warn("health check: database not answering", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok", "database": "ok"})
}

// transcript is a conversation with every event its reader may see:
// agents all of it, the customer (with its visitor token) the public part.
func (a *api) transcript(c echo.Context) error {
	if c.QueryParam("token") != "" {
		return apiError(http.StatusBadRequest, "bad_request",
			"send the token as the header Authorization: Bearer TOKEN; only /ws takes ?token=")
	}
	p, err := a.Auth.Authenticate(c.Request().Context(), auth.RequestToken(c.Request(), false))
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return apiError(http.StatusBadRequest, "bad_request", "the conversation id is a positive number")
	}
	conv, evs, err := a.Chat.Resume(c.Request().Context(), p, chat.ConversationID(id), 0)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"conversation": conv, "events": evs})
}

func humanDuration(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s <= 1 {
		return "a second"
	}
	if s < 90 {
		return strconv.Itoa(s) + " seconds"
	}
	return strconv.Itoa((s+30)/60) + " minutes"
}
