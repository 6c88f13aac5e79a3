-- An owner may revoke an open invitation (issue #15); it is kept, closed, so
-- that its holder learns it was revoked rather than that it never existed.
alter table list_invitations add column revoked_at timestamptz;
