-- What GET /v1/tasks?limit=20 does in the database: the newest page of the
-- tasks in the lists one user is a member of (their Inbox, which
-- scripts/bench.py makes), one row more than the page; each list's page by
-- its index, merged (lib/src/store/list.rs).
SELECT t.id, t.user_id, t.list_id, t.assignee_id, t.title, t.description, t.priority, t.tags, t.due_at,
    t.remind_before_minutes, t.remind_at, t.recurrence, t.time_zone, t.series_id, t.series_start, t.completed,
    t.completed_at, t.created_at, t.updated_at, t.version
FROM list_members m CROSS JOIN LATERAL (
    SELECT t.id, t.user_id, t.list_id, t.assignee_id, t.title, t.description, t.priority, t.tags, t.due_at,
        t.remind_before_minutes, t.remind_at, t.recurrence, t.time_zone, t.series_id, t.series_start, t.completed,
        t.completed_at, t.created_at, t.updated_at, t.version, t.created_at AS sort_key
    FROM tasks t WHERE t.list_id = m.list_id ORDER BY t.created_at DESC, t.id DESC LIMIT 21) t
WHERE m.user_id = 'bench-user' ORDER BY t.sort_key DESC, t.id DESC LIMIT 21;
