//! The user's tasks at a glance, as Markdown an assistant can show as it is:
//! what is overdue, due today and due in the coming week (in the user's time
//! zone), and each active list with its open tasks.

use std::fmt::Write as _;

use api::AppState;
use api::error::ApiError;
use chrono::{DateTime, Days, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value, json};
use todo_lib::task::Task;

use super::Outcome;

/// Tasks shown in each part, and lists shown.
const PART: u32 = 20;
const LISTS: usize = 50;

/// One task as a Markdown list item.
fn item(task: &Task, zone: Tz) -> String {
    let mut line = format!("- {}", task.title.replace(['\n', '\r'], " "));
    if let Some(due) = task.due_at {
        let _ = write!(line, " (due {})", due.with_timezone(&zone).format("%a %-d %b %H:%M"));
    }
    if !task.tags.is_empty() {
        let _ = write!(line, " #{}", task.tags.join(" #"));
    }
    line
}

async fn open(state: &AppState, user: &str, params: &str) -> Result<(Vec<Task>, bool), ApiError> {
    let raw = format!("status=open&sort=due&limit={PART}&{params}");
    let page = api::tasks::page(state, user, api::extract::list_query(Some(&raw), Utc::now())?).await?;
    Ok((page.items, page.next_cursor.is_some()))
}

fn stamp(t: DateTime<Utc>) -> String {
    url::form_urlencoded::byte_serialize(t.to_rfc3339().as_bytes()).collect()
}

fn section(markdown: &mut String, heading: &str, (tasks, more): &(Vec<Task>, bool), zone: Tz) {
    let _ = write!(markdown, "\n## {heading}\n\n");
    if tasks.is_empty() {
        markdown.push_str("Nothing.\n");
    }
    for task in tasks {
        let _ = writeln!(markdown, "{}", item(task, zone));
    }
    if *more {
        let _ = writeln!(markdown, "- …and more");
    }
}

pub async fn overview(state: &AppState, user: &str, args: Map<String, Value>) -> Result<Outcome, ApiError> {
    super::no_more(args)?;
    let zone = state.store.settings(user).await?.time_zone;
    let now = Utc::now();
    let end_of_today = super::workflows::end_of_day(now, zone);
    let in_a_week = end_of_today.checked_add_days(Days::new(7)).unwrap_or(end_of_today);
    let overdue = open(state, user, "overdue=true").await?;
    let today =
        open(state, user, &format!("due_after={}&due_before={}", stamp(now), stamp(end_of_today))).await?;
    let upcoming =
        open(state, user, &format!("due_after={}&due_before={}", stamp(end_of_today), stamp(in_a_week)))
            .await?;
    let lists = api::lists::all(state, user, false).await?;

    let mut markdown = format!(
        "# Overview\n\n{} in {}.\n",
        now.with_timezone(&zone).format("%A %-d %B %Y, %H:%M"),
        zone.name()
    );
    section(&mut markdown, "Overdue", &overdue, zone);
    section(&mut markdown, "Today", &today, zone);
    section(&mut markdown, "Coming week", &upcoming, zone);
    markdown.push_str("\n## Lists\n\n");
    let mut by_list = Vec::new();
    for list in lists.iter().take(LISTS) {
        let (tasks, more) = open(state, user, &format!("list={}", list.id)).await?;
        let count = if more { format!("{}+", tasks.len()) } else { tasks.len().to_string() };
        let _ = writeln!(
            markdown,
            "- **{}** ({}): {count} open",
            list.name.replace(['*', '\n'], " "),
            list.role.as_str()
        );
        by_list.push(json!({"id": list.id, "name": list.name, "role": list.role.as_str(), "open": count}));
    }
    if lists.len() > LISTS {
        let _ = writeln!(markdown, "- …and {} more lists", lists.len() - LISTS);
    }
    let structured = json!({
        "markdown": markdown,
        "time_zone": zone.name(),
        "overdue": overdue.0.len(),
        "today": today.0.len(),
        "coming_week": upcoming.0.len(),
        "lists": by_list,
    });
    Ok(Outcome { structured, text: markdown })
}
