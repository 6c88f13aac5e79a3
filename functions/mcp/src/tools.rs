//! The tools: each one's name, description, hints (MCP tool annotations),
//! schemas and the use case it runs. Inputs and outputs are the REST API's own
//! (see [`crate::schema`]), and every tool runs the API's use case for its route,
//! so a task made here fires the same events, reminders and webhooks.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use api::AppState;
use api::error::ApiError;
use rmcp::model::{Tool, ToolAnnotations};
use serde_json::{Map, Value, json};
use todo_lib::access_tokens::Scope;

use crate::calls::dates::{SPOKEN, past_dates, spoken_dates};
use crate::calls::{self, Outcome};
use crate::schema::Schemas;

/// What running a tool returns: its outcome, or the API's error for it.
pub type Running<'a> = Pin<Box<dyn Future<Output = Result<Outcome, ApiError>> + Send + 'a>>;

/// A tool's use case: the state, the caller and the arguments.
pub type Run = for<'a> fn(&'a AppState, &'a str, Map<String, Value>) -> Running<'a>;

/// A tool as listed, and what it runs.
#[derive(Debug, Clone)]
pub struct ToolDef {
    pub tool: Tool,
    /// What a personal access token needs to call it.
    pub scope: Scope,
    pub run: Run,
}

/// How a tool touches the user's data (the MCP tool annotations).
#[derive(Debug, Clone, Copy)]
enum Effect {
    /// Reads only.
    Reads,
    /// Adds something; calling it twice adds twice.
    Adds,
    /// Changes what exists; the same call again changes nothing more.
    Changes,
    /// Removes or overwrites; the same call again changes nothing more.
    Destroys,
}

impl Effect {
    /// Reading takes `tasks:read`; any change `tasks:write`.
    fn scope(self) -> Scope {
        match self {
            Self::Reads => Scope::TasksRead,
            Self::Adds | Self::Changes | Self::Destroys => Scope::TasksWrite,
        }
    }

    fn annotations(self, title: &str) -> ToolAnnotations {
        let hints = ToolAnnotations::with_title(title).open_world(false);
        match self {
            Self::Reads => hints.read_only(true),
            Self::Adds => hints.read_only(false).destructive(false).idempotent(false),
            Self::Changes => hints.read_only(false).destructive(false).idempotent(true),
            Self::Destroys => hints.read_only(false).destructive(true).idempotent(true),
        }
    }
}

fn tool(
    name: &'static str,
    title: &'static str,
    description: &'static str,
    effect: Effect,
    (input, output): (Map<String, Value>, Map<String, Value>),
    run: Run,
) -> ToolDef {
    let portable = |schema: Map<String, Value>| {
        let mut schema = Value::Object(schema);
        crate::schema::portable(&mut schema);
        match schema {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    };
    let (input, output) = (portable(input), portable(output));
    let tool = Tool::new(name, description, Arc::new(input))
        .with_title(title)
        .with_raw_output_schema(Arc::new(output))
        .with_annotations(effect.annotations(title));
    ToolDef { tool, scope: effect.scope(), run }
}

/// The task id every single-task tool names.
fn task_id() -> Value {
    json!({"type": "string", "format": "uuid", "description": "The task's id"})
}

/// The task ids the batch tools name.
fn task_ids() -> Value {
    json!({
        "type": "array", "minItems": 1, "maxItems": calls::BATCH_MAX,
        "items": {"type": "string", "format": "uuid"},
        "description": "The tasks' ids, each once"
    })
}

/// The list id the list tools name.
fn list_id() -> Value {
    json!({"type": "string", "format": "uuid", "description": "The list's id (from list_lists)"})
}

/// `schema` with a required `list_id` besides its own properties.
fn with_list_id(mut schema: Map<String, Value>) -> Map<String, Value> {
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        properties.insert("list_id".into(), list_id());
    }
    let mut required = match schema.remove("required") {
        Some(Value::Array(required)) => required,
        _ => Vec::new(),
    };
    required.push("list_id".into());
    schema.insert("required".into(), Value::Array(required));
    schema
}

/// `schema` with the list's `expected_version` besides its own properties.
fn list_version(mut schema: Map<String, Value>) -> Map<String, Value> {
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        properties.insert(
            "expected_version".into(),
            json!({
                "type": "integer",
                "description": "The list's version this change is based on (its `version`); refused if \
                                the list has changed since. Leave out to apply the change regardless."
            }),
        );
    }
    schema
}

/// `expected_version`: the `If-Match` of a tool call.
fn expected_version() -> Value {
    json!({
        "type": "integer",
        "description": "The task's version this change is based on (its `version`); \
                        refused if the task has changed since. Leave out to apply the change regardless."
    })
}

/// `schema` with only the properties `names`.
fn only(mut schema: Map<String, Value>, names: &[&str]) -> Map<String, Value> {
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        properties.retain(|name, _| names.contains(&name.as_str()));
    }
    if let Some(Value::Array(required)) = schema.get_mut("required") {
        required.retain(|name| name.as_str().is_some_and(|n| names.contains(&n)));
    }
    schema
}

/// Every tool, in the order they are listed.
pub fn all(schemas: &Schemas) -> Vec<ToolDef> {
    let task = || schemas.component("Task");
    let one_task =
        || schemas.object(json!({"id": task_id(), "expected_version": expected_version()}), &["id"]);
    let mut patch = schemas.component("TaskPatch");
    if let Some(Value::Object(properties)) = patch.get_mut("properties") {
        properties.insert("id".into(), task_id());
        properties.insert("expected_version".into(), expected_version());
    }
    patch.insert("required".into(), json!(["id"]));
    let patch = spoken_dates(patch, calls::TASK_DATES);
    vec![
        tool(
            "list_tasks",
            "List or search tasks",
            "The tasks the user can see (their own and those of lists shared with them), filtered, \
             searched and sorted, one page at a time: pass `next_cursor` back as `cursor` for the next page. \
             `q` searches titles and descriptions; `priority` and `tag` take comma-separated values; \
             `due_before` and `due_after` take times as people say them (\"friday\", \"in 3 days\").",
            Effect::Reads,
            (
                spoken_dates(schemas.parameters("get", "/v1/tasks", json!({})), calls::LIST_DATES),
                schemas.component("TaskPage"),
            ),
            |s, u, a| Box::pin(calls::list_tasks(s, u, a)),
        ),
        tool(
            "find_completed_tasks",
            "What got done",
            "What got done: the done tasks the user can see, most recently completed first, completed \
             at or after `completed_after` and before `completed_before` (both optional; times as people \
             say them: \"monday\" is the last Monday, \"yesterday\", \"3 days ago\"), in one `list` or all, \
             one page at a time: pass `next_cursor` back as `cursor` for the next page.",
            Effect::Reads,
            (
                past_dates(
                    only(schemas.parameters("get", "/v1/tasks", json!({})), &[
                        "completed_after",
                        "completed_before",
                        "list",
                        "limit",
                        "cursor",
                    ]),
                    calls::COMPLETED_DATES,
                ),
                schemas.component("TaskPage"),
            ),
            |s, u, a| Box::pin(calls::find_completed_tasks(s, u, a)),
        ),
        tool(
            "get_task",
            "Get a task",
            "One task by its id.",
            Effect::Reads,
            (schemas.object(json!({"id": task_id()}), &["id"]), task()),
            |s, u, a| Box::pin(calls::get_task(s, u, a)),
        ),
        tool(
            "create_task",
            "Create a task",
            "Creates a task: a title, and optionally a description, priority (low, medium, high, urgent), \
             tags, a due time (RFC 3339, or as people say it: \"tomorrow 9am\", \"next friday\", in the \
             user's time zone), a reminder `remind_before_minutes` before it, an RFC 5545 \
             recurrence rule (such as FREQ=WEEKLY;BYDAY=MO) with the IANA `time_zone` it follows, \
             a list, a parent task or an assignee. Without `list_id` it goes to the user's Inbox.",
            Effect::Adds,
            (spoken_dates(schemas.component("NewTask"), calls::TASK_DATES), task()),
            |s, u, a| Box::pin(calls::create_task(s, u, a)),
        ),
        tool(
            "update_task",
            "Change a task",
            "Changes the fields given and leaves the others; `null` clears a field that may be empty. \
             `list_id` moves the task (and its subtasks) to another list.",
            Effect::Destroys,
            (patch.clone(), task()),
            |s, u, a| Box::pin(calls::update_task(s, u, a)),
        ),
        tool(
            "complete_task",
            "Complete a task",
            "Marks a task done, and its open subtasks with it. A recurring task's next occurrence \
             appears as a new task shortly after. Completing a done task changes nothing.",
            Effect::Changes,
            (one_task(), task()),
            |s, u, a| Box::pin(calls::complete_task(s, u, a)),
        ),
        tool(
            "snooze_task",
            "Snooze a reminder",
            "Re-arms a task's reminder for later: one more reminder `minutes` from now, or `until` a \
             time (RFC 3339, or \"tomorrow 8am\"), within a year; give one of them. The last snooze counts: snoozing \
             twice leaves one reminder. A done task cannot be snoozed.",
            Effect::Changes,
            (
                schemas.object(
                    json!({
                        "id": task_id(),
                        "minutes": {"type": "integer", "minimum": 1, "maximum": todo_lib::task::SNOOZE_MAX_DAYS * 24 * 60},
                        "until": {"type": "string", "description": SPOKEN},
                        "expected_version": expected_version(),
                    }),
                    &["id"],
                ),
                task(),
            ),
            |s, u, a| Box::pin(calls::snooze_task(s, u, a)),
        ),
        tool(
            "move_task",
            "Move a task in its list's order",
            "Puts a task right after another task (`after`) of the same list with the same parent \
             (top-level with top-level, a subtask among its siblings), or first in its list when `after` \
             is left out. Read a list in its own order with list_tasks and sort=manual. Every member of the \
             list sees the new order.",
            Effect::Changes,
            (
                schemas.object(
                    json!({
                        "id": task_id(),
                        "after": {"type": "string", "format": "uuid",
                                  "description": "The task it is to follow; leave out to put it first"},
                        "expected_version": expected_version(),
                    }),
                    &["id"],
                ),
                task(),
            ),
            |s, u, a| Box::pin(calls::move_task(s, u, a)),
        ),
        tool(
            "reopen_task",
            "Reopen a task",
            "Opens a done task again. Reopening an open task changes nothing.",
            Effect::Changes,
            (one_task(), task()),
            |s, u, a| Box::pin(calls::reopen_task(s, u, a)),
        ),
        tool(
            "delete_task",
            "Delete a task",
            "Deletes a task and its subtasks, for good.",
            Effect::Destroys,
            (
                one_task(),
                schemas.object(
                    json!({"deleted": {"type": "string", "format": "uuid", "description": "The deleted task's id"}}),
                    &["deleted"],
                ),
            ),
            |s, u, a| Box::pin(calls::delete_task(s, u, a)),
        ),
        tool(
            "list_tags",
            "List tags",
            "The tags on the tasks the user can see, most used first, with how many tasks carry each.",
            Effect::Reads,
            (schemas.object(json!({}), &[]), schemas.component("TagList")),
            |s, u, a| Box::pin(calls::list_tags(s, u, a)),
        ),
        tool(
            "list_notifications",
            "List notifications",
            "The user's reminders as they were delivered, newest first; `unread` for the unread ones only.",
            Effect::Reads,
            (schemas.parameters("get", "/v1/notifications", json!({})), schemas.component("NotificationList")),
            |s, u, a| Box::pin(calls::list_notifications(s, u, a)),
        ),
        tool(
            "mark_notification_read",
            "Mark a notification read",
            "Marks a notification read; marking it again keeps the first time it was read.",
            Effect::Changes,
            (
                schemas.parameters("post", "/v1/notifications/{id}/read", json!({})),
                schemas.component("Notification"),
            ),
            |s, u, a| Box::pin(calls::mark_notification_read(s, u, a)),
        ),
        tool(
            "list_lists",
            "List lists",
            "The lists the user is a member of, with their role in each (owner, editor, viewer); \
             their Inbox always among them. `archived` includes archived lists.",
            Effect::Reads,
            (schemas.parameters("get", "/v1/lists", json!({})), schemas.component("ListList")),
            |s, u, a| Box::pin(calls::list_lists(s, u, a)),
        ),
        tool(
            "create_list",
            "Create a list",
            "Creates a list the user owns: a name, optionally a colour and a position.",
            Effect::Adds,
            (schemas.component("NewList"), schemas.component("TaskList")),
            |s, u, a| Box::pin(calls::create_list(s, u, a)),
        ),
        tool(
            "update_list",
            "Change a list",
            "Renames, recolours (`colour: null` clears it), archives or restores (`archived`) a list \
             the user owns; the fields given change, the others stay. The Inbox keeps its name and stays \
             active. `position` is the user's own place for the list in their order of their lists: \
             given alone, any member may set it, and nobody else's order moves.",
            Effect::Changes,
            (
                list_version(with_list_id(schemas.component("ListPatch"))),
                schemas.component("TaskList"),
            ),
            |s, u, a| Box::pin(calls::update_list(s, u, a)),
        ),
        tool(
            "delete_list",
            "Delete a list",
            "Deletes a list the user owns, for good. Only an empty list: move or delete its tasks first. \
             The Inbox cannot be deleted.",
            Effect::Destroys,
            (
                list_version(schemas.object(json!({"list_id": list_id()}), &["list_id"])),
                schemas.object(
                    json!({"deleted": {"type": "string", "format": "uuid", "description": "The deleted list's id"}}),
                    &["deleted"],
                ),
            ),
            |s, u, a| Box::pin(calls::delete_list(s, u, a)),
        ),
        tool(
            "list_activity",
            "A list's activity",
            "What happened in a list the user is a member of (tasks created, changed, completed, \
             deleted; members joining and leaving), newest first.",
            Effect::Reads,
            (
                with_list_id(schemas.parameters("get", "/v1/activity", json!({}))),
                schemas.component("ActivityList"),
            ),
            |s, u, a| Box::pin(calls::list_activity(s, u, a)),
        ),
        tool(
            "user_activity",
            "Recent activity",
            "What happened in all the lists the user is a member of, newest first: a good start for \
             \"what changed since yesterday?\".",
            Effect::Reads,
            (schemas.parameters("get", "/v1/activity", json!({})), schemas.component("ActivityList")),
            |s, u, a| Box::pin(calls::user_activity(s, u, a)),
        ),
        tool(
            "list_members",
            "List a list's members",
            "Who is in a list the user is a member of, with their roles.",
            Effect::Reads,
            (schemas.object(json!({"list_id": list_id()}), &["list_id"]), schemas.component("MemberList")),
            |s, u, a| Box::pin(calls::list_members(s, u, a)),
        ),
        tool(
            "add_member",
            "Share a list",
            "Adds a user (by user id) to a list the user owns, as owner, editor or viewer.",
            Effect::Adds,
            (with_list_id(schemas.component("NewMember")), schemas.component("Member")),
            |s, u, a| Box::pin(calls::add_member(s, u, a)),
        ),
        tool(
            "change_member_role",
            "Change a member's role",
            "Gives a member of a list the user owns another role: owner, editor (changes tasks) or \
             viewer (reads only). The last owner stays an owner.",
            Effect::Changes,
            (
                {
                    let mut schema = with_list_id(schemas.component("MemberPatch"));
                    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
                        properties.insert("user_id".into(), json!({"type": "string", "description": "The member's user id"}));
                    }
                    schema.insert("required".into(), json!(["role", "list_id", "user_id"]));
                    schema
                },
                schemas.component("Member"),
            ),
            |s, u, a| Box::pin(calls::change_member_role(s, u, a)),
        ),
        tool(
            "create_invitation",
            "Invite by link",
            "Makes an invitation to a list the user owns: whoever has its token joins as `role` \
             (editor or viewer; owner too) within `expires_in_hours` (1 to 720, default 72). The \
             token is shown only in this answer: pass it on to the person invited.",
            Effect::Adds,
            (with_list_id(schemas.component("NewInvitation")), schemas.component("CreatedInvitation")),
            |s, u, a| Box::pin(calls::create_invitation(s, u, a)),
        ),
        tool(
            "revoke_invitation",
            "Revoke an invitation",
            "Revokes an invitation of a list the user owns, so that its token no longer works. \
             One already accepted cannot be revoked: remove the member instead.",
            Effect::Destroys,
            (
                schemas.object(
                    json!({"list_id": list_id(), "invitation_id": {"type": "string", "format": "uuid", "description": "The invitation's id"}}),
                    &["list_id", "invitation_id"],
                ),
                schemas.object(json!({"revoked": {"type": "string", "format": "uuid"}}), &["revoked"]),
            ),
            |s, u, a| Box::pin(calls::revoke_invitation(s, u, a)),
        ),
        tool(
            "remove_member",
            "Remove a list member",
            "Removes a member from a list the user owns, or takes the user out of a list \
             (their own user id). Their tasks in it are unassigned. The last owner stays.",
            Effect::Destroys,
            (
                schemas.object(
                    json!({"list_id": list_id(), "user_id": {"type": "string", "description": "The member's user id"}}),
                    &["list_id", "user_id"],
                ),
                schemas.object(
                    json!({"removed": {"type": "string"}, "list_id": {"type": "string", "format": "uuid"}}),
                    &["removed", "list_id"],
                ),
            ),
            |s, u, a| Box::pin(calls::remove_member(s, u, a)),
        ),
        tool(
            "today",
            "Today at a glance",
            "The user's day in one call: open tasks that are overdue, open tasks due by the end of \
             today in `time_zone` (IANA; default: the user's, from `user_info`), and how many \
             reminders are unread. \
             A good start for planning the day.",
            Effect::Reads,
            (
                schemas.object(json!({"time_zone": {"type": "string", "description": "IANA time zone, such as Europe/Berlin (default: the user's)"}}), &[]),
                schemas.object(
                    json!({
                        "time_zone": {"type": "string"},
                        "day_ends_at": {"type": "string", "format": "date-time"},
                        "overdue": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}},
                        "due_today": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}},
                        "unread_notifications": {"type": "integer"},
                    }),
                    &["overdue", "due_today", "unread_notifications"],
                ),
            ),
            |s, u, a| Box::pin(calls::today(s, u, a)),
        ),
        tool(
            "add_tasks",
            "Add several tasks",
            "Creates up to 50 top-level, unassigned tasks at once, each as `create_task` takes it. \
             Every task is checked first: if any is invalid, none is added and the error names it \
             (`tasks[2].title`).",
            Effect::Adds,
            (
                schemas.object(
                    json!({"tasks": {
                        "type": "array", "minItems": 1, "maxItems": calls::BATCH_MAX,
                        "items": {"$ref": "#/components/schemas/NewTask"}
                    }}),
                    &["tasks"],
                ),
                schemas.object(
                    json!({"created": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}}}),
                    &["created"],
                ),
            ),
            |s, u, a| Box::pin(calls::add_tasks(s, u, a)),
        ),
        tool(
            "reschedule_tasks",
            "Move tasks to another time",
            "Moves the due time of up to 50 tasks to `to` (RFC 3339, or as people say it: \
             \"tomorrow 9am\", \"next monday\", \"in 2 days\", in the user's time zone). Reminders keep \
             their offset before the due time; a repeating task keeps its rule and repeats from the \
             new time. Every task is checked first: if any cannot be moved, none is, and the error \
             names it (`ids[1]`).",
            Effect::Changes,
            (
                schemas.object(
                    json!({
                        "ids": task_ids(),
                        "to": {"type": "string", "description": format!("The new due time. {SPOKEN}")},
                    }),
                    &["ids", "to"],
                ),
                schemas.object(
                    json!({"moved": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}}}),
                    &["moved"],
                ),
            ),
            |s, u, a| Box::pin(calls::reschedule_tasks(s, u, a)),
        ),
        tool(
            "complete_tasks",
            "Complete several tasks",
            "Marks up to 50 tasks done at once (each with its open subtasks; a repeating task's next \
             occurrence follows). Every task is checked first: if any cannot be completed, none is, \
             and the error names it (`ids[1]`). A task already done stays as it is.",
            Effect::Changes,
            (
                schemas.object(json!({"ids": task_ids()}), &["ids"]),
                schemas.object(
                    json!({"completed": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}}}),
                    &["completed"],
                ),
            ),
            |s, u, a| Box::pin(calls::complete_tasks(s, u, a)),
        ),
        tool(
            "update_tasks",
            "Change several tasks",
            "Changes up to 50 tasks at once, each as `update_task` takes it (`id`, optionally \
             `expected_version`, and the fields to change; dates as people say them). Every change is \
             checked first: if any is invalid, none is made, and the error names it \
             (`tasks[2].title`).",
            Effect::Destroys,
            (
                schemas.object(
                    json!({"tasks": {
                        "type": "array", "minItems": 1, "maxItems": calls::BATCH_MAX,
                        "items": Value::Object(patch.clone()),
                    }}),
                    &["tasks"],
                ),
                schemas.object(
                    json!({"updated": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}}}),
                    &["updated"],
                ),
            ),
            |s, u, a| Box::pin(calls::update_tasks(s, u, a)),
        ),
        tool(
            "quick_add",
            "Quick add",
            "Creates a task from one sentence as a person would type it: the due time in the user's \
             `time_zone` (\"tomorrow 9am\", \"next friday\", \"dec 24\", \"in 2 hours\"; a date without \
             a time is at 09:00), #tags, a priority (!low, !medium, !high, !urgent) and a repetition \
             (\"every weekday\", \"every 2 weeks\", \"monthly\") and a list as @name (\"@household\", \
             \"@book-club\" for \"Book club\"); the rest is the title. In `list_id` if given, else the list \
             @name names, else the Inbox. The answer says which phrases it read as what.",
            Effect::Adds,
            (
                schemas.object(
                    json!({
                        "text": {"type": "string", "minLength": 1, "maxLength": api::quick_add::TEXT_MAX,
                                 "description": "Pay rent tomorrow 9am #home !high every month"},
                        "time_zone": {"type": "string", "description": "IANA time zone (default: the user's, from `user_info`)"},
                        "list_id": list_id(),
                    }),
                    &["text"],
                ),
                task(),
            ),
            |s, u, a| Box::pin(calls::quick_add(s, u, a)),
        ),
        tool(
            "overview",
            "Overview",
            "Everything at a glance, as Markdown to show as it is: the open tasks overdue, due today \
             and due in the coming week (in the user's time zone), and each active list with how many \
             open tasks it holds.",
            Effect::Reads,
            (
                schemas.object(json!({}), &[]),
                schemas.object(
                    json!({
                        "markdown": {"type": "string"},
                        "time_zone": {"type": "string"},
                        "overdue": {"type": "integer"},
                        "today": {"type": "integer"},
                        "coming_week": {"type": "integer"},
                        "lists": {"type": "array", "items": {"type": "object", "properties": {
                            "id": {"type": "string", "format": "uuid"},
                            "name": {"type": "string"},
                            "role": {"type": "string"},
                            "open": {"type": "string", "description": "How many open tasks; `20+` for more"},
                        }, "required": ["id", "name", "role", "open"]}},
                    }),
                    &["markdown", "time_zone", "overdue", "today", "coming_week", "lists"],
                ),
            ),
            |s, u, a| Box::pin(calls::overview(s, u, a)),
        ),
        tool(
            "search",
            "Search tasks",
            "Finds the user's tasks whose title or description contains `query` (done ones too), \
             most recently changed first, at most 20; each with its id (for `fetch`) and a URL that \
             opens it.",
            Effect::Reads,
            (
                schemas.object(json!({"query": {"type": "string", "minLength": 1, "description": "The text to find"}}), &["query"]),
                schemas.object(
                    json!({"results": {"type": "array", "items": {"type": "object", "properties": {
                        "id": {"type": "string", "format": "uuid"},
                        "title": {"type": "string"},
                        "url": {"type": "string"},
                    }, "required": ["id", "title", "url"]}}}),
                    &["results"],
                ),
            ),
            |s, u, a| Box::pin(calls::search(s, u, a)),
        ),
        tool(
            "fetch",
            "Fetch a task",
            "One task as a document: its title, its whole text (description and fields), a URL \
             that opens it, and its status, priority, due time, tags and list as metadata.",
            Effect::Reads,
            (
                schemas.object(json!({"id": task_id()}), &["id"]),
                schemas.object(
                    json!({
                        "id": {"type": "string", "format": "uuid"},
                        "title": {"type": "string"},
                        "text": {"type": "string"},
                        "url": {"type": "string"},
                        "metadata": {"type": "object"},
                    }),
                    &["id", "title", "text", "url", "metadata"],
                ),
            ),
            |s, u, a| Box::pin(calls::fetch(s, u, a)),
        ),
        tool(
            "user_info",
            "About the user",
            "The user's id, their time zone (from their settings; the default for dates in other \
             tools) with the time there now, and their notification settings: where reminders go, \
             whether their e-mail address is confirmed, quiet hours.",
            Effect::Reads,
            (
                schemas.object(json!({}), &[]),
                schemas.object(
                    json!({
                        "user_id": {"type": "string"},
                        "time_zone": {"type": "string"},
                        "local_time": {"type": "string", "format": "date-time"},
                        "settings": {"$ref": "#/components/schemas/Settings"},
                    }),
                    &["user_id", "time_zone", "local_time", "settings"],
                ),
            ),
            |s, u, a| Box::pin(calls::user_info(s, u, a)),
        ),
        tool(
            "task_activity",
            "A task's activity",
            "What happened to a task (created, changed, completed, reminded, deleted), newest first.",
            Effect::Reads,
            (schemas.parameters("get", "/v1/tasks/{id}/activity", json!({})), schemas.component("ActivityList")),
            |s, u, a| Box::pin(calls::task_activity(s, u, a)),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_an_object_input_and_output_schema_and_annotations() {
        let tools = all(&Schemas::new());
        assert!(tools.len() >= 11);
        for def in tools {
            let t = &def.tool;
            assert_eq!(t.input_schema.get("type"), Some(&json!("object")), "{}", t.name);
            let output =
                t.output_schema.as_ref().unwrap_or_else(|| panic!("{} has no output schema", t.name));
            assert!(output.get("properties").is_some(), "{}: {output:?}", t.name);
            assert!(t.annotations.as_ref().and_then(|a| a.read_only_hint).is_some(), "{}", t.name);
        }
    }

    #[test]
    fn only_the_reading_tools_are_read_only_and_deleting_is_destructive() {
        let tools = all(&Schemas::new());
        let hints = |name: &str| {
            tools.iter().find(|d| d.tool.name == name).and_then(|d| d.tool.annotations.clone()).expect(name)
        };
        assert_eq!(hints("list_tasks").read_only_hint, Some(true));
        assert_eq!(hints("create_task").read_only_hint, Some(false));
        assert_eq!(hints("create_task").idempotent_hint, Some(false));
        assert_eq!(hints("delete_task").destructive_hint, Some(true));
        assert_eq!(hints("complete_task").destructive_hint, Some(false));
        assert_eq!(hints("complete_task").idempotent_hint, Some(true));
        for def in &tools {
            let reads = def.tool.annotations.as_ref().and_then(|a| a.read_only_hint) == Some(true);
            let scope = if reads { Scope::TasksRead } else { Scope::TasksWrite };
            assert_eq!(def.scope, scope, "{}", def.tool.name);
        }
    }

    #[test]
    fn update_task_takes_the_patch_fields_and_the_id() {
        let tools = all(&Schemas::new());
        let update = tools.iter().find(|d| d.tool.name == "update_task").expect("listed");
        let properties = &update.tool.input_schema["properties"];
        for name in ["id", "expected_version", "title", "due_at", "list_id"] {
            assert!(properties.get(name).is_some(), "{name}");
        }
        assert_eq!(update.tool.input_schema["required"], json!(["id"]));
    }

    #[test]
    fn input_schemas_mark_what_a_tool_cannot_do_without() {
        let tools = all(&Schemas::new());
        for (name, needed) in [
            ("create_task", &["title"][..]),
            ("create_list", &["name"][..]),
            ("add_member", &["user_id", "role", "list_id"][..]),
        ] {
            let def = tools.iter().find(|d| d.tool.name == name).expect("listed");
            let required = def.tool.input_schema["required"].as_array().cloned().unwrap_or_default();
            for field in needed {
                assert!(required.contains(&json!(field)), "{name} requires {field}: {required:?}");
            }
        }
    }
}
