package signaling

import (
	"context"

	"parley/auth"
	"parley/chat"
)

// registerComments maps staff comments and their mentions: chat.comment,
// chat.mentions, chat.mention_read.
func registerComments(r *Router, c chatHandlers, staff []auth.Role) {
	r.Handle("chat.comment", c.comment, staff...)
	r.Handle("chat.mentions", c.mentions, staff...)
	r.Handle("chat.mention_read", c.mentionRead, staff...)
}

func (c chatHandlers) comment(ctx context.Context, req *Request) (any, error) {
	var in chat.CommentInput
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	if in.ConversationID <= 0 {
		return nil, BadRequest(`"conversation_id" is required`)
	}
	return c.svc.Comment(ctx, req.Principal(), in)
}

func (c chatHandlers) mentions(ctx context.Context, req *Request) (any, error) {
	ms, err := c.svc.Mentions(ctx, req.Principal())
	if err != nil {
		return nil, err
	}
	return map[string]any{"mentions": ms}, nil
}

func (c chatHandlers) mentionRead(ctx context.Context, req *Request) (any, error) {
	var in struct {
		conversationRef
		Seq int `json:"seq"`
	}
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	if in.ConversationID <= 0 {
		return nil, BadRequest(`"conversation_id" is required`)
	}
	if in.Seq < 0 {
		return nil, BadRequest(`"seq" must be 0 (all) or a comment's seq`)
	}
	n, err := c.svc.MentionRead(ctx, req.Principal(), in.ConversationID, in.Seq)
	if err != nil {
		return nil, err
	}
	return map[string]any{"unread": n}, nil
}

// registerFeedback maps the customer's rating of an ended chat:
// chat.feedback, for visitors.
func registerFeedback(r *Router, c chatHandlers) {
	r.Handle("chat.feedback", c.feedback, auth.RoleCustomer)
	r.Handle("chat.transcript_email", c.transcriptEmail, auth.RoleCustomer)
}

func (c chatHandlers) feedback(ctx context.Context, req *Request) (any, error) {
	var in chat.FeedbackInput
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	if in.ConversationID <= 0 {
		return nil, BadRequest(`"conversation_id" is required`)
	}
	return c.svc.GiveFeedback(ctx, req.Principal(), in)
}

// transcriptEmail: chat.transcript_email, the customer asks for its
// ended chat's transcript by e-mail.
func (c chatHandlers) transcriptEmail(ctx context.Context, req *Request) (any, error) {
	var in chat.TranscriptMailInput
	if err := Bind(req.Data, &in); err != nil {
		return nil, err
	}
	if in.ConversationID <= 0 {
		return nil, BadRequest(`"conversation_id" is required`)
	}
	return c.svc.MailTranscript(ctx, req.Principal(), in)
}
