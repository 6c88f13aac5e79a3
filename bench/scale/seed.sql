-- :n tasks shaped like long-used accounts: most tasks done, some open past
-- due, tags and priorities of every frequency, and search text where a word
-- matches 1 % of a list's tasks and another exactly one. The measured user is
-- :'user'. With :users above 1 the tasks are spread over the Inboxes of that
-- many users (:'user' and :'user'-1, -2, …); otherwise over :lists lists the
-- user is a member of (their Inbox and lists another user shares with them).
-- Used by `make bench` (scripts/bench_scale.py, through psql -v) and by the
-- plan test (lib/tests/store/plans.rs), which fills the variables in.

insert into lists (id, owner_id, name, position, archived, inbox, created_at, updated_at, version)
select gen_random_uuid(), case when u = 0 then :'user' else :'user' || '-' || u end, 'Inbox', 0, false, true,
    now(), now(), 1
from generate_series(0, :users - 1) as u;
insert into lists (id, owner_id, name, position, archived, inbox, created_at, updated_at, version)
select gen_random_uuid(), :'user' || '-sharer', 'Shared ' || k, k, false, false, now(), now(), 1
from generate_series(1, :lists - 1) as k;
insert into list_members (list_id, user_id, role, added_at)
select id, owner_id, 'owner', now() from lists where owner_id = :'user' or owner_id like :'user' || '-%';
insert into list_members (list_id, user_id, role, added_at)
select id, :'user', 'editor', now() from lists where owner_id = :'user' || '-sharer';

-- Where task i goes: target i % m, the m lists numbered from 0, the measured
-- user's Inbox first; what it is like follows j = i / m, its place in its list.
create temporary table seed_targets as
select (row_number() over (order by l.owner_id <> :'user', l.owner_id, l.position, l.id) - 1)::int as k,
    l.id as list_id, l.owner_id
from lists l
where (:users > 1 and l.inbox and (l.owner_id = :'user' or l.owner_id like :'user' || '-%'))
   or (:users = 1 and l.id in (select list_id from list_members where user_id = :'user'));

insert into tasks (id, user_id, list_id, title, title_key, description, search_text, priority, tags,
    due_at, completed, completed_at, created_at, updated_at, version)
select gen_random_uuid(), case when l.owner_id like '%-sharer' then :'user' else l.owner_id end, l.list_id,
    s.title, lower(s.title), '', lower(s.title) || chr(10), s.j % 4,
    case when s.j % 10 = 0 then '["work"]' when s.j % 1000 = 7 then '["rare"]' else '[]' end::jsonb,
    case when s.j % 2 = 0 then null else now() + ((s.j % 730) - 365) * interval '1 day' end,
    s.j % 5 <> 0, case when s.j % 5 <> 0 then now() - (s.j % 300) * interval '1 hour' end,
    now() - s.i * interval '1 second', now() - (s.j % 1000) * interval '1 minute', 1
from (select i, i % m.m as k, i / m.m as j,
             'Task ' || i || case when (i / m.m) % 100 = 3 then ' groceries' else ' chores' end
                 || case when i = m.m * greatest(1, :n / m.m / 2) then ' unicorn' else '' end as title
      from generate_series(1, :n) as i, (select count(*)::int as m from seed_targets) as m) s
join seed_targets l on l.k = s.k;

insert into task_tags (task_id, user_id, list_id, tag)
select t.id, t.user_id, t.list_id, g.tag
from tasks t cross join lateral jsonb_array_elements_text(t.tags) as g(tag)
where t.tags <> '[]';
drop table seed_targets;
analyze;
