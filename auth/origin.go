package auth

import (
	"net/http"
	"net/url"
	"strings"
)

// SameOrigin reports whether origin, a browser's Origin header, is the
// server's own: scheme, host and port all equal to those of public (the
// public URL), or to those the request was made to (its Host, over https
// when the connection is TLS). A port left out is the scheme's default, so
// https://x and https://x:443 are one origin; http://x and https://x are
// two.
func SameOrigin(origin string, r *http.Request, public *url.URL) bool {
	o, ok := canonicalOrigin(origin)
	if !ok {
		return false
	}
	if public != nil {
		if p, ok := canonicalOrigin(public.Scheme + "://" + public.Host); ok && p == o {
			return true
		}
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	own, ok := canonicalOrigin(scheme + "://" + r.Host)
	return ok && own == o
}

// canonicalOrigin is s as scheme://host:port, lower case, with the port
// spelled out; ok is false when s is not an http(s) origin.
func canonicalOrigin(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	switch {
	case scheme == "http" && port == "":
		port = "80"
	case scheme == "https" && port == "":
		port = "443"
	case scheme != "http" && scheme != "https":
		return "", false
	}
	return scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port, true
}
