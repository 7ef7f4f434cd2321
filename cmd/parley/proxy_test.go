package main

import (
	"net/http"
	"strings"
	"testing"
)

// wrongLogin signs in with a wrong password, the request carrying xff
// as its X-Forwarded-For (none when empty), and returns the status.
func wrongLogin(t *testing.T, s *server, xff string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, s.base+"/api/login", strings.NewReader(`{"username":"alice","password":"wrong"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// exhaust spends the sign-in limit of the address the server sees for
// xff: ten wrong attempts pass (401), the eleventh is refused (429).
func exhaust(t *testing.T, s *server, xff string) {
	t.Helper()
	for i := 0; i < 10; i++ {
		if code := wrongLogin(t, s, xff); code != http.StatusUnauthorized {
			t.Fatalf("wrong sign-in %d from %q: %d, want 401", i+1, xff, code)
		}
	}
	if code := wrongLogin(t, s, xff); code != http.StatusTooManyRequests {
		t.Fatalf("the 11th wrong sign-in from %q: %d, want 429", xff, code)
	}
}

// Behind trusted load balancers each browser has its own limits: the
// client's address comes from X-Forwarded-For, read from the right, so a
// client naming another address in the header it sends gains nothing.
func TestBehindATrustedProxyEachClientAddressHasItsOwnLimit(t *testing.T) {
	t.Parallel()
	s := start(t, testDB(t), "--trusted-proxies", "127.0.0.0/8")
	exhaust(t, s, "203.0.113.1")
	if code := wrongLogin(t, s, "203.0.113.2"); code != http.StatusUnauthorized {
		t.Fatalf("another client behind the balancer was refused: %d, want 401", code)
	}
	// The client forged the left part; the balancer appended what it saw.
	if code := wrongLogin(t, s, "198.51.100.7, 203.0.113.1"); code != http.StatusTooManyRequests {
		t.Fatalf("a forged X-Forwarded-For dodged the limit: %d, want 429", code)
	}
}

// Without --trusted-proxies the header is never read: changing it does
// not dodge a limit.
func TestWithoutTrustedProxiesXForwardedForIsIgnored(t *testing.T) {
	t.Parallel()
	s := start(t, testDB(t))
	exhaust(t, s, "203.0.113.1")
	if code := wrongLogin(t, s, "203.0.113.2"); code != http.StatusTooManyRequests {
		t.Fatalf("a new X-Forwarded-For dodged the limit: %d, want 429", code)
	}
}

func TestTrustedProxiesMustBeNetworks(t *testing.T) {
	t.Parallel()
	_, err := parseConfig([]string{"--trusted-proxies", "10.0.0.0/8,nonsense"}, func(string) string { return "" }, nil)
	if err == nil || !strings.Contains(err.Error(), `"nonsense"`) {
		t.Fatalf("a bad network was taken: %v", err)
	}
}
