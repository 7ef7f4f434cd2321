package chat

import (
	"context"

	"parley/auth"
	"parley/chat/search"
)

// The history's names and calls, for chat's callers (chat/search).
type (
	SearchQuery  = search.Query
	SearchPage   = search.Page
	Transcript   = search.Transcript
	SearchChoice = search.Choice
)

// SearchHistory finds the conversations p may see that match q, newest
// first, a page at a time.
func (s *Service) SearchHistory(ctx context.Context, p auth.Principal, q SearchQuery) (SearchPage, error) {
	return s.search.Search(ctx, p, q)
}

// HistoryTranscript is conversation id's full transcript, for staff who
// may see it in the history.
func (s *Service) HistoryTranscript(ctx context.Context, p auth.Principal, id ConversationID) (Transcript, error) {
	return s.search.Get(ctx, p, id)
}

// MarkImportant sets or clears conversation id's important mark.
func (s *Service) MarkImportant(ctx context.Context, p auth.Principal, id ConversationID, important bool) error {
	return s.search.Mark(ctx, p, id, important)
}

// HistoryFilters are the queues and agents p may filter the history by.
func (s *Service) HistoryFilters(ctx context.Context, p auth.Principal) (qs, agents []SearchChoice, err error) {
	return s.search.Filters(ctx, p)
}
