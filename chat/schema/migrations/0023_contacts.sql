-- Contacts (issue 19): the people the company knows, and which of them a
-- conversation is with (chat/crm/contacts.go; docs/architecture.md,
-- "Contacts and tickets", says how a chat is paired and why never by an
-- e-mail the customer only typed).
CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE contacts (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL DEFAULT '',
    -- Every address of the contact, lower-cased; the first is where a
    -- ticket's reply goes when the ticket names none.
    emails      text[] NOT NULL DEFAULT '{}',
    phone       text NOT NULL DEFAULT '',
    company     text NOT NULL DEFAULT '',
    notes       text NOT NULL DEFAULT '',
    -- The person's id in the company's systems: set from a verified
    -- identity or by staff. At most one contact per id.
    external_id text UNIQUE,
    -- What came signed by the company's backend (a verified identity) and
    -- has not been edited by hand since: {"external_id": true, "name":
    -- true, "emails": ["vera@example.com"]}.
    verified    jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- NULL: made by the system from a verified identity.
    created_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    updated_by  bigint REFERENCES users (id) ON DELETE SET NULL,
    -- What a search looks in: lower(name, e-mails, phone and company,
    -- space-separated), written by chat/crm with every change (an index
    -- expression could not join an array: array_to_string is not
    -- immutable).
    search      text NOT NULL DEFAULT ''
);
-- Pairing by e-mail looks an address up among every contact's.
CREATE INDEX contacts_emails ON contacts USING gin (emails);
-- Search: name, e-mails, phone and company by trigrams, so a part of a word
-- finds it.
CREATE INDEX contacts_search ON contacts USING gin (search gin_trgm_ops);

-- Who changed a contact, when, and what (chat/crm); kept when the
-- account is renamed or removed.
CREATE TABLE contact_changes (
    id         bigserial PRIMARY KEY,
    contact_id bigint NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL DEFAULT now(),
    user_id    bigint REFERENCES users (id) ON DELETE SET NULL,
    user_name  text NOT NULL,
    -- [{"field": "phone", "old": "", "new": "+420 777 000 111"}, …];
    -- created: the save made the contact.
    created    boolean NOT NULL DEFAULT false,
    fields     jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX contact_changes_contact ON contact_changes (contact_id, id DESC);

ALTER TABLE conversations
    -- The contact the chat is with, NULL when unpaired.
    ADD COLUMN contact_id bigint REFERENCES contacts (id) ON DELETE SET NULL,
    -- How it was paired: external_id, email, visitor (automatically, at
    -- the start) or staff (by hand).
    ADD COLUMN contact_paired_by text CHECK (contact_paired_by IN ('external_id', 'email', 'visitor', 'staff'));
CREATE INDEX conversations_contact_id ON conversations (contact_id, id DESC) WHERE contact_id IS NOT NULL;
