package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"parley/signaling/client"
)

// pdfBody is a PDF-looking body n bytes long, made as it is read: the
// test never holds it.
type pdfBody struct{ left, sent int64 }

func (b *pdfBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	for i := range p {
		p[i] = 'x'
	}
	if b.sent == 0 {
		copy(p, "%PDF-1.4\n")
	}
	b.left -= int64(len(p))
	b.sent += int64(len(p))
	return len(p), nil
}

// The "done when": a 100 MiB upload to the real server, run as a
// process of its own with GOMEMLIMIT, leaves its RSS far below the file's
// size; the file then downloads whole. It logs the throughputs
// docs/benchmarks.md quotes.
func TestA100MiBUploadLeavesTheServersMemoryAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads 100 MiB")
	}
	const size = 100 << 20
	// What the upload may add to the server's RSS: far below the file's
	// 100 MiB. It is the growth that counts: the server's RSS before the
	// upload depends on how the binary was built (-race) and on the
	// machine.
	const limit = 32 << 20
	t.Setenv("GOMEMLIMIT", "32MiB")
	dbURL := testDB(t)
	base, pid := startProcess(t, dbURL)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	db, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close(context.Background())
	key := fmt.Sprintf("files-%d", time.Now().UnixNano()%1e9)
	addQueue(t, db, key, "Hello", "file_max_bytes = 104857600")
	resp, body := post(t, base+"/api/widget/"+key+"/visitor", `{}`)
	var tok struct{ Token string }
	if err := json.Unmarshal(body, &tok); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("visitor token: %d %s", resp.StatusCode, body)
	}
	c, _, err := client.Connect(ctx, "ws"+base[len("http"):]+"/ws", client.Options{Token: tok.Token})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	chat := startChat(t, c, "Dana")

	before, err := rss(pid)
	if err != nil {
		t.Fatal(err)
	}
	var peak atomic.Int64
	sampling, stopSampling := context.WithCancel(ctx)
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-sampling.Done():
				return
			case <-tick.C:
			}
			if r, err := rss(pid); err == nil && r > peak.Load() {
				peak.Store(r)
			}
		}
	}()
	req, _ := http.NewRequestWithContext(ctx, "POST", fmt.Sprintf("%s/api/conversations/%d/files?name=big.pdf", base, chat.ID),
		&pdfBody{left: size})
	req.ContentLength = size
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	began := time.Now()
	up, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	upBody, _ := io.ReadAll(up.Body)
	up.Body.Close()
	upTime := time.Since(began)
	stopSampling()
	<-sampled
	if up.StatusCode != http.StatusCreated {
		t.Fatalf("upload: %d %s", up.StatusCode, upBody)
	}
	var out struct {
		File struct {
			ID   int64
			Size int64
			Type string
		}
	}
	if err := json.Unmarshal(upBody, &out); err != nil || out.File.Size != size || out.File.Type != "application/pdf" {
		t.Fatalf("upload answered %s", upBody)
	}
	t.Logf("upload of 100 MiB: %.1f s, %.1f MB/s; server RSS %d MiB before, at most %d MiB during",
		upTime.Seconds(), float64(size)/1e6/upTime.Seconds(), before>>20, peak.Load()>>20)
	if grew := peak.Load() - before; grew >= limit {
		t.Errorf("the server's RSS grew by %d MiB (from %d to %d MiB) uploading 100 MiB; want under %d MiB",
			grew>>20, before>>20, peak.Load()>>20, limit>>20)
	}

	get, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/api/files/%d", base, out.File.ID), nil)
	get.Header.Set("Authorization", "Bearer "+tok.Token)
	began = time.Now()
	down, err := http.DefaultClient.Do(get)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, down.Body)
	down.Body.Close()
	downTime := time.Since(began)
	if err != nil || n != size || down.StatusCode != http.StatusOK {
		t.Fatalf("download: %d, %d bytes, %v", down.StatusCode, n, err)
	}
	t.Logf("download of 100 MiB: %.1f s, %.1f MB/s", downTime.Seconds(), float64(size)/1e6/downTime.Seconds())
}
