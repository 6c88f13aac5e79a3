//! Validation and RRULE: any JSON becomes a task or a list of errors; an
//! accepted task keeps every rule (title, tags, reminder), and a recurring one
//! rolls forward to a later due time, or ends. Any string as an RRULE is a rule
//! or an error, never a crash or a hang.

#![no_main]

use arbitrary::Arbitrary;
use chrono::{TimeZone, Utc};
use libfuzzer_sys::fuzz_target;
use todo_lib::recurrence::Recurrence;
use todo_lib::task::{NewTask, Task};

#[derive(Debug, Arbitrary)]
struct Input {
    json: String,
    rule: String,
    zone: Option<String>,
    start: i32,
}

fuzz_target!(|input: Input| {
    let now = Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).single().expect("time");
    if let Ok(new) = serde_json::from_str::<NewTask>(&input.json)
        && let Ok(task) = Task::create("fuzz", new.list_id.unwrap_or_default(), new, now)
    {
        assert!(!task.title.trim().is_empty() && task.title.chars().count() <= 200, "{task:?}");
        assert!(task.tags.len() <= todo_lib::task::TAGS_MAX, "{task:?}");
        assert!(task.remind_at.is_none() || task.due_at.is_some(), "{task:?}");
        if let Some(next) = task.next_occurrence(now) {
            assert!(next.due_at > task.due_at, "{task:?} -> {next:?}");
            assert_eq!(next.series_id, task.series_id.or(Some(task.id)), "{task:?} -> {next:?}");
            assert_eq!(next.list_id, task.list_id, "{task:?} -> {next:?}");
        }
    }
    let start = now + chrono::Duration::minutes(i64::from(input.start));
    if let Ok(rule) = Recurrence::new(&input.rule, start, input.zone.as_deref())
        && let Some(next) = rule.next_after(start)
    {
        assert!(next > start);
    }
});
