package rooms

import (
	"testing"

	"parley/auth"
	"parley/conference"
	"parley/fault"
)

// The rule of a monitor room, over every role and relation: the agent
// sharing publishes, the supervisor who asked only receives, either ends
// it, and nobody else may see it, not even other supervisors and admins.
func TestMonitorRoomRule(t *testing.T) {
	user := func(id auth.UserID, role auth.Role) auth.Principal {
		return auth.Principal{Kind: auth.KindUser, UserID: id, Role: role, Name: string(role)}
	}
	agent, watcher := user(1, auth.RoleAgent), user(2, auth.RoleSupervisor)
	room := target{ID: "r0000000000000001", Kind: conference.KindMonitor, CreatorKey: agent.Key(), WatcherKey: watcher.Key()}
	ended := room
	ended.Ended = true
	people := map[string]auth.Principal{
		"agent":            agent,
		"watcher":          watcher,
		"another agent":    user(3, auth.RoleAgent),
		"other supervisor": user(4, auth.RoleSupervisor),
		"admin":            user(5, auth.RoleAdmin),
		"customer":         {Kind: auth.KindVisitor, Role: auth.RoleCustomer, Scope: "q"},
		"guest":            {Kind: auth.KindGuest, Role: auth.RoleGuest, Scope: room.ID},
	}
	// want: "" allowed, else the wire code; receive-only as granted.
	type want struct {
		code        string
		receiveOnly bool
	}
	cases := map[string]map[Op]want{
		"agent":   {OpJoin: {"", false}, OpPublish: {"", false}, OpEnd: {"", false}, OpGet: {"", false}, OpCreate: {"forbidden", false}},
		"watcher": {OpJoin: {"", true}, OpPublish: {"forbidden", true}, OpEnd: {"", false}, OpGet: {"", true}, OpCreate: {"forbidden", false}},
	}
	for _, other := range []string{"another agent", "other supervisor", "admin", "customer", "guest"} {
		cases[other] = map[Op]want{OpJoin: {"forbidden", false}, OpPublish: {"forbidden", false}, OpEnd: {"forbidden", false},
			OpGet: {"not_found", false}, OpCreate: {"forbidden", false}}
	}
	for who, ops := range cases {
		for op, w := range ops {
			g, err := decide(op, people[who], room, nil, false)
			if code := codeOf(err); code != w.code {
				t.Errorf("%s %s: %q, want %q", who, op, code, w.code)
			}
			if err == nil && op != OpEnd && op != OpCreate && g.ReceiveOnly != w.receiveOnly {
				t.Errorf("%s %s: receive-only %v, want %v", who, op, g.ReceiveOnly, w.receiveOnly)
			}
		}
		// An ended room admits nobody.
		if _, err := decide(OpJoin, people[who], ended, nil, false); err == nil {
			t.Errorf("%s joins an ended monitor room", who)
		}
	}
}

func codeOf(err error) string {
	if err == nil {
		return ""
	}
	code, _ := fault.Describe(err, quiet)
	return code
}
