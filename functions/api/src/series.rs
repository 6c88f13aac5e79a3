//! Reopening a completed task of a series takes back the occurrence its
//! completion rolled forward to, when nobody has touched it: the user who
//! undoes a completion expects one open task, not the old and the next.
//! Under the series lock, which `task-completed` holds while it rolls the
//! series forward, so one of the two sees the other: either the next
//! occurrence exists and is taken back here, or `task-completed` finds the
//! task open again and does not create it. An occurrence someone changed,
//! completed, or gave a changed subtask is kept.

use todo_lib::event::{EventType, OutboxEvent, task_event};
use todo_lib::recurrence::SERIES_LOCK;
use todo_lib::store::Tx;
use todo_lib::task::Task;

use crate::AppState;
use crate::error::ApiError;
use crate::subtasks;

/// In `tx`, which reopens `completed`: deletes the untouched next occurrence
/// of its series (with the subtasks copied under it), each with its
/// `task.deleted`, and gives its time back to the series.
pub(crate) async fn take_back(
    state: &AppState,
    tx: &mut Tx,
    completed: &Task,
) -> Result<Vec<OutboxEvent>, ApiError> {
    let (Some(series), Some(due)) = (completed.series_id, completed.due_at) else { return Ok(Vec::new()) };
    if completed.recurrence.is_none() {
        return Ok(Vec::new());
    }
    tx.lock_user(SERIES_LOCK, &series.to_string()).await?;
    let Some((occurs_at, task_id)) = tx.next_reserved_occurrence(series, due).await? else {
        return Ok(Vec::new());
    };
    let Some(next) = tx.task_by_id(task_id).await? else {
        // Deleted by hand: the time is free for the next completion.
        tx.release_occurrence(series, occurs_at).await?;
        return Ok(Vec::new());
    };
    let beneath = subtasks::beneath_for_deletion(tx, &next).await?;
    let untouched = |task: &Task| task.version == 1 && !task.completed;
    if !untouched(&next) || !beneath.iter().all(untouched) {
        return Ok(Vec::new());
    }
    let now = chrono::Utc::now();
    let mut events = Vec::with_capacity(beneath.len() + 1);
    for gone in beneath.iter().chain([&next]) {
        tx.delete_task(gone).await?;
        let event = task_event(EventType::Deleted, gone, state.source, now, None)?;
        tx.write_event(&event, None).await?;
        events.push(event);
    }
    tx.release_occurrence(series, occurs_at).await?;
    tracing::info!(task_id = %completed.id, next_id = %next.id, "reopened: the next occurrence taken back");
    Ok(events)
}
