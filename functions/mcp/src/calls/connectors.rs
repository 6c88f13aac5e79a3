//! The `search` and `fetch` pair that ChatGPT's connectors and deep research
//! call: `search` finds the user's tasks by text (title and description, as
//! `list_tasks`'s `q`), most recently changed first; `fetch` gives one whole,
//! as a document. Each carries a URL that opens the task in the web app.

use api::AppState;
use api::error::ApiError;
use chrono::Utc;
use serde_json::{Map, Value, json};
use todo_lib::task::Task;

use super::{Outcome, line, no_more, take_id, take_text};

/// Results one search gives.
const RESULTS: u32 = 20;

fn url(state: &AppState, task: &Task) -> String {
    format!("{}/?task={}", state.mail.public_url(), task.id)
}

pub async fn search(state: &AppState, user: &str, mut args: Map<String, Value>) -> Result<Outcome, ApiError> {
    let query = take_text(&mut args, "query")?;
    no_more(args)?;
    let encoded: String = url::form_urlencoded::byte_serialize(query.trim().as_bytes()).collect();
    let raw = format!("q={encoded}&status=all&sort=updated&limit={RESULTS}");
    let page = api::tasks::page(state, user, api::extract::list_query(Some(&raw), Utc::now())?).await?;
    let results: Vec<Value> = page
        .items
        .iter()
        .map(|task| json!({"id": task.id, "title": task.title, "url": url(state, task)}))
        .collect();
    let mut text = match results.len() {
        0 => format!("No task matches \"{query}\"."),
        n => format!("{n} task{} match \"{query}\":", if n == 1 { "" } else { "s" }),
    };
    for task in &page.items {
        text.push_str(&format!("\n- {}", line(task)));
    }
    Outcome::new(&json!({"results": results}), text)
}

pub async fn fetch(state: &AppState, user: &str, mut args: Map<String, Value>) -> Result<Outcome, ApiError> {
    let id = take_id(&mut args, "id", "task")?;
    no_more(args)?;
    let task = api::tasks::get(state, user, id).await?;
    let mut text = task.title.clone();
    if !task.description.is_empty() {
        text.push_str(&format!("\n\n{}", task.description));
    }
    text.push_str(&format!("\n\n{}", line(&task)));
    let document = json!({
        "id": task.id,
        "title": task.title,
        "text": text,
        "url": url(state, &task),
        "metadata": {
            "status": if task.completed { "done" } else { "open" },
            "priority": task.priority,
            "due_at": task.due_at,
            "tags": task.tags,
            "list_id": task.list_id,
            "updated_at": task.updated_at,
        },
    });
    Outcome::new(&document, text)
}
