package signaling

import (
	"parley/auth"
	"parley/bus"
)

// CloseCodeAccountChanged is the close code of a connection whose user's
// account an admin changed (its role): the connection holds the old one,
// so it closes and the client reconnects with the same session.
const CloseCodeAccountChanged = 4002

// CloseUser closes every connection of user, on every node, with code
// and reason: an admin deactivated the account (CloseCodeSignedOut),
// set its password (CloseCodeSignedOut) or changed its role
// (CloseCodeAccountChanged). It goes over the bus, as CloseSignedOut
// does, so nodes where the user has no connection ignore it.
func (h *Hub) CloseUser(user auth.UserID, code int, reason string) {
	p := auth.Principal{Kind: auth.KindUser, UserID: user}
	frame, err := bus.Frame(bus.AccessEndedType, bus.AccessEnded{Principal: p.Key(), Close: true,
		CloseCode: code, CloseReason: reason})
	if err != nil {
		h.log.Error("encode access ended", "err", err)
		return
	}
	if err := h.bus.Publish(bus.AccessSubject, frame); err != nil {
		h.log.Error("publish access ended", "err", err)
	}
}
