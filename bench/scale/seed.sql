-- :n tasks in the Inbox of user :'user', shaped like a long-used account: most
-- tasks done, some open past due, tags and priorities of every frequency, and
-- search text where a word matches 1 % of the tasks and another exactly one.
-- Used by `make bench` (scale section) with psql -v user=… -v n=…; the EXPLAIN
-- test (lib/tests/store/plans.rs) seeds the same shape through the store.
insert into lists (id, owner_id, name, position, archived, inbox, created_at, updated_at, version)
select gen_random_uuid(), :'user', 'Inbox', 0, false, true, now(), now(), 1
where not exists (select 1 from lists where owner_id = :'user' and inbox);
insert into list_members (list_id, user_id, role, added_at)
select id, :'user', 'owner', now() from lists where owner_id = :'user' and inbox
on conflict do nothing;

insert into tasks (id, user_id, list_id, title, title_key, description, search_text, priority, tags,
    due_at, completed, completed_at, created_at, updated_at, version)
select id, :'user', inbox, title, lower(title), '', lower(title) || chr(10), i % 4,
    case when i % 10 = 0 then '["work"]' when i % 1000 = 7 then '["rare"]' else '[]' end::jsonb,
    case when i % 2 = 0 then null else now() + ((i % 730) - 365) * interval '1 day' end,
    i % 5 <> 0, case when i % 5 <> 0 then now() - (i % 300) * interval '1 hour' end,
    now() - i * interval '1 second', now() - (i % 1000) * interval '1 minute', 1
from (select gen_random_uuid() as id, i,
             (select id from lists where owner_id = :'user' and inbox) as inbox,
             'Task ' || i || case when i % 100 = 3 then ' groceries' else ' chores' end
                 || case when i = :n / 2 then ' unicorn' else '' end as title
      from generate_series(1, :n) as i) s;

insert into task_tags (task_id, user_id, list_id, tag)
select t.id, t.user_id, t.list_id, g.tag from tasks t cross join lateral jsonb_array_elements_text(t.tags) as g(tag)
where t.user_id = :'user';
analyze;
