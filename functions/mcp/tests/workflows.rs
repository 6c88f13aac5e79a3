//! The list tools, the workflow tools (`today`, `add_tasks`, `quick_add`), the prompts and
//! the resource, on both backends.

mod common;

use chrono::{Datelike, Duration, Offset, Timelike, Utc};
use common::TestMcp;
use serde_json::{Value, json};

both_backends!(
    lists_are_made_shared_and_left_through_the_tools_by_role,
    lists_are_changed_and_deleted_and_roles_changed_by_owners_only,
    today_shows_what_is_overdue_and_due_today_in_the_users_zone,
    add_tasks_adds_them_all_or_none,
    quick_add_reads_a_sentence_in_the_users_zone_and_creates_it,
    user_info_gives_the_saved_time_zone_which_the_date_tools_then_use,
    snooze_task_re_arms_the_reminder_and_refuses_by_name,
    move_task_puts_a_task_first_or_after_another_in_its_lists_order,
    dates_are_read_as_people_say_them_in_each_users_zone,
    reschedule_tasks_moves_every_task_or_none,
    prompts_and_the_open_tasks_resource_are_served,
);

fn time_of(value: &Value) -> chrono::DateTime<Utc> {
    value.as_str().expect("a time").parse().expect("RFC 3339")
}

fn items(value: &Value) -> Vec<Value> {
    value["items"].as_array().cloned().unwrap_or_default()
}

async fn lists_are_made_shared_and_left_through_the_tools_by_role(mcp: TestMcp) {
    let list = mcp.tool("alice", "create_list", json!({"name": "Household"})).await;
    assert!(!list.is_tool_error(), "{}", list.body);
    let list_id = list.structured()["id"].clone();
    let names: Vec<Value> = items(mcp.tool("alice", "list_lists", json!({})).await.structured())
        .iter()
        .map(|l| l["name"].clone())
        .collect();
    assert!(names.contains(&json!("Inbox")) && names.contains(&json!("Household")), "{names:?}");

    // Bob cannot see it until he is added, then sees it as a viewer.
    // A list is shared only with someone who has signed in: not yet Bob.
    let unknown = mcp
        .tool("alice", "add_member", json!({"list_id": list_id, "user_id": "bob", "role": "viewer"}))
        .await;
    assert_eq!(unknown.error_code(), "validation_failed", "{}", unknown.body);
    assert!(unknown.body.to_string().contains("no one has signed in with this user id"), "{}", unknown.body);
    mcp.tool("bob", "list_lists", json!({})).await;
    let unseen = mcp.tool("bob", "list_members", json!({"list_id": list_id})).await;
    assert_eq!(unseen.error_code(), "not_found");
    let added = mcp
        .tool("alice", "add_member", json!({"list_id": list_id, "user_id": "bob", "role": "viewer"}))
        .await;
    assert_eq!(added.structured()["role"], "viewer", "{}", added.body);
    let members = mcp.tool("bob", "list_members", json!({"list_id": list_id})).await;
    assert_eq!(items(members.structured()).len(), 2);

    let viewer_write = mcp.tool("bob", "create_task", json!({"title": "x", "list_id": list_id})).await;
    assert_eq!(viewer_write.error_code(), "forbidden");
    let viewer_share =
        mcp.tool("bob", "add_member", json!({"list_id": list_id, "user_id": "eve", "role": "owner"})).await;
    assert_eq!(viewer_share.error_code(), "forbidden");
    let bad_role =
        mcp.tool("alice", "add_member", json!({"list_id": list_id, "user_id": "eve", "role": "boss"})).await;
    assert_eq!(bad_role.error_code(), "invalid_arguments");

    let left = mcp.tool("bob", "remove_member", json!({"list_id": list_id, "user_id": "bob"})).await;
    assert!(!left.is_tool_error(), "{}", left.body);
    let gone = mcp.tool("bob", "list_members", json!({"list_id": list_id})).await;
    assert_eq!(gone.error_code(), "not_found");
    let last_owner =
        mcp.tool("alice", "remove_member", json!({"list_id": list_id, "user_id": "alice"})).await;
    assert_eq!(last_owner.error_code(), "last_owner");
}

/// A time zone where it is now between 01:00 and 21:59, so that ten minutes
/// from now is still today there.
fn zone_away_from_midnight() -> &'static str {
    ["UTC", "Asia/Tokyo", "America/New_York"]
        .into_iter()
        .find(|name| {
            let zone: chrono_tz::Tz = name.parse().expect("known zone");
            (1..22).contains(&Utc::now().with_timezone(&zone).hour())
        })
        .expect("three zones nine or more hours apart cannot all be near midnight")
}

async fn today_shows_what_is_overdue_and_due_today_in_the_users_zone(mcp: TestMcp) {
    let at = |d: Duration| (Utc::now() + d).to_rfc3339();
    mcp.create("alice", json!({"title": "Late", "due_at": at(-Duration::hours(3))})).await;
    let soon = mcp.create("alice", json!({"title": "Soon", "due_at": at(Duration::minutes(10))})).await;
    mcp.create("alice", json!({"title": "Later", "due_at": at(Duration::days(2))})).await;
    let done = mcp.create("alice", json!({"title": "Done late", "due_at": at(-Duration::hours(1))})).await;
    mcp.tool("alice", "complete_task", json!({"id": done["id"]})).await;
    mcp.create("bob", json!({"title": "Bob's late", "due_at": at(-Duration::hours(3))})).await;

    let zone = zone_away_from_midnight();
    let day = mcp.tool("alice", "today", json!({"time_zone": zone})).await;
    assert!(!day.is_tool_error(), "{}", day.body);
    let titles = |key: &str| -> Vec<Value> {
        day.structured()[key]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|t| t["title"].clone())
            .collect()
    };
    assert_eq!(titles("overdue"), [json!("Late")]);
    assert_eq!(titles("due_today"), [json!("Soon")]);
    assert_eq!(day.structured()["time_zone"], zone);
    assert_eq!(day.structured()["unread_notifications"], 0);
    assert!(
        day.text().contains(&format!("id {}", soon["id"].as_str().unwrap_or_default())),
        "{}",
        day.text()
    );

    let bad = mcp.tool("alice", "today", json!({"time_zone": "Mars/Olympus"})).await;
    assert_eq!(bad.error_fields()[0], "time_zone");
}

async fn add_tasks_adds_them_all_or_none(mcp: TestMcp) {
    let batch = json!({"tasks": [
        {"title": "Milk", "tags": ["shop"]},
        {"title": "Bread", "priority": "high"},
        {"title": "Call mum", "due_at": "2030-01-01T18:00:00Z", "remind_before_minutes": 30},
    ]});
    let added = mcp.tool("alice", "add_tasks", batch).await;
    assert!(!added.is_tool_error(), "{}", added.body);
    assert_eq!(added.structured()["created"].as_array().map(Vec::len), Some(3));
    assert_eq!(mcp.outbox_len().await, 3, "each with its task.created");

    let list = mcp.tool("alice", "create_list", json!({"name": "Shared"})).await;
    let list_id = list.structured()["id"].clone();
    mcp.tool("bob", "list_lists", json!({})).await;
    mcp.tool("alice", "add_member", json!({"list_id": list_id, "user_id": "bob", "role": "viewer"})).await;
    let events_before = mcp.outbox_len().await;
    let refusals = [
        (json!({"tasks": [{"title": "ok"}, {"title": " "}]}), "tasks[1].title"),
        (json!({"tasks": [{"title": "ok"}, {"title": "x", "priority": "whenever"}]}), "tasks[1].priority"),
        (json!({"tasks": [{"title": "x", "parent_id": uuid::Uuid::now_v7()}]}), "tasks[0].parent_id"),
        (json!({"tasks": []}), "tasks"),
        (json!({"tasks": vec![json!({"title": "x"}); 51]}), "tasks"),
    ];
    for (args, field) in refusals {
        let refused = mcp.tool("alice", "add_tasks", args.clone()).await;
        assert!(refused.is_tool_error(), "{args}");
        assert_eq!(refused.error_fields()[0], field, "{}", refused.body);
    }
    let viewer = mcp
        .tool("bob", "add_tasks", json!({"tasks": [{"title": "mine"}, {"title": "x", "list_id": list_id}]}))
        .await;
    assert_eq!(viewer.error_code(), "forbidden", "{}", viewer.body);
    assert_eq!(mcp.outbox_len().await, events_before, "no refused batch wrote anything");
    let bobs = mcp.tool("bob", "list_tasks", json!({})).await;
    assert_eq!(items(bobs.structured()), Vec::<Value>::new(), "not even the valid first task");
}

async fn prompts_and_the_open_tasks_resource_are_served(mcp: TestMcp) {
    let prompts = mcp.rpc(Some("alice"), "prompts/list", json!({})).await;
    let names: Vec<Value> = prompts.result()["prompts"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|p| p["name"].clone())
        .collect();
    assert_eq!(names, [json!("plan_my_day"), json!("weekly_review")]);
    let prompt = mcp
        .rpc(
            Some("alice"),
            "prompts/get",
            json!({"name": "plan_my_day", "arguments": {"time_zone": "Asia/Tokyo"}}),
        )
        .await;
    let text = prompt.result()["messages"][0]["content"]["text"].as_str().unwrap_or_default().to_owned();
    assert!(text.contains("Asia/Tokyo") && text.contains("`today`"), "{text}");

    mcp.create("alice", json!({"title": "Visible"})).await;
    mcp.create("bob", json!({"title": "Not alice's"})).await;
    let listed = mcp.rpc(Some("alice"), "resources/list", json!({})).await;
    assert_eq!(listed.result()["resources"][0]["uri"], "todo://tasks/open");
    let read = mcp.rpc(Some("alice"), "resources/read", json!({"uri": "todo://tasks/open"})).await;
    let contents = read.result()["contents"][0]["text"].as_str().unwrap_or_default().to_owned();
    let page: Value = serde_json::from_str(&contents).expect("JSON");
    let titles: Vec<Value> = items(&page).iter().map(|t| t["title"].clone()).collect();
    assert_eq!(titles, [json!("Visible")]);
    let unknown = mcp.rpc(Some("alice"), "resources/read", json!({"uri": "todo://nothing"})).await;
    assert!(unknown.body["error"].is_object(), "{}", unknown.body);
}

async fn quick_add_reads_a_sentence_in_the_users_zone_and_creates_it(mcp: TestMcp) {
    let list = mcp.tool("alice", "create_list", json!({"name": "Home"})).await;
    let list_id = list.structured()["id"].clone();
    let args = json!({
        "text": "Pay rent tomorrow 9am #bills !high every month",
        "time_zone": "Pacific/Auckland",
        "list_id": list_id,
    });
    let added = mcp.tool("alice", "quick_add", args).await;
    assert!(!added.is_tool_error(), "{}", added.body);
    let task = added.structured();
    assert_eq!(task["title"], "Pay rent");
    assert_eq!((task["priority"].clone(), task["tags"].clone()), (json!("high"), json!(["bills"])));
    assert_eq!(task["list_id"], list_id);
    assert_eq!(task["time_zone"], "Pacific/Auckland");
    assert!(task["recurrence"].as_str().is_some_and(|r| r.contains("MONTHLY")), "{task}");
    // Tomorrow at 09:00 in Auckland, whatever the day is in UTC.
    let zone: chrono_tz::Tz = "Pacific/Auckland".parse().expect("a zone");
    let due: chrono::DateTime<Utc> = task["due_at"].as_str().expect("a due time").parse().expect("RFC 3339");
    let local = due.with_timezone(&zone);
    let tomorrow = Utc::now().with_timezone(&zone).date_naive().succ_opt().expect("a tomorrow");
    assert_eq!((local.date_naive(), local.hour(), local.minute()), (tomorrow, 9, 0), "{due}");
    assert!(added.text().contains("as due_at"), "{}", added.text());

    // Bad input is refused by name, and adds nothing.
    let before = mcp.outbox_len().await;
    for (args, field) in [
        (json!({"text": "   "}), "text"),
        (json!({"text": "x", "time_zone": "Mars/Olympus"}), "time_zone"),
        (json!({"text": "x", "list_id": "not-a-uuid"}), "not-a-uuid"),
    ] {
        let refused = mcp.tool("alice", "quick_add", args.clone()).await;
        assert!(refused.is_tool_error(), "{args} was not refused: {}", refused.body);
        assert!(refused.text().contains(field), "{args}: {}", refused.text());
    }
    assert_eq!(mcp.outbox_len().await, before);
}

async fn user_info_gives_the_saved_time_zone_which_the_date_tools_then_use(mcp: TestMcp) {
    let info = mcp.tool("alice", "user_info", json!({})).await;
    assert!(!info.is_tool_error(), "{}", info.body);
    assert_eq!(
        (info.structured()["user_id"].clone(), info.structured()["time_zone"].clone()),
        (json!("alice"), json!("UTC"))
    );

    let mut settings = todo_lib::settings::Settings::defaults("alice");
    settings.time_zone = "Pacific/Auckland".parse().expect("a zone");
    settings.updated_at = Some(Utc::now());
    let mut tx = mcp.db.store.begin().await.expect("tx");
    tx.put_settings(&settings).await.expect("saved");
    tx.commit().await.expect("commit");
    let info = mcp.tool("alice", "user_info", json!({})).await;
    let structured = info.structured();
    assert_eq!(structured["time_zone"], "Pacific/Auckland");
    assert_eq!(structured["settings"]["channels"]["reminders"]["in_app"], true);
    let local: chrono::DateTime<chrono::FixedOffset> =
        structured["local_time"].as_str().expect("a time").parse().expect("RFC 3339");
    let zone: chrono_tz::Tz = "Pacific/Auckland".parse().expect("a zone");
    assert_eq!(
        local.offset().local_minus_utc(),
        Utc::now().with_timezone(&zone).offset().fix().local_minus_utc()
    );
    assert!(info.text().contains("Pacific/Auckland"), "{}", info.text());
    assert!(mcp.tool("alice", "user_info", json!({"extra": 1})).await.is_tool_error());

    // Without a time_zone argument, quick_add reads dates in the saved zone.
    let added = mcp.tool("alice", "quick_add", json!({"text": "Stretch tomorrow 7am"})).await;
    let due: chrono::DateTime<Utc> =
        added.structured()["due_at"].as_str().expect("due").parse().expect("RFC 3339");
    assert_eq!(due.with_timezone(&zone).hour(), 7, "{due}");
}

async fn snooze_task_re_arms_the_reminder_and_refuses_by_name(mcp: TestMcp) {
    let due = Utc::now() + Duration::hours(3);
    let made = mcp
        .tool(
            "alice",
            "create_task",
            json!({"title": "Stand up", "due_at": due, "remind_before_minutes": 15}),
        )
        .await;
    let id = made.structured()["id"].clone();
    let snoozed = mcp.tool("alice", "snooze_task", json!({"id": id, "minutes": 30})).await;
    assert!(!snoozed.is_tool_error(), "{}", snoozed.body);
    let remind_at: chrono::DateTime<Utc> =
        snoozed.structured()["remind_at"].as_str().expect("re-armed").parse().expect("RFC 3339");
    assert!((remind_at - (Utc::now() + Duration::minutes(30))).num_seconds().abs() < 10, "{remind_at}");
    assert!(snoozed.text().contains("next reminder"), "{}", snoozed.text());
    let before = mcp.outbox_len().await;
    for (args, field) in [
        (json!({"id": id, "minutes": 0}), "minutes"),
        (json!({"id": id, "until": "2020-01-01T00:00:00Z"}), "until"),
        (json!({"id": id, "minutes": 5, "until": due}), "minutes"),
        (json!({"id": id, "hours": 1}), "hours"),
    ] {
        let refused = mcp.tool("alice", "snooze_task", args.clone()).await;
        assert!(refused.is_tool_error(), "{args} was not refused: {}", refused.body);
        assert!(refused.text().contains(field), "{args}: {}", refused.text());
    }
    assert_eq!(mcp.outbox_len().await, before, "nothing stored");
}

async fn move_task_puts_a_task_first_or_after_another_in_its_lists_order(mcp: TestMcp) {
    let list = mcp.tool("alice", "create_list", json!({"name": "Shelf"})).await.structured()["id"].clone();
    let mut ids = Vec::new();
    for title in ["a", "b", "c"] {
        let made = mcp.tool("alice", "create_task", json!({"title": title, "list_id": list})).await;
        ids.push(made.structured()["id"].clone());
    }
    let order = || async {
        let page = mcp.tool("alice", "list_tasks", json!({"list": list, "sort": "manual"})).await;
        items(page.structured())
            .iter()
            .map(|t| t["title"].as_str().expect("title").to_owned())
            .collect::<Vec<_>>()
    };
    let first = mcp.tool("alice", "move_task", json!({"id": ids[2]})).await;
    assert!(!first.is_tool_error(), "{}", first.body);
    assert!(first.text().contains("first in its list"), "{}", first.text());
    assert_eq!(order().await, ["c", "a", "b"]);
    let after = mcp.tool("alice", "move_task", json!({"id": ids[0], "after": ids[1]})).await;
    assert!(!after.is_tool_error(), "{}", after.body);
    assert_eq!(order().await, ["c", "b", "a"]);
    let before = mcp.outbox_len().await;
    for (args, field) in [
        (json!({"id": ids[0], "after": ids[0]}), "after"),
        (json!({"id": ids[0], "after": "nope"}), "task"),
        (json!({"id": ids[0], "to": "top"}), "to"),
    ] {
        let refused = mcp.tool("alice", "move_task", args.clone()).await;
        assert!(refused.is_tool_error(), "{args} was not refused: {}", refused.body);
        assert!(refused.text().contains(field), "{args}: {}", refused.text());
    }
    let stranger = mcp.tool("bob", "move_task", json!({"id": ids[0]})).await;
    assert!(stranger.is_tool_error(), "{}", stranger.body);
    assert_eq!(mcp.outbox_len().await, before, "nothing stored");
    assert_eq!(order().await, ["c", "b", "a"]);
}

async fn dates_are_read_as_people_say_them_in_each_users_zone(mcp: TestMcp) {
    mcp.lives_in("alice", "Europe/Berlin").await;
    mcp.lives_in("bob", "America/New_York").await;
    for (user, zone) in [("alice", chrono_tz::Europe::Berlin), ("bob", chrono_tz::America::New_York)] {
        let made =
            mcp.tool(user, "create_task", json!({"title": "Call mum", "due_at": "tomorrow 9am"})).await;
        assert!(!made.is_tool_error(), "{}", made.body);
        let due = time_of(&made.structured()["due_at"]).with_timezone(&zone);
        let tomorrow = Utc::now().with_timezone(&zone).date_naive().succ_opt().expect("a day");
        assert_eq!((due.date_naive(), due.hour(), due.minute()), (tomorrow, 9, 0), "{user}: {due}");
    }
    let id = mcp.tool("alice", "create_task", json!({"title": "Gym"})).await.structured()["id"].clone();
    let changed = mcp.tool("alice", "update_task", json!({"id": id, "due_at": "in 2 hours"})).await;
    let due = time_of(&changed.structured()["due_at"]);
    assert!((due - (Utc::now() + Duration::hours(2))).num_seconds().abs() < 10, "{due}");
    let armed = mcp.tool("alice", "update_task", json!({"id": id, "remind_before_minutes": 0})).await;
    assert!(!armed.is_tool_error(), "{}", armed.body);
    let snoozed = mcp.tool("alice", "snooze_task", json!({"id": id, "until": "in 30 minutes"})).await;
    let remind_at = time_of(&snoozed.structured()["remind_at"]);
    assert!((remind_at - (Utc::now() + Duration::minutes(30))).num_seconds().abs() < 10, "{remind_at}");
    let soon = mcp.tool("alice", "list_tasks", json!({"due_before": "in 3 hours"})).await;
    let titles: Vec<Value> = items(soon.structured()).iter().map(|t| t["title"].clone()).collect();
    assert_eq!(titles, [json!("Gym")], "only what is due within three hours");

    let before = mcp.outbox_len().await;
    let refused = mcp.tool("alice", "create_task", json!({"title": "x", "due_at": "when pigs fly"})).await;
    assert_eq!(refused.error_code(), "invalid_arguments", "{}", refused.body);
    assert!(
        refused.text().contains("due_at") && refused.text().contains("when pigs fly"),
        "{}",
        refused.text()
    );
    assert_eq!(mcp.outbox_len().await, before, "nothing stored");
    // The schema says so, and no longer demands RFC 3339 of a phrase.
    let tools = mcp.rpc(Some("alice"), "tools/list", json!({})).await;
    let create = tools.result()["tools"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == "create_task"))
        .cloned()
        .expect("create_task");
    let due_at = &create["inputSchema"]["properties"]["due_at"];
    assert!(!due_at.to_string().contains("date-time"), "{due_at}");
    assert!(due_at["description"].as_str().unwrap_or_default().contains("tomorrow 9am"), "{due_at}");
}

async fn reschedule_tasks_moves_every_task_or_none(mcp: TestMcp) {
    mcp.lives_in("alice", "Europe/Berlin").await;
    let due = Utc::now() + Duration::hours(1);
    let weekly = mcp
        .tool(
            "alice",
            "create_task",
            json!({"title": "Standup", "due_at": due, "remind_before_minutes": 10,
                   "recurrence": "FREQ=WEEKLY", "time_zone": "Europe/Berlin"}),
        )
        .await;
    let once = mcp.tool("alice", "create_task", json!({"title": "Dentist", "due_at": due})).await;
    let ids = json!([weekly.structured()["id"], once.structured()["id"]]);
    let before = mcp.outbox_len().await;

    let unknown = json!([weekly.structured()["id"], "0190a000-0000-7000-8000-000000000000"]);
    let refused =
        mcp.tool("alice", "reschedule_tasks", json!({"ids": unknown, "to": "next monday 10am"})).await;
    assert_eq!(refused.error_code(), "validation_failed", "{}", refused.body);
    assert!(refused.text().contains("ids[1]"), "{}", refused.text());
    let bad = mcp.tool("alice", "reschedule_tasks", json!({"ids": ids, "to": "someday"})).await;
    assert_eq!(bad.error_code(), "invalid_arguments");
    let twice = json!([weekly.structured()["id"], weekly.structured()["id"]]);
    let repeated = mcp.tool("alice", "reschedule_tasks", json!({"ids": twice, "to": "tomorrow"})).await;
    assert!(repeated.text().contains("ids[1]"), "{}", repeated.text());
    assert_eq!(mcp.outbox_len().await, before, "nothing moved");
    let viewer_list = mcp.tool("bob", "create_task", json!({"title": "Bob's"})).await;
    let not_hers = json!([viewer_list.structured()["id"]]);
    let hidden = mcp.tool("alice", "reschedule_tasks", json!({"ids": not_hers, "to": "tomorrow"})).await;
    assert!(hidden.text().contains("no such task"), "{}", hidden.text());
    let before = mcp.outbox_len().await;

    let moved = mcp.tool("alice", "reschedule_tasks", json!({"ids": ids, "to": "next monday 10am"})).await;
    assert!(!moved.is_tool_error(), "{}", moved.body);
    let tasks = moved.structured()["moved"].as_array().cloned().unwrap_or_default();
    assert_eq!(tasks.len(), 2);
    for task in &tasks {
        let due = time_of(&task["due_at"]).with_timezone(&chrono_tz::Europe::Berlin);
        assert_eq!((due.weekday(), due.hour(), due.minute()), (chrono::Weekday::Mon, 10, 0), "{task}");
    }
    assert_eq!(tasks[0]["recurrence"], "FREQ=WEEKLY", "the series keeps its rule");
    let remind_at = time_of(&tasks[0]["remind_at"]);
    assert_eq!(time_of(&tasks[0]["due_at"]) - remind_at, Duration::minutes(10), "the reminder moved with it");
    assert_eq!(mcp.outbox_len().await, before + 2, "one task.updated each");
}

async fn lists_are_changed_and_deleted_and_roles_changed_by_owners_only(mcp: TestMcp) {
    let made = mcp.tool("alice", "create_list", json!({"name": "Garden"})).await;
    let list_id = made.structured()["id"].clone();
    mcp.tool("bob", "list_lists", json!({})).await; // bob has signed in
    let added = mcp
        .tool("alice", "add_member", json!({"list_id": list_id, "user_id": "bob", "role": "viewer"}))
        .await;
    assert!(!added.is_tool_error(), "{}", added.body);

    // A viewer can change nothing about the list.
    for (tool, args) in [
        ("update_list", json!({"list_id": list_id, "name": "Mine"})),
        ("delete_list", json!({"list_id": list_id})),
        ("change_member_role", json!({"list_id": list_id, "user_id": "bob", "role": "owner"})),
    ] {
        assert_eq!(mcp.tool("bob", tool, args).await.error_code(), "forbidden", "{tool}");
    }

    let renamed = mcp
        .tool(
            "alice",
            "update_list",
            json!({"list_id": list_id, "name": "Allotment", "colour": "#22aa55", "expected_version": 1}),
        )
        .await;
    assert!(!renamed.is_tool_error(), "{}", renamed.body);
    assert_eq!(
        (renamed.structured()["name"].clone(), renamed.structured()["version"].clone()),
        (json!("Allotment"), json!(2))
    );
    let stale = mcp
        .tool("alice", "update_list", json!({"list_id": list_id, "archived": true, "expected_version": 1}))
        .await;
    assert_eq!(stale.error_code(), "precondition_failed", "{}", stale.body);
    let archived =
        mcp.tool("alice", "update_list", json!({"list_id": list_id, "archived": true, "position": 7})).await;
    assert_eq!(
        (archived.structured()["archived"].clone(), archived.structured()["position"].clone()),
        (json!(true), json!(7))
    );
    let bad = mcp.tool("alice", "update_list", json!({"list_id": list_id, "name": ""})).await;
    assert_eq!(bad.error_code(), "validation_failed", "{}", bad.body);

    let promoted = mcp
        .tool("alice", "change_member_role", json!({"list_id": list_id, "user_id": "bob", "role": "editor"}))
        .await;
    assert_eq!(promoted.structured()["role"], "editor", "{}", promoted.body);
    let demoted_self = mcp
        .tool(
            "alice",
            "change_member_role",
            json!({"list_id": list_id, "user_id": "alice", "role": "viewer"}),
        )
        .await;
    assert_eq!(demoted_self.error_code(), "last_owner", "{}", demoted_self.body);
    let nobody = mcp
        .tool("alice", "change_member_role", json!({"list_id": list_id, "user_id": "eve", "role": "viewer"}))
        .await;
    assert_eq!(nobody.error_code(), "not_found");

    // Restored, it takes tasks again: one, and its activity as task-created records it.
    let restored = mcp.tool("alice", "update_list", json!({"list_id": list_id, "archived": false})).await;
    assert_eq!(restored.structured()["archived"], false, "{}", restored.body);
    let planted = mcp.tool("alice", "create_task", json!({"title": "Plant beans", "list_id": list_id})).await;
    let task_id: uuid::Uuid = planted.structured()["id"].as_str().expect("id").parse().expect("uuid");
    let task = mcp.db.store.get_task("alice", task_id).await.expect("reads").expect("the task");
    let data = todo_lib::event::TaskEventData {
        version: 1,
        user_id: "alice".into(),
        task,
        reminder_at: None,
        moved_from: None,
    };
    let entry = todo_lib::activity::Activity::of_event(
        todo_lib::event::EventType::Created,
        "ev-1",
        &data,
        Utc::now(),
    );
    assert!(mcp.db.store.record_activity_once("task-created", &entry, Utc::now()).await.expect("recorded"));
    let activity = mcp.tool("bob", "list_activity", json!({"list_id": list_id})).await;
    assert_eq!(items(activity.structured()).len(), 1, "{}", activity.body);
    assert!(activity.text().contains("Plant beans"), "{}", activity.text());
    let everything = mcp.tool("alice", "user_activity", json!({"limit": 5})).await;
    assert!(everything.text().contains("Plant beans"), "{}", everything.text());
    let hidden = mcp.tool("eve", "list_activity", json!({"list_id": list_id})).await;
    assert_eq!(hidden.error_code(), "not_found");

    let inbox = items(mcp.tool("alice", "list_lists", json!({})).await.structured())
        .into_iter()
        .find(|l| l["inbox"] == true)
        .expect("an Inbox");
    let keep = mcp.tool("alice", "delete_list", json!({"list_id": inbox["id"]})).await;
    assert_eq!(keep.error_code(), "inbox_undeletable");
    let full = mcp.tool("alice", "delete_list", json!({"list_id": list_id})).await;
    assert_eq!(full.error_code(), "list_not_empty", "{}", full.body);
    let emptied = mcp.tool("alice", "delete_task", json!({"id": task_id})).await;
    assert!(!emptied.is_tool_error(), "{}", emptied.body);
    let deleted = mcp.tool("alice", "delete_list", json!({"list_id": list_id})).await;
    assert_eq!(deleted.structured()["deleted"], list_id, "{}", deleted.body);
    let lists = items(mcp.tool("alice", "list_lists", json!({"archived": true})).await.structured());
    assert!(lists.iter().all(|l| l["id"] != list_id), "gone");
}
