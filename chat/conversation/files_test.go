package conversation

import (
	"bytes"
	"context"
	"testing"
)

// An upload never sent is deleted once it is older than the TTL, with its
// content; a younger one and one sent with a message stay.
func TestUploadsNeverSentAreSweptAfterTheirTTL(t *testing.T) {
	f := newWriterFixture(t)
	ctx := context.Background()
	p, id := f.customer(t, "Una")
	pdf := []byte("%PDF-1.4\n% a small pdf\n")
	upload := func() FileRef {
		t.Helper()
		ref, err := f.svc.Upload(ctx, p, id, "a.pdf", int64(len(pdf)), bytes.NewReader(pdf))
		if err != nil {
			t.Fatal(err)
		}
		return ref
	}
	old, young, sent := upload(), upload(), upload()
	// Sent with the chat's first event (the fixture's writer does not
	// run: what matters here is the file's seq).
	if _, err := f.svc.pool.Exec(ctx, `UPDATE chat_files SET seq = 1 WHERE id = $1`, sent.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.pool.Exec(ctx, `UPDATE chat_files SET created_at = now() - interval '2 days' WHERE id = ANY ($1)`,
		[]FileID{old.ID, sent.ID}); err != nil {
		t.Fatal(err)
	}
	n, err := f.svc.SweepUploads(ctx, PendingUploadTTL)
	if err != nil || n != 1 {
		t.Fatalf("swept %d (%v), want 1: the old upload never sent", n, err)
	}
	var left []FileID
	rows, err := f.svc.pool.Query(ctx, `SELECT id FROM chat_files WHERE conversation_id = $1 ORDER BY id`, id)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var fid FileID
		if err := rows.Scan(&fid); err != nil {
			t.Fatal(err)
		}
		left = append(left, fid)
	}
	if len(left) != 2 || left[0] != young.ID || left[1] != sent.ID {
		t.Errorf("files left %v, want the young upload %d and the sent one %d", left, young.ID, sent.ID)
	}
	var chunks int
	if err := f.svc.pool.QueryRow(ctx, `SELECT count(*) FROM chat_file_chunks WHERE file_id = $1`, old.ID).Scan(&chunks); err != nil || chunks != 0 {
		t.Errorf("the swept upload keeps %d chunks (%v)", chunks, err)
	}
}
