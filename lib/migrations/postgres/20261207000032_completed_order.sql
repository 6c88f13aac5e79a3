-- Done tasks by when they were completed (`sort=completed`, `completed_after`,
-- `completed_before`; the MCP tool `find_completed_tasks`), read per list like
-- every other sort (lib/src/store/list.rs). Open tasks have no completion time
-- and come last in either direction, hence two, as for due times.
create index tasks_list_completed on tasks (list_id, completed_at, id);
create index tasks_list_completed_desc on tasks (list_id, completed_at desc nulls last, id desc);
