-- See the PostgreSQL migration of the same name: SQLite plans a search by its
-- FTS5 table, not by column statistics, so nothing changes here.
select 1;
