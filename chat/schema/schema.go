// Package schema holds the chat tables' migrations, one component
// ("chat", versions 0001…) shared by the chat packages. Each table's SQL
// lives in the package that owns it: queues and queue_members in
// chat/queues; conversations and conversation_events in chat (the
// conversation log); offers and agent_status in chat too, with routing.
package schema

import (
	"embed"
	"fmt"
	"io/fs"

	"parley/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrations are chat's tables. They refer to auth's users, so auth's
// migrations run first.
var Migrations = store.Migrations{Component: "chat", FS: mustSub(migrations, "migrations")}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(fmt.Sprintf("chat: %v", err))
	}
	return sub
}
