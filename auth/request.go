package auth

import (
	"net/http"
	"strings"
)

// RequestToken finds a request's credential: the Authorization bearer
// token, then (when query is true) ?token=, then the session cookie. An
// explicit credential wins over the ambient cookie. Only the websocket
// takes ?token=, because browsers cannot set its headers; HTTP calls keep
// tokens out of URLs, which proxies log.
func RequestToken(r *http.Request, query bool) string {
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	if query {
		if t := r.URL.Query().Get("token"); t != "" {
			return t
		}
	}
	if c, err := r.Cookie(CookieName); err == nil {
		return c.Value
	}
	return ""
}
