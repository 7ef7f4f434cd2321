package conversation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gabriel-vasile/mimetype"
	"github.com/jackc/pgx/v5"

	"parley/auth"
	"parley/chat/queues"
	"parley/fault"
)

// Files in messages. A file is uploaded first (Upload), into a row of
// chat_files and its content in chunks of ChunkSize (chat_file_chunks), in
// one transaction: a body cut off or over the limit rolls it all back, so
// nothing half-stored remains. It is then pending, its uploader's, until
// chat.send names it in files: the writer's statement attaches it to the
// message it inserts (storeSQL), in the same statement, so a message
// never stands without its files nor a file on two messages. Any node
// serves a download (OpenFile), chunk by chunk: no node ever holds a
// file whole.

// FileID identifies an uploaded file.
type FileID int64

func (id FileID) String() string { return strconv.FormatInt(int64(id), 10) }

// FileRef is a file as a message's event carries it. Image is true only
// for raster images, which the pages show inline.
type FileRef struct {
	ID    FileID `json:"id"`
	Name  string `json:"name"`
	Size  int64  `json:"size"`
	Type  string `json:"type"`
	Image bool   `json:"image"`
}

// MaxFilesPerMessage is how many files one message may carry.
const MaxFilesPerMessage = 5

// ChunkSize is the size of a stored chunk, and the most of a file a node
// holds in memory while it stores or serves one.
const ChunkSize = 256 << 10

// ErrFileTooLarge refuses a file over its queue's file_max_bytes.
var ErrFileTooLarge = fault.New(fault.TooLarge, "the file is larger than the queue allows")

// rasterImages are the images shown inline; SVG is not among them (it can
// carry script), so it is only ever downloaded.
var rasterImages = []string{"image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp", "image/avif", "image/heic", "image/tiff"}

// category says which of queues.FileCategories a sniffed type belongs to
// ("" for none: executables, HTML, archives and the rest are refused).
// WebM and Ogg count as audio and as video: a recorder's Opus in WebM
// sniffs as video/webm.
func category(typ string) []string {
	switch {
	case slices.Contains(rasterImages, typ), typ == "image/svg+xml":
		return []string{"images"}
	case typ == "application/pdf":
		return []string{"pdf"}
	case typ == "text/plain", typ == "text/csv", typ == "text/tab-separated-values":
		return []string{"text"}
	case typ == "application/msword", typ == "application/vnd.ms-excel", typ == "application/vnd.ms-powerpoint",
		typ == "text/rtf", strings.HasPrefix(typ, "application/vnd.openxmlformats-officedocument."),
		strings.HasPrefix(typ, "application/vnd.oasis.opendocument."):
		return []string{"office"}
	case typ == "video/webm", typ == "application/ogg", typ == "audio/ogg", typ == "video/ogg":
		return []string{"audio", "video"}
	case strings.HasPrefix(typ, "audio/"):
		return []string{"audio"}
	case strings.HasPrefix(typ, "video/"):
		return []string{"video"}
	}
	return nil
}

// sniff names the type of a file from its first bytes.
func sniff(head []byte) string {
	t, _, err := mime.ParseMediaType(mimetype.Detect(head).String())
	if err != nil {
		return "application/octet-stream"
	}
	return t
}

// fileName checks and cleans an upload's name: its last path element,
// 1–255 characters.
func fileName(name string) (string, error) {
	if err := queues.BadText("name", name); err != nil {
		return "", err
	}
	name = strings.TrimSpace(path.Base(strings.ReplaceAll(name, `\`, "/")))
	if name == "" || name == "." || name == "/" || utf8.RuneCountInString(name) > 255 {
		return "", queues.Bad("name: the file's name, 1–255 characters")
	}
	return name, nil
}

// Upload stores body as a file pending in conversation id, p's to attach
// to its next message there. declared is the body's Content-Length (-1
// when unknown): over the queue's FileMaxBytes it is refused before a
// byte is read. The type is sniffed from the content against the queue's
// FileTypes. The body is stored as it is read, ChunkSize at a time, in
// one transaction: cut off, over the limit or refused, nothing remains.
func (s *Log) Upload(ctx context.Context, p auth.Principal, id ID, name string, declared int64, body io.Reader) (FileRef, error) {
	name, err := fileName(name)
	if err != nil {
		return FileRef{}, err
	}
	// The request has no deadline (a large file takes its time), so each
	// step with the database has one of its own: a database that hangs
	// fails the upload within DBTimeout, with nothing stored.
	step := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, s.opt.DBTimeout) }
	rctx, cancel := step()
	_, q, acc, err := s.readable(rctx, p, id)
	cancel()
	if err != nil {
		return FileRef{}, err
	}
	if !acc.Write {
		return FileRef{}, queues.Conflict("the chat is closed")
	}
	if declared > q.FileMaxBytes {
		return FileRef{}, queues.Detail(ErrFileTooLarge,
			fmt.Sprintf("file: %d bytes, this queue takes files up to %d bytes", declared, q.FileMaxBytes))
	}
	buf := make([]byte, ChunkSize)
	n, err := io.ReadFull(body, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return FileRef{}, cutOff(err)
	}
	if n == 0 {
		return FileRef{}, queues.Bad("file: the file is empty")
	}
	if declared >= 0 && n < ChunkSize && int64(n) != declared {
		return FileRef{}, cutOff(io.ErrUnexpectedEOF)
	}
	ref := FileRef{Name: name, Type: sniff(buf[:n])}
	ref.Image = slices.Contains(rasterImages, ref.Type)
	allowed := false
	for _, c := range category(ref.Type) {
		allowed = allowed || slices.Contains(q.FileTypes, c)
	}
	if !allowed {
		return FileRef{}, queues.Bad("file: its content is %s, which this queue does not take (it takes %s)",
			ref.Type, takes(q.FileTypes))
	}
	last := err != nil // the first read reached the end
	bctx, cancel := step()
	tx, err := s.pool.Begin(bctx)
	cancel()
	if err != nil {
		return FileRef{}, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after a commit it does nothing
	// exec runs one statement of the upload's transaction within DBTimeout.
	exec := func(sql string, args ...any) error {
		sctx, cancel := step()
		defer cancel()
		_, err := tx.Exec(sctx, sql, args...)
		return err
	}
	err = func() error {
		sctx, cancel := step()
		err := tx.QueryRow(sctx, `INSERT INTO chat_files (conversation_id, owner_key, name, size, type, image)
			VALUES ($1, $2, $3, 0, $4, $5) RETURNING id`, id, p.Key(), ref.Name, ref.Type, ref.Image).Scan(&ref.ID)
		cancel()
		if err != nil {
			return err
		}
		for chunk := 0; ; chunk++ {
			ref.Size += int64(n)
			if ref.Size > q.FileMaxBytes {
				return queues.Detail(ErrFileTooLarge, fmt.Sprintf("file: over %d bytes, the most this queue takes", q.FileMaxBytes))
			}
			if err := exec(`INSERT INTO chat_file_chunks (file_id, n, data) VALUES ($1, $2, $3)`, ref.ID, chunk, buf[:n]); err != nil {
				return err
			}
			if last {
				break
			}
			n, err = io.ReadFull(body, buf)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
				return cutOff(err)
			}
			last = err != nil
		}
		if declared >= 0 && ref.Size != declared {
			return cutOff(io.ErrUnexpectedEOF)
		}
		if err := exec(`UPDATE chat_files SET size = $2 WHERE id = $1`, ref.ID, ref.Size); err != nil {
			return err
		}
		cctx, cancel := step()
		defer cancel()
		return tx.Commit(cctx)
	}()
	if err != nil {
		return FileRef{}, err
	}
	return ref, nil
}

// cutOff is the error of an upload whose body ended early or failed.
func cutOff(err error) error {
	return queues.Bad("file: the upload was cut off before its end (%v); nothing was stored, send it again", err)
}

func takes(types []string) string {
	if len(types) == 0 {
		return "no files"
	}
	return strings.Join(types, ", ")
}

// pendingFiles checks a message's files before it goes to the writer, for
// errors that name the file: each must be p's upload in conversation id,
// not yet sent. The writer's statement checks again, atomically, and
// attaches them. A file already sent passes here: it may be this very
// message's, resent (the statement answers it as a duplicate).
func (s *Log) pendingFiles(ctx context.Context, p auth.Principal, id ID, ids []FileID) ([]FileRef, error) {
	if len(ids) > MaxFilesPerMessage {
		return nil, queues.Bad("files: %d files, at most %d per message", len(ids), MaxFilesPerMessage)
	}
	for i, f := range ids {
		if slices.Contains(ids[:i], f) {
			return nil, queues.Bad("files: file %d is listed twice", f)
		}
	}
	rows, err := s.pool.Query(ctx, `SELECT id, name, size, type, image FROM chat_files
		WHERE id = ANY ($1) AND conversation_id = $2 AND owner_key = $3`, ids, id, p.Key())
	if err != nil {
		return nil, err
	}
	found, err := pgx.CollectRows(rows, pgx.RowToStructByPos[FileRef])
	if err != nil {
		return nil, err
	}
	out := make([]FileRef, 0, len(ids))
	for _, f := range ids {
		i := slices.IndexFunc(found, func(r FileRef) bool { return r.ID == f })
		if i < 0 {
			return nil, queues.Detail(queues.ErrNotFound, fmt.Sprintf("files: file %d is not one of your uploads in this chat", f))
		}
		out = append(out, found[i])
	}
	return out, nil
}

// File is a stored file as its reader may fetch it.
type File struct {
	FileRef
	id ID
}

// OpenFile checks that p may fetch file fid: its uploader while it is
// pending; once sent, whoever may read the conversation (Decide), and
// for a private message's file only staff who may read its private rows.
// Anyone else, and an id that does not exist, get not_found.
func (s *Log) OpenFile(ctx context.Context, p auth.Principal, fid FileID) (File, error) {
	// The download has no request deadline (see Upload): the checks have one.
	ctx, cancel := context.WithTimeout(ctx, s.opt.DBTimeout)
	defer cancel()
	var f File
	var owner string
	var seq *int
	var private bool
	err := s.pool.QueryRow(ctx, `SELECT id, name, size, type, image, conversation_id, owner_key, seq, private
		FROM chat_files WHERE id = $1`, fid).Scan(&f.ID, &f.Name, &f.Size, &f.Type, &f.Image, &f.id, &owner, &seq, &private)
	notFound := queues.Detail(queues.ErrNotFound, "no such file")
	if errors.Is(err, pgx.ErrNoRows) {
		return File{}, notFound
	}
	if err != nil {
		return File{}, err
	}
	if seq == nil {
		if owner != p.Key() {
			return File{}, notFound
		}
		return f, nil
	}
	_, _, acc, err := s.readable(ctx, p, f.id)
	if errors.Is(err, queues.ErrNotFound) || err == nil && private && !acc.ReadPrivate {
		return File{}, notFound
	}
	if err != nil {
		return File{}, err
	}
	return f, nil
}

// CopyFile writes file f's content to w, one chunk (one query) at a
// time, so a slow reader holds no database connection between chunks.
func (s *Log) CopyFile(ctx context.Context, f File, w io.Writer) error {
	var data []byte
	for n := 0; ; n++ {
		qctx, cancel := context.WithTimeout(ctx, s.opt.DBTimeout) // each chunk: a hung database ends the download
		err := s.pool.QueryRow(qctx, `SELECT data FROM chat_file_chunks WHERE file_id = $1 AND n = $2`, f.ID, n).Scan(&data)
		cancel()
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := w.Write(data); err != nil {
			return err
		}
	}
}

// PendingUploadTTL is how long an upload may wait to be sent with a
// message: SweepUploads deletes it after that.
const PendingUploadTTL = 24 * time.Hour

// SweepUploads deletes the uploads that were never sent with a message
// and are older than ttl, with their content, and answers how many. A
// sender who comes back after that is told the file is not one of their
// uploads (chat.send's not_found) and uploads it again.
func (s *Log) SweepUploads(ctx context.Context, ttl time.Duration) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM chat_files WHERE seq IS NULL AND created_at < now() - make_interval(secs => $1)`,
		ttl.Seconds())
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}
