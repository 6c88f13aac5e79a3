-- What GET /v1/tasks?limit=20 does in the database: the newest page of one
-- user's tasks by the (user_id, created_at, id) index, one row more than the page.
SELECT t.id, t.user_id, t.title, t.description, t.priority, t.tags, t.due_at, t.remind_before_minutes,
    t.remind_at, t.recurrence, t.time_zone, t.series_id, t.series_start, t.completed, t.completed_at,
    t.created_at, t.updated_at, t.version
FROM tasks t WHERE t.user_id = 'bench-user' ORDER BY t.created_at DESC, t.id DESC LIMIT 21;
