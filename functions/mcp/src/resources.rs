//! The user's open tasks as a resource, for clients that attach context
//! rather than call a tool: the first page of `GET /v1/tasks?status=open&sort=due`.

use api::AppState;
use api::error::ApiError;
use api::extract::list_query;
use chrono::Utc;
use rmcp::model::{Resource, ResourceContents};

/// The one resource's address.
pub const OPEN_TASKS: &str = "todo://tasks/open";

pub fn all() -> Vec<Resource> {
    vec![
        Resource::new(OPEN_TASKS, "open-tasks")
            .with_title("Open tasks")
            .with_description("The user's open tasks, soonest due first (at most 200), as the API lists them")
            .with_mime_type("application/json"),
    ]
}

/// The contents of `uri` for `user`; `None` for an address this server does not have.
pub async fn read(state: &AppState, user: &str, uri: &str) -> Result<Option<ResourceContents>, ApiError> {
    if uri != OPEN_TASKS {
        return Ok(None);
    }
    let query = list_query(Some("status=open&sort=due&limit=200"), Utc::now())?;
    let page = api::tasks::page(state, user, query).await?;
    let text = serde_json::to_string(&page).map_err(|e| ApiError::Internal(e.into()))?;
    Ok(Some(ResourceContents::TextResourceContents {
        uri: uri.to_owned(),
        mime_type: Some("application/json".into()),
        text,
        meta: None,
    }))
}
