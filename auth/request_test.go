package auth_test

import (
	"net/http/httptest"
	"testing"

	"parley/auth"
)

func TestRequestTokenPrefersTheExplicitCredential(t *testing.T) {
	cases := []struct {
		name, header, query, cookie string
		allowQuery                  bool
		want                        string
	}{
		{"bearer wins", "Bearer hdr", "q", "ck", true, "hdr"},
		{"bearer in any case", "bEaReR  hdr ", "", "", true, "hdr"},
		{"query before cookie", "", "q", "ck", true, "q"},
		{"query not taken over HTTP", "", "q", "ck", false, "ck"},
		{"cookie alone", "", "", "ck", false, "ck"},
		{"not a bearer", "Basic abc", "", "", true, ""},
		{"nothing", "", "", "", true, ""},
	}
	for _, tc := range cases {
		r := httptest.NewRequest("GET", "/ws?token="+tc.query, nil)
		if tc.header != "" {
			r.Header.Set("Authorization", tc.header)
		}
		if tc.cookie != "" {
			r.Header.Set("Cookie", auth.CookieName+"="+tc.cookie)
		}
		if got := auth.RequestToken(r, tc.allowQuery); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}
