-- See the PostgreSQL migration of the same name.
alter table list_invitations add column revoked_at integer;
