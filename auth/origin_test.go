package auth

import (
	"crypto/tls"
	"net/http/httptest"
	"net/url"
	"testing"
)

// An origin is the same only when scheme, host and port all match: the
// public URL's, or the request's own.
func TestSameOriginComparesSchemeHostAndPort(t *testing.T) {
	public, _ := url.Parse("https://parley.example")
	cases := []struct {
		origin string
		host   string
		tls    bool
		want   bool
	}{
		{"https://parley.example", "10.0.0.1:8080", false, true},
		{"https://parley.example:443", "10.0.0.1:8080", false, true},
		{"https://PARLEY.example", "10.0.0.1:8080", false, true},
		{"http://parley.example", "10.0.0.1:8080", false, false}, // scheme differs from the public URL's
		{"https://parley.example:8443", "10.0.0.1:8080", false, false},
		{"https://evil.example", "10.0.0.1:8080", false, false},
		{"http://10.0.0.1:8080", "10.0.0.1:8080", false, true},
		{"https://10.0.0.1:8080", "10.0.0.1:8080", false, false}, // plain HTTP request, https origin
		{"https://10.0.0.1:8080", "10.0.0.1:8080", true, true},
		{"http://10.0.0.1:8080", "10.0.0.1:8080", true, false},
		{"http://localhost", "localhost:80", false, true},
		{"null", "10.0.0.1:8080", false, false},
		{"ws://parley.example", "parley.example", false, false},
		{"https://user@parley.example", "10.0.0.1:8080", false, false},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("POST", "/", nil)
		r.Host = tc.host
		if tc.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if got := SameOrigin(tc.origin, r, public); got != tc.want {
			t.Errorf("origin %s to %s (tls %v): %v, want %v", tc.origin, tc.host, tc.tls, got, tc.want)
		}
	}
}
