use chrono::{Duration, TimeZone};

use super::*;

/// The list every task of these tests is in: the model takes it as given.
const LIST: Uuid = Uuid::from_u128(7);

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).single().expect("valid time")
}

fn new_task(title: &str) -> NewTask {
    NewTask { title: Some(title.into()), ..NewTask::default() }
}

fn fields_of(err: ValidationErrors) -> Vec<String> {
    err.0.into_iter().map(|e| e.field).collect()
}

#[test]
fn create_trims_the_title_and_applies_defaults() {
    let task = Task::create("alice", LIST, new_task("  Buy milk "), now()).expect("valid");
    assert_eq!(task.title, "Buy milk");
    assert_eq!(task.priority, Priority::Medium);
    assert_eq!(task.version, 1);
    assert!(!task.completed);
    assert_eq!(task.created_at, now());
    assert_eq!(task.user_id, "alice");
}

#[test]
fn create_requires_a_title() {
    let err = Task::create("alice", LIST, NewTask::default(), now()).expect_err("no title");
    assert_eq!(fields_of(err), ["title"]);
}

#[test]
fn create_reports_every_invalid_field_at_once() {
    let input = NewTask {
        title: None,
        remind_before_minutes: Some(5),
        recurrence: Some("FREQ=DAILY".into()),
        ..NewTask::default()
    };
    let err = Task::create("alice", LIST, input, now()).expect_err("invalid");
    assert_eq!(fields_of(err), ["title", "remind_before_minutes", "recurrence"]);
}

#[test]
fn titles_of_only_spaces_or_too_long_are_refused() {
    assert!(Task::create("a", LIST, new_task("   "), now()).is_err());
    assert!(Task::create("a", LIST, new_task(&"x".repeat(201)), now()).is_err());
    assert!(Task::create("a", LIST, new_task(&"é".repeat(200)), now()).is_ok());
    assert!(Task::create("a", LIST, new_task("bell\u{7}"), now()).is_err());
}

#[test]
fn descriptions_are_limited_to_ten_thousand_characters() {
    let ok = NewTask { description: Some("d".repeat(10_000)), ..new_task("t") };
    let long = NewTask { description: Some("d".repeat(10_001)), ..new_task("t") };
    assert!(Task::create("a", LIST, ok, now()).is_ok());
    assert_eq!(fields_of(Task::create("a", LIST, long, now()).expect_err("long")), ["description"]);
}

#[test]
fn tags_are_lower_cased_trimmed_and_deduplicated() {
    let input = NewTask { tags: Some(vec![" Work".into(), "work".into(), "HOME".into()]), ..new_task("t") };
    let task = Task::create("a", LIST, input, now()).expect("valid");
    assert_eq!(task.tags, ["work", "home"]);
}

#[test]
fn more_than_twenty_distinct_tags_are_refused() {
    let tags = (0..21).map(|i| format!("t{i}")).collect();
    let err =
        Task::create("a", LIST, NewTask { tags: Some(tags), ..new_task("t") }, now()).expect_err("too many");
    assert_eq!(fields_of(err), ["tags"]);
    let repeated = vec!["same".to_owned(); 50];
    assert!(Task::create("a", LIST, NewTask { tags: Some(repeated), ..new_task("t") }, now()).is_ok());
}

#[test]
fn empty_long_or_comma_tags_are_refused() {
    for bad in ["", "  ", &"x".repeat(41), "a,b"] {
        let input = NewTask { tags: Some(vec![bad.to_owned()]), ..new_task("t") };
        assert!(Task::create("a", LIST, input, now()).is_err(), "{bad:?} accepted");
    }
}

#[test]
fn reminder_time_is_due_minus_the_offset() {
    let due = now() + Duration::hours(2);
    let input = NewTask { due_at: Some(due), remind_before_minutes: Some(30), ..new_task("t") };
    let task = Task::create("a", LIST, input, now()).expect("valid");
    assert_eq!(task.remind_at, Some(due - Duration::minutes(30)));
}

#[test]
fn reminder_offset_must_be_in_range() {
    for minutes in [-1, REMINDER_MAX_MINUTES + 1] {
        let input = NewTask { due_at: Some(now()), remind_before_minutes: Some(minutes), ..new_task("t") };
        assert!(Task::create("a", LIST, input, now()).is_err(), "{minutes} accepted");
    }
}

#[test]
fn due_times_outside_sane_years_are_refused() {
    let far = Utc.with_ymd_and_hms(12000, 1, 1, 0, 0, 0).single().expect("valid");
    let err =
        Task::create("a", LIST, NewTask { due_at: Some(far), ..new_task("t") }, now()).expect_err("far");
    assert_eq!(fields_of(err), ["due_at"]);
}

#[test]
fn recurring_tasks_start_their_own_series() {
    let input =
        NewTask { due_at: Some(now()), recurrence: Some("RRULE:FREQ=WEEKLY".into()), ..new_task("t") };
    let task = Task::create("a", LIST, input, now()).expect("valid");
    assert_eq!(task.series_id, Some(task.id));
    assert_eq!(task.recurrence.as_deref(), Some("FREQ=WEEKLY"));
}

#[test]
fn unknown_time_zones_are_refused() {
    let input = NewTask { time_zone: Some("Nowhere/Land".into()), ..new_task("t") };
    assert_eq!(fields_of(Task::create("a", LIST, input, now()).expect_err("zone")), ["time_zone"]);
}

#[test]
fn patch_changes_only_the_given_fields_and_bumps_the_version() {
    let task =
        Task::create("a", LIST, NewTask { description: Some("keep".into()), ..new_task("old") }, now())
            .expect("valid");
    let later = now() + Duration::minutes(1);
    let patch = TaskPatch { title: Some(Some("new".into())), ..TaskPatch::default() };
    let next = task.patched(patch, later).expect("valid").expect("changed");
    assert_eq!(next.title, "new");
    assert_eq!(next.description, "keep");
    assert_eq!(next.version, 2);
    assert_eq!(next.updated_at, later);
    assert_eq!(next.created_at, task.created_at);
}

#[test]
fn patch_that_changes_nothing_is_a_no_op() {
    let task = Task::create("a", LIST, new_task("same"), now()).expect("valid");
    let patch = TaskPatch { title: Some(Some(" same ".into())), ..TaskPatch::default() };
    assert_eq!(task.patched(patch, now()).expect("valid"), None);
}

#[test]
fn patch_null_clears_optional_fields_but_not_the_title() {
    let input = NewTask { due_at: Some(now()), remind_before_minutes: Some(5), ..new_task("t") };
    let task = Task::create("a", LIST, input, now()).expect("valid");
    let clear = TaskPatch { due_at: Some(None), remind_before_minutes: Some(None), ..TaskPatch::default() };
    let next = task.patched(clear, now()).expect("valid").expect("changed");
    assert_eq!((next.due_at, next.remind_at), (None, None));
    let null_title = TaskPatch { title: Some(None), ..TaskPatch::default() };
    assert_eq!(fields_of(task.patched(null_title, now()).expect_err("null title")), ["title"]);
}

#[test]
fn a_patch_moves_the_task_to_another_list_but_never_to_none() {
    let task = Task::create("a", LIST, new_task("t"), now()).expect("valid");
    assert_eq!(task.list_id, LIST);
    let other = Uuid::from_u128(8);
    let moved = TaskPatch { list_id: Some(Some(other)), ..TaskPatch::default() };
    let next = task.patched(moved, now()).expect("valid").expect("changed");
    assert_eq!((next.list_id, next.version), (other, 2));
    let same = TaskPatch { list_id: Some(Some(LIST)), ..TaskPatch::default() };
    assert_eq!(task.patched(same, now()).expect("valid"), None);
    let nowhere = TaskPatch { list_id: Some(None), ..TaskPatch::default() };
    assert_eq!(fields_of(task.patched(nowhere, now()).expect_err("no list")), ["list_id"]);
}

#[test]
fn clearing_the_due_time_of_a_reminder_is_refused() {
    let input = NewTask { due_at: Some(now()), remind_before_minutes: Some(5), ..new_task("t") };
    let task = Task::create("a", LIST, input, now()).expect("valid");
    let patch = TaskPatch { due_at: Some(None), ..TaskPatch::default() };
    assert_eq!(
        fields_of(task.patched(patch, now()).expect_err("orphan reminder")),
        ["remind_before_minutes"]
    );
}

#[test]
fn complete_and_reopen_are_idempotent() {
    let task = Task::create("a", LIST, new_task("t"), now()).expect("valid");
    let done = task.completed(now()).expect("was open");
    assert!(done.completed);
    assert_eq!(done.completed_at, Some(now()));
    assert_eq!(done.completed(now()), None);
    let open = done.reopened(now()).expect("was done");
    assert!(!open.completed);
    assert_eq!(open.completed_at, None);
    assert_eq!(open.version, 3);
    assert_eq!(open.reopened(now()), None);
}

#[test]
fn overdue_means_open_and_past_due() {
    let input = NewTask { due_at: Some(now() - Duration::minutes(1)), ..new_task("t") };
    let task = Task::create("a", LIST, input, now()).expect("valid");
    assert!(task.is_overdue(now()));
    assert!(!task.completed(now()).expect("open").is_overdue(now()));
}

#[test]
fn the_series_starts_at_the_first_due_time_and_survives_moving_an_occurrence() {
    let input = NewTask { due_at: Some(now()), recurrence: Some("FREQ=DAILY".into()), ..new_task("t") };
    let task = Task::create("a", LIST, input, now()).expect("valid");
    assert_eq!(task.series_start, Some(now()));
    let moved = TaskPatch { due_at: Some(Some(now() + Duration::hours(1))), ..TaskPatch::default() };
    let moved = task.patched(moved, now()).expect("valid").expect("changed");
    assert_eq!(moved.series_start, Some(now()), "same rule, same series start");
    let new_rule = TaskPatch { recurrence: Some(Some("FREQ=WEEKLY".into())), ..TaskPatch::default() };
    let restarted = moved.patched(new_rule, now()).expect("valid").expect("changed");
    assert_eq!(restarted.series_start, moved.due_at, "a new rule starts a new series here");
    let cleared = TaskPatch { recurrence: Some(None), ..TaskPatch::default() };
    assert_eq!(restarted.patched(cleared, now()).expect("valid").expect("changed").series_start, None);
}

#[test]
fn next_occurrence_keeps_the_fields_and_moves_the_due_and_reminder() {
    let input = NewTask {
        due_at: Some(now()),
        remind_before_minutes: Some(10),
        recurrence: Some("FREQ=DAILY".into()),
        tags: Some(vec!["x".into()]),
        ..new_task("t")
    };
    let task = Task::create("a", LIST, input, now()).expect("valid").completed(now()).expect("open");
    let next = task.next_occurrence(now()).expect("recurs");
    assert_eq!(next.due_at, Some(now() + Duration::days(1)));
    assert_eq!(next.remind_at, Some(now() + Duration::days(1) - Duration::minutes(10)));
    assert_eq!((next.completed, next.completed_at, next.version), (false, None, 1));
    assert_eq!((next.series_id, next.tags.clone()), (task.series_id, task.tags.clone()));
    assert_eq!(next.list_id, LIST, "the series stays in its list");
    assert_eq!(next.assignee_id, task.assignee_id, "with its assignee");
    assert_ne!(next.id, task.id);
    assert_eq!(Task::create("a", LIST, new_task("once"), now()).expect("valid").next_occurrence(now()), None);
}

#[test]
fn a_reminder_offset_out_of_any_range_does_not_panic() {
    // Only a forged event carries such a task: the API refuses the offset.
    let input = NewTask { due_at: Some(now()), recurrence: Some("FREQ=DAILY".into()), ..new_task("t") };
    let mut task = Task::create("a", LIST, input, now()).expect("valid");
    for minutes in [i64::MAX, i64::MIN, i64::MAX / 60] {
        task.remind_before_minutes = Some(minutes);
        let next = task.next_occurrence(now()).expect("recurs");
        assert_eq!(next.remind_at, None, "{minutes}: no reminder rather than a panic");
    }
}

#[test]
fn a_task_is_assigned_unassigned_and_its_assignee_id_checked() {
    let input = NewTask { assignee_id: Some("bob".into()), ..new_task("t") };
    let task = Task::create("a", LIST, input, now()).expect("valid");
    assert_eq!(task.assignee_id.as_deref(), Some("bob"));
    let next = task.unassigned(now()).expect("was assigned");
    assert_eq!((next.assignee_id.clone(), next.version), (None, 2));
    assert_eq!(next.unassigned(now()), None, "nobody to unassign");
    let bad = NewTask { assignee_id: Some(String::new()), ..new_task("t") };
    assert_eq!(fields_of(Task::create("a", LIST, bad, now()).expect_err("empty id")), ["assignee_id"]);
}
