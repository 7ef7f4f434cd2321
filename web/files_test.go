package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"parley/auth"
	"parley/bus"
	"parley/chat"
	"parley/chat/chattest"
	"parley/conference"
	"parley/store/storetest"
	"parley/web"
)

// The files tests upload and download over HTTP, with a running chat
// service and the real database behind it.

type fileSite struct {
	*httptest.Server
	pool  *pgxpool.Pool
	auth  *auth.Service
	chat  *chat.Service
	queue chat.Queue
	// tokens by principal, for the Authorization header.
	alice, carol, sue, admin       member
	customer, stranger, guest, bob member // bob: an agent of another queue
	conv                           chat.ConversationID
}

type member struct {
	p     auth.Principal
	token string
}

// pdf, png and the other contents are what their names say, by content.
var (
	pdfHead = []byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
	pngHead = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde")
	elfHead = []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x3e\x00\x01\x00\x00\x00")
	mzHead  = append([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00"), bytes.Repeat([]byte{0}, 44)...)
	html    = []byte("<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>")
)

func newFileSite(t *testing.T, maxBytes int64) *fileSite {
	t.Helper()
	ctx := context.Background()
	pool := storetest.Pool(t, auth.Migrations, conference.Migrations, chat.Migrations)
	a, err := auth.NewService(ctx, pool, auth.Options{BcryptCost: bcrypt.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	svc := chat.New(pool, bus.NewMemory(), quiet, chat.Options{})
	run, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); svc.Run(run) }()
	t.Cleanup(func() { stop(); <-done })
	public, _ := url.Parse("http://parley.example")
	e := web.New(web.Deps{Auth: a, Chat: svc, DB: pool, WS: http.NotFoundHandler(), PublicURL: public,
		Log: quiet, Metrics: prometheus.NewRegistry()})
	s := &fileSite{Server: httptest.NewServer(e), pool: pool, auth: a, chat: svc}
	t.Cleanup(s.Close)

	user := func(name string, role auth.Role) member {
		username := chattest.Unique(strings.ToLower(name))
		u, err := a.CreateUser(ctx, auth.NewUser{Username: username, Name: name, Role: role, Password: "secret"})
		if err != nil {
			t.Fatal(err)
		}
		sess, err := a.Login(ctx, username, "secret")
		if err != nil {
			t.Fatal(err)
		}
		return member{auth.Principal{Kind: auth.KindUser, Role: role, UserID: u.ID, Name: name}, sess.Token}
	}
	s.alice, s.carol, s.bob = user("Alice", auth.RoleAgent), user("Carol", auth.RoleAgent), user("Bob", auth.RoleAgent)
	s.sue, s.admin = user("Sue", auth.RoleSupervisor), user("Ada", auth.RoleAdmin)
	s.queue, err = svc.CreateQueue(ctx, chat.Queue{Key: chattest.Unique("files"), Name: "Files", FileMaxBytes: maxBytes},
		s.alice.p.UserID, s.carol.p.UserID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateQueue(ctx, chat.Queue{Key: chattest.Unique("other"), Name: "Other"}, s.bob.p.UserID); err != nil {
		t.Fatal(err)
	}
	visitor := func(name string) member {
		tok, p, err := a.IssueVisitor(s.queue.Key, "", name, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		return member{p, tok}
	}
	s.customer, s.stranger = visitor("Dana"), visitor("Eve")
	tok, p, err := a.IssueGuest("room-1", "Gus", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	s.guest = member{p, tok}
	c, _, err := svc.Start(ctx, s.customer.p, chat.StartInput{Name: "Dana"})
	if err != nil {
		t.Fatal(err)
	}
	s.conv = c.ID
	if _, _, err := svc.Start(ctx, s.stranger.p, chat.StartInput{Name: "Eve"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Accept(ctx, s.alice.p, s.conv); err != nil {
		t.Fatal(err)
	}
	return s
}

// upload posts content as name into the site's conversation (or conv).
func (s *fileSite) upload(t *testing.T, m member, name string, content []byte, conv ...chat.ConversationID) (int, chat.FileRef, string) {
	t.Helper()
	id := s.conv
	if len(conv) > 0 {
		id = conv[0]
	}
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/conversations/%d/files?name=%s", s.URL, id, url.QueryEscape(name)),
		bytes.NewReader(content))
	req.Header.Set("Authorization", "Bearer "+m.token)
	req.Header.Set("Content-Type", "application/octet-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out struct{ File chat.FileRef }
	if resp.StatusCode == http.StatusCreated {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.StatusCode, out.File, string(b)
}

func (s *fileSite) download(t *testing.T, m member, id chat.FileID) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("%s/api/files/%d", s.URL, id), nil)
	req.Header.Set("Authorization", "Bearer "+m.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// stored counts the files and chunks in the database.
func (s *fileSite) stored(t *testing.T) (files, chunks int) {
	t.Helper()
	err := s.pool.QueryRow(context.Background(), `SELECT (SELECT count(*) FROM chat_files),
		(SELECT count(*) FROM chat_file_chunks)`).Scan(&files, &chunks)
	if err != nil {
		t.Fatal(err)
	}
	return files, chunks
}

func TestUploadsRefusedLeaveNothingStored(t *testing.T) {
	s := newFileSite(t, 1<<20)
	for _, c := range []struct {
		what, name string
		content    []byte
		status     int
		code, says string
	}{
		{"oversize", "big.pdf", append(pdfHead, make([]byte, 1<<20)...), http.StatusRequestEntityTooLarge, "too_large", "up to 1048576 bytes"},
		{"renamed ELF executable", "cat.png", append(elfHead, make([]byte, 4000)...), http.StatusBadRequest, "bad_request", "application/x-executable"},
		{"renamed Windows executable", "report.pdf", append(mzHead, make([]byte, 4000)...), http.StatusBadRequest, "bad_request", "which this queue does not take"},
		{"HTML renamed .png", "cat.png", html, http.StatusBadRequest, "bad_request", "text/html"},
		{"empty", "empty.txt", nil, http.StatusBadRequest, "bad_request", "the file is empty"},
		{"no name", "", []byte("hello"), http.StatusBadRequest, "bad_request", "name:"},
	} {
		status, _, body := s.upload(t, s.customer, c.name, c.content)
		code, msg := apiErr(t, body)
		if status != c.status || code != c.code || !strings.Contains(msg, c.says) {
			t.Errorf("%s: %d %s %q, want %d %s saying %q", c.what, status, code, msg, c.status, c.code, c.says)
		}
	}
	if f, ch := s.stored(t); f != 0 || ch != 0 {
		t.Errorf("after the refusals: %d files and %d chunks stored", f, ch)
	}
}

// A body with no Content-Length that turns out larger than the queue's
// limit is refused once it passes it, after chunks were written: the
// transaction takes them back.
func TestAnOversizeStreamIsRefusedAndRolledBack(t *testing.T) {
	s := newFileSite(t, 1<<20)
	body := io.MultiReader(bytes.NewReader(pdfHead), io.LimitReader(zeros{}, 3<<20))
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/conversations/%d/files?name=big.pdf", s.URL, s.conv), body)
	req.Header.Set("Authorization", "Bearer "+s.customer.token)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if code, msg := apiErr(t, string(b)); resp.StatusCode != http.StatusRequestEntityTooLarge || code != "too_large" {
			t.Errorf("a 3 MiB stream: %d %s %q", resp.StatusCode, code, msg)
		}
	}
	s.settled(t)
	if f, ch := s.stored(t); f != 0 || ch != 0 {
		t.Errorf("after the refusal: %d files and %d chunks stored", f, ch)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// settled waits until the server's upload has begun (the file's id was
// taken) and no transaction of it is open any more.
func (s *fileSite) settled(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var began bool
		var open int
		err := s.pool.QueryRow(context.Background(), `SELECT
			(SELECT is_called FROM chat_files_id_seq),
			(SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_xid IS NOT NULL
				AND pid <> pg_backend_pid())`).Scan(&began, &open)
		if err != nil {
			t.Fatal(err)
		}
		if began && open == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the upload did not end: began %v, %d transactions open", began, open)
		}
		time.Sleep(20 * time.Millisecond) // polling the database for a condition, with a deadline
	}
}

// A client that closes its connection halfway through the body leaves
// nothing: the chunks written so far go with the transaction.
func TestACutOffUploadLeavesNothing(t *testing.T) {
	s := newFileSite(t, 1<<20)
	u, _ := url.Parse(s.URL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /api/conversations/%d/files?name=a.pdf HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"+
		"Content-Length: %d\r\n\r\n", s.conv, u.Host, s.customer.token, 900<<10)
	if _, err := conn.Write(append(pdfHead, make([]byte, 600<<10)...)); err != nil {
		t.Fatal(err)
	}
	conn.Close()
	s.settled(t)
	if f, ch := s.stored(t); f != 0 || ch != 0 {
		t.Errorf("after the cut-off upload: %d files and %d chunks stored", f, ch)
	}
}

func TestSendingFilesAndWhoMayDownloadThem(t *testing.T) {
	s := newFileSite(t, 0)
	ctx := context.Background()
	pdf := append(append([]byte{}, pdfHead...), bytes.Repeat([]byte("some text of the document\n"), 40000)...) // ~1 MB: 4 chunks
	status, doc, body := s.upload(t, s.customer, "../report.pdf", pdf)
	if status != http.StatusCreated || doc.Type != "application/pdf" || doc.Name != "report.pdf" || doc.Size != int64(len(pdf)) || doc.Image {
		t.Fatalf("upload of a PDF: %d %+v %s", status, doc, body)
	}
	_, img, _ := s.upload(t, s.customer, "cat.png", pngHead)
	if img.Type != "image/png" || !img.Image {
		t.Fatalf("upload of a PNG: %+v", img)
	}

	// Pending: its uploader's alone.
	if resp, _ := s.download(t, s.alice, doc.ID); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the agent fetched a file not sent yet: %d", resp.StatusCode)
	}
	if resp, b := s.download(t, s.customer, doc.ID); resp.StatusCode != http.StatusOK || !bytes.Equal(b, pdf) {
		t.Errorf("the uploader fetched its pending file: %d, %d bytes", resp.StatusCode, len(b))
	}

	// chat.send: other people's files, another chat's, six, twice.
	_, mine, _ := s.upload(t, s.alice, "notes.txt", []byte("agent's notes\n"))
	for _, c := range []struct {
		what  string
		files []chat.FileID
		says  string
	}{
		{"six files", []chat.FileID{doc.ID, img.ID, 3, 4, 5, 6}, "at most 5 per message"},
		{"someone else's upload", []chat.FileID{mine.ID}, "not one of your uploads"},
		{"a file listed twice", []chat.FileID{doc.ID, doc.ID}, "listed twice"},
		{"no such file", []chat.FileID{999999}, "not one of your uploads"},
	} {
		_, err := s.chat.Send(ctx, s.customer.p, chat.SendInput{ConversationID: s.conv, ClientID: chattest.Unique("m"), Files: c.files})
		if err == nil || !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), "files:") {
			t.Errorf("%s: %v, want an error of files saying %q", c.what, err, c.says)
		}
	}
	res, err := s.chat.Send(ctx, s.customer.p, chat.SendInput{ConversationID: s.conv, ClientID: "m-1", Text: "Here",
		Files: []chat.FileID{doc.ID, img.ID}})
	if err != nil {
		t.Fatal(err)
	}
	// Sent once, a file goes with no other message.
	if _, err := s.chat.Send(ctx, s.customer.p, chat.SendInput{ConversationID: s.conv, ClientID: "m-2",
		Files: []chat.FileID{doc.ID}}); err == nil || !strings.Contains(err.Error(), "went with another") {
		t.Errorf("a sent file sent again: %v", err)
	}
	// The resend of the same message is a duplicate, not an error.
	if again, err := s.chat.Send(ctx, s.customer.p, chat.SendInput{ConversationID: s.conv, ClientID: "m-1", Text: "Here",
		Files: []chat.FileID{doc.ID, img.ID}}); err != nil || !again.Duplicate || again.Seq != res.Seq {
		t.Errorf("resend: %+v %v", again, err)
	}
	_, evs, err := s.chat.Resume(ctx, s.alice.p, s.conv, 0)
	if err != nil {
		t.Fatal(err)
	}
	last := evs[len(evs)-1]
	if len(last.Files) != 2 || last.Files[0] != doc || last.Files[1] != img {
		t.Errorf("the message's event carries files %+v", last.Files)
	}

	// A private note's file.
	_, note, _ := s.upload(t, s.alice, "internal.txt", []byte("for staff only\n"))
	if _, err := s.chat.Send(ctx, s.alice.p, chat.SendInput{ConversationID: s.conv, ClientID: "n-1", Private: true,
		Files: []chat.FileID{note.ID}}); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		who            string
		m              member
		public, privat int
		upload         int
	}{
		{"its customer", s.customer, 200, 404, 201},
		{"another customer of the queue", s.stranger, 404, 404, 404},
		{"its agent", s.alice, 200, 200, 201},
		{"an agent of its queue not in it", s.carol, 404, 404, 404},
		{"an agent of another queue", s.bob, 404, 404, 404},
		{"a supervisor of every queue", s.sue, 200, 200, 201},
		{"an admin", s.admin, 200, 200, 201},
		{"a guest", s.guest, 404, 404, 404},
		{"nobody signed in", member{}, 401, 401, 401},
	} {
		resp, b := s.download(t, c.m, doc.ID)
		if resp.StatusCode != c.public || c.public == 200 && !bytes.Equal(b, pdf) {
			t.Errorf("%s fetched the customer's PDF: %d (%d bytes), want %d", c.who, resp.StatusCode, len(b), c.public)
		}
		if resp, _ := s.download(t, c.m, note.ID); resp.StatusCode != c.privat {
			t.Errorf("%s fetched the private note's file: %d, want %d", c.who, resp.StatusCode, c.privat)
		}
		if status, _, body := s.upload(t, c.m, "x.txt", []byte("hello\n")); status != c.upload {
			t.Errorf("%s uploaded into the chat: %d %s, want %d", c.who, status, body, c.upload)
		}
	}

	// The headers: the sniffed type, attachment but for raster images,
	// nosniff, a sandbox.
	resp, _ := s.download(t, s.alice, doc.ID)
	h := resp.Header
	if h.Get("Content-Type") != "application/pdf" || h.Get("Content-Disposition") != `attachment; filename=report.pdf` ||
		h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") ||
		!strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("the PDF's headers: %v", h)
	}
	if resp, _ := s.download(t, s.alice, img.ID); resp.Header.Get("Content-Disposition") != "inline; filename=cat.png" ||
		resp.Header.Get("Content-Type") != "image/png" {
		t.Errorf("the PNG's headers: %v", resp.Header)
	}

	// Once the agent's session ends, its token fetches nothing.
	if err := s.auth.Logout(ctx, s.alice.token); err != nil {
		t.Fatal(err)
	}
	if resp, _ := s.download(t, s.alice, doc.ID); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("after the agent signed out: %d", resp.StatusCode)
	}
	// A closed chat takes no more files.
	if err := s.chat.Close(ctx, s.customer.p, s.conv, ""); err != nil {
		t.Fatal(err)
	}
	if status, _, body := s.upload(t, s.customer, "late.txt", []byte("too late\n")); status != http.StatusConflict {
		t.Errorf("upload into a closed chat: %d %s", status, body)
	}
}
