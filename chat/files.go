package chat

import (
	"context"
	"io"

	"parley/auth"
	"parley/chat/conversation"
)

// Files in messages (chat/conversation/files.go).
type (
	FileID  = conversation.FileID
	FileRef = conversation.FileRef
	File    = conversation.File
)

// Upload stores body as a file pending in conversation id, for p's next
// message there.
func (s *Service) Upload(ctx context.Context, p auth.Principal, id ConversationID, name string, declared int64, body io.Reader) (FileRef, error) {
	return s.conv.Upload(ctx, p, id, name, declared, body)
}

// OpenFile checks that p may fetch file id.
func (s *Service) OpenFile(ctx context.Context, p auth.Principal, id FileID) (File, error) {
	return s.conv.OpenFile(ctx, p, id)
}

// CopyFile writes file f's content to w, a chunk at a time.
func (s *Service) CopyFile(ctx context.Context, f File, w io.Writer) error {
	return s.conv.CopyFile(ctx, f, w)
}
