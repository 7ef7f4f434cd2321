package crm

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"

	"parley/auth"
)

// Pairing a chat with a contact (docs/architecture.md, "Contacts and
// tickets"). At the start, in the transaction that stores the chat:
//
//  1. a verified external id pairs with the contact of that external id;
//  2. else a verified e-mail pairs with the oldest contact that has that
//     address;
//  3. else, when the customer came with a verified identity, a contact is
//     made from it (its external id, its name, and its e-mail only if
//     signed; what was signed marked verified) and the chat paired with it;
//  4. else the chat pairs with the contact of the same visitor's latest
//     earlier paired chat.
//
// An e-mail the customer only typed never pairs, nor goes on a contact the
// system makes: anyone can type anyone's address, and pairing by it
// would show the agent that person's contact and history as the typist's,
// and tie the impostor's chat (and what the agent tells them) to it.

// How a chat was paired (conversations.contact_paired_by).
const (
	PairedByExternalID = "external_id"
	PairedByEmail      = "email"
	PairedByVisitor    = "visitor"
	PairedByStaff      = "staff"
)

// Identity is what a starting chat's customer has verified: nothing when
// ExternalID is "" (a verified identity always carries an id).
type Identity struct {
	ExternalID string
	// Name and Email are the customer's; NameVerified and EmailVerified
	// say whether the backend signed them.
	Name, Email                 string
	NameVerified, EmailVerified bool
}

// PairAtStart pairs conversation conv, of visitor, which is starting in
// tx, by the rule above, and answers how (PairedBy…), or "" when it stays
// unpaired.
func PairAtStart(ctx context.Context, tx pgx.Tx, conv int64, visitor string, id Identity) (string, error) {
	contact, by, err := pairingFor(ctx, tx, conv, visitor, id)
	if err != nil || by == "" {
		return "", err
	}
	_, err = tx.Exec(ctx, `UPDATE conversations SET contact_id = $2, contact_paired_by = $3 WHERE id = $1`,
		conv, contact, by)
	return by, err
}

// pairingFor finds the contact a starting chat pairs with, making it from
// a verified identity when none is known.
func pairingFor(ctx context.Context, tx pgx.Tx, conv int64, visitor string, id Identity) (ContactID, string, error) {
	if id.ExternalID != "" {
		if c, err := oneID(tx.QueryRow(ctx, `SELECT id FROM contacts WHERE external_id = $1`, id.ExternalID)); c != 0 || err != nil {
			return c, PairedByExternalID, err
		}
		if id.EmailVerified {
			c, err := oneID(tx.QueryRow(ctx, `SELECT id FROM contacts WHERE emails @> ARRAY[lower($1)] ORDER BY id LIMIT 1`, id.Email))
			if c != 0 || err != nil {
				return c, PairedByEmail, err
			}
		}
		c, err := fromIdentity(ctx, tx, id)
		return c, PairedByExternalID, err
	}
	c, err := oneID(tx.QueryRow(ctx, `SELECT contact_id FROM conversations
		WHERE visitor = $1 AND id <> $2 AND contact_id IS NOT NULL ORDER BY id DESC LIMIT 1`, visitor, conv))
	if c == 0 || err != nil {
		return 0, "", err
	}
	return c, PairedByVisitor, nil
}

// oneID reads one contact id; 0 for no row.
func oneID(row pgx.Row) (ContactID, error) {
	var id ContactID
	err := row.Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// fromIdentity makes the contact of a verified identity whose external id
// no contact has, or answers the one a chat starting alongside just made
// (the external id is unique).
func fromIdentity(ctx context.Context, tx pgx.Tx, id Identity) (ContactID, error) {
	c := Contact{Name: id.Name, Emails: []string{}, ExternalID: id.ExternalID, Verified: Verified{ExternalID: true, Name: id.NameVerified}}
	// Only a signed address goes on the contact: a typed one would pair
	// the chats of whoever verifies it later with this contact (rule 2).
	if id.EmailVerified && ValidEmail(id.Email) {
		c.Emails = []string{strings.ToLower(id.Email)}
		c.Verified.Emails = c.Emails
	}
	var made ContactID
	err := tx.QueryRow(ctx, `INSERT INTO contacts (name, emails, external_id, verified, search)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (external_id) DO NOTHING RETURNING id`,
		c.Name, c.Emails, c.ExternalID, c.Verified, SearchText(c.Name, c.Emails, "", "")).Scan(&made)
	if errors.Is(err, pgx.ErrNoRows) { // made meanwhile by another start, now committed
		return oneID(tx.QueryRow(ctx, `SELECT id FROM contacts WHERE external_id = $1`, id.ExternalID))
	}
	if err != nil {
		return 0, err
	}
	return made, logChange(ctx, tx, made, nil, true, contactDiff(Contact{Emails: []string{}}, c))
}

// Pair pairs conversation conv with contact (by staff) inside tx, and
// answers the contact's name; ErrNoContact when there is no such contact.
func Pair(ctx context.Context, tx pgx.Tx, conv int64, contact ContactID) (string, error) {
	var name string
	if err := tx.QueryRow(ctx, `SELECT name FROM contacts WHERE id = $1 FOR SHARE`, contact).Scan(&name); err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return "", ErrNoContact
		}
		return "", err
	}
	_, err := tx.Exec(ctx, `UPDATE conversations SET contact_id = $2, contact_paired_by = $3 WHERE id = $1`,
		conv, contact, PairedByStaff)
	return name, err
}

// Unpair leaves conversation conv unpaired, inside tx, and answers
// whether it was paired.
func Unpair(ctx context.Context, tx pgx.Tx, conv int64) (bool, error) {
	var was *ContactID
	if err := tx.QueryRow(ctx, `SELECT contact_id FROM conversations WHERE id = $1 FOR UPDATE`, conv).Scan(&was); err != nil {
		return false, err
	}
	_, err := tx.Exec(ctx, `UPDATE conversations SET contact_id = NULL, contact_paired_by = NULL WHERE id = $1`, conv)
	return was != nil, err
}

// CreatePaired makes a contact from in, by p, and pairs conversation conv
// with it, inside tx (contact.create with a chat).
func CreatePaired(ctx context.Context, tx pgx.Tx, p auth.Principal, conv int64, in ContactInput) (Contact, error) {
	c, err := CreateContact(ctx, tx, p, in)
	if err != nil {
		return Contact{}, err
	}
	_, err = Pair(ctx, tx, conv, c.ID)
	return c, err
}
