// Package auth knows who is speaking: accounts and their roles, sessions,
// and the scoped tokens of customers (visitors) and conference guests.
package auth

import (
	"slices"
	"strconv"
)

// Kind is what sort of principal signed in.
type Kind string

const (
	KindUser    Kind = "user"    // an account: agent, supervisor or admin
	KindVisitor Kind = "visitor" // a customer in the widget, scoped to one queue
	KindGuest   Kind = "guest"   // a conference guest, scoped to one room
)

// Role decides what a principal may do.
type Role string

const (
	RoleAgent      Role = "agent"
	RoleSupervisor Role = "supervisor"
	RoleAdmin      Role = "admin"
	RoleCustomer   Role = "customer"
	RoleGuest      Role = "guest"
)

// AccountRoles are the roles an account may hold.
var AccountRoles = []Role{RoleAgent, RoleSupervisor, RoleAdmin}

// UserID identifies an account.
type UserID int64

func (id UserID) String() string { return strconv.FormatInt(int64(id), 10) }

// Principal is who a request or a connection speaks for.
type Principal struct {
	Kind Kind
	Role Role
	Name string
	// UserID is set for accounts.
	UserID UserID
	// Subject identifies a visitor or a guest (random, from its token).
	Subject string
	// Scope is what a token is limited to: a queue key for a visitor, a room
	// id for a guest. Empty for accounts.
	Scope string
}

// Key is the principal's stable identity, unique across kinds: "user:7",
// "visitor:9f2c…", "guest:51ab…". Events for a principal are addressed by it.
func (p Principal) Key() string {
	if p.Kind == KindUser {
		return "user:" + p.UserID.String()
	}
	return string(p.Kind) + ":" + p.Subject
}

// Is reports whether the principal holds one of roles.
func (p Principal) Is(roles ...Role) bool { return slices.Contains(roles, p.Role) }

// IsStaff reports whether the principal is an account (agent, supervisor or
// admin), as opposed to a customer or a guest.
func (p Principal) IsStaff() bool { return p.Kind == KindUser }

// CookieName is the session cookie the HTTP login sets and /ws reads.
const CookieName = "parley_session"
