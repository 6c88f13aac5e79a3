-- See the PostgreSQL migration of the same name.
create table dead_letters (
    id blob primary key,
    event_id blob not null,
    topic text not null,
    subscriber text not null,
    reason text not null,
    payload text not null,
    created_at integer not null
);
create index dead_letters_created on dead_letters (created_at, id);
