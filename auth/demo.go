package auth

import (
	"context"
	"fmt"
)

// DemoPassword is the password of every demo account (see README.md).
const DemoPassword = "demo"

// DemoAccounts are created on first start so the desk can be tried at once.
var DemoAccounts = []NewUser{
	{Username: "alice", Name: "Alice Agent", Role: RoleAgent, Password: DemoPassword},
	{Username: "bob", Name: "Bob Agent", Role: RoleAgent, Password: DemoPassword},
	{Username: "sam", Name: "Sam Supervisor", Role: RoleSupervisor, Password: DemoPassword},
	{Username: "ada", Name: "Ada Admin", Role: RoleAdmin, Password: DemoPassword},
}

// EnsureDemoAccounts creates the demo accounts when there are no accounts at
// all, and returns the ones it created (none on later starts).
func (s *Service) EnsureDemoAccounts(ctx context.Context) ([]User, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil {
		return nil, fmt.Errorf("auth: demo accounts: %w", err)
	}
	if n > 0 {
		return nil, nil
	}
	var made []User
	for _, nu := range DemoAccounts {
		u, err := s.CreateUser(ctx, nu)
		if err != nil {
			return made, fmt.Errorf("auth: demo account %s: %w", nu.Username, err)
		}
		made = append(made, u)
	}
	return made, nil
}
