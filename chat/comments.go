package chat

import (
	"context"

	"parley/auth"
	"parley/chat/conversation"
)

// Comments on a chat, for staff, and their mentions
// (chat/conversation's comments.go).
type (
	CommentInput  = conversation.CommentInput
	CommentResult = conversation.CommentResult
	Mention       = conversation.Mention
	MentionNote   = conversation.MentionNote
)

// KindComment is a staff comment's event kind.
const KindComment = conversation.KindComment

// Comment stores a staff comment on a chat p may read and tells those it
// mentions.
func (s *Service) Comment(ctx context.Context, p auth.Principal, in CommentInput) (CommentResult, error) {
	return s.conv.Comment(ctx, p, in)
}

// Mentions lists p's unread mentions.
func (s *Service) Mentions(ctx context.Context, p auth.Principal) ([]MentionNote, error) {
	return s.conv.Mentions(ctx, p)
}

// MentionRead marks p's mentions in chat id read (seq 0: all of them) and
// answers how many p has unread.
func (s *Service) MentionRead(ctx context.Context, p auth.Principal, id ConversationID, seq int) (int, error) {
	return s.conv.MentionRead(ctx, p, id, seq)
}

// Feedback: the customer's rating of an ended chat
// (chat/conversation's feedback.go).
type (
	FeedbackInput = conversation.FeedbackInput
	Feedback      = conversation.Feedback
)

// KindFeedback is the private event kind of a customer's feedback.
const KindFeedback = conversation.KindFeedback

// GiveFeedback stores the rating of p's own ended chat.
func (s *Service) GiveFeedback(ctx context.Context, p auth.Principal, in FeedbackInput) (Feedback, error) {
	return s.conv.GiveFeedback(ctx, p, in)
}

// The transcript by e-mail (chat/conversation's transcript_mail.go).
type (
	TranscriptMailInput = conversation.TranscriptMailInput
	TranscriptMailed    = conversation.TranscriptMailed
)

// MailTranscript mails the public transcript of p's own ended chat, once.
func (s *Service) MailTranscript(ctx context.Context, p auth.Principal, in TranscriptMailInput) (TranscriptMailed, error) {
	return s.conv.MailTranscript(ctx, p, in)
}
