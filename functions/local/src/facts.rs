//! The registry of functions, the one list of them: each one's name (the Dapr
//! app id and consumer group), how it is triggered, the topics it consumes, where
//! the local host mounts it and how it is built. The local host builds, mounts
//! and subscribes from it and lists it at `GET /functions`; `deploy-facts`
//! prints it for the offline validation of the Dapr and Kubernetes manifests
//! (scripts/validate-deploy.py).

use std::sync::Arc;

use axum::Router;
use secrecy::SecretString;
use serde::Serialize;
use todo_lib::event::EventType;
use todo_lib::publish::Publisher;
use todo_lib::store::Store;
use todo_lib::webhook::Deliverer;

/// How a function is triggered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Trigger {
    /// Users' HTTP requests.
    Http,
    /// CloudEvents from its topics (a Dapr subscription).
    Events,
    /// A cron binding.
    Cron,
}

#[derive(Debug, Clone, Serialize)]
pub struct Function {
    pub name: &'static str,
    pub trigger: Trigger,
    /// The event types it consumes.
    #[serde(skip)]
    pub accepts: &'static [EventType],
    /// Their topics.
    pub topics: Vec<&'static str>,
    /// The event types it writes to the outbox (and so publishes).
    #[serde(skip)]
    pub publishes: &'static [EventType],
    /// Its router, from what the local host wires it with.
    #[serde(skip)]
    pub build: fn(&Wiring) -> Router,
}

impl Function {
    /// Where the local host mounts it: the API at the root, the others each
    /// under `/functions/<name>`, exactly as it answers alone.
    pub fn path(&self) -> Option<String> {
        (self.trigger != Trigger::Http).then(|| crate::function_path(self.name))
    }
}

/// What the local host builds the functions from.
#[derive(Debug, Clone)]
pub struct Wiring {
    pub api: api::AppState,
    /// The MCP server's settings; it runs the API's use cases over `api`.
    pub mcp: mcp::McpConfig,
    pub store: Store,
    /// The in-process bus.
    pub publisher: Arc<dyn Publisher>,
    /// `APP_API_TOKEN`, guarding the function routes.
    pub token: Option<SecretString>,
    pub tick: cron_tick::TickSettings,
    pub deliverer: Deliverer,
    /// Where links in mails point (`PUBLIC_URL`).
    pub mail: todo_lib::mail::MailConfig,
}

fn function(
    name: &'static str,
    trigger: Trigger,
    (accepts, publishes): (&'static [EventType], &'static [EventType]),
    build: fn(&Wiring) -> Router,
) -> Function {
    let topics = accepts.iter().map(|ty| ty.topic()).collect();
    Function { name, trigger, accepts, topics, publishes, build }
}

use EventType::{Completed, Created, Deleted, Due, MemberAdded, MemberRemoved, Updated};

/// Every function of the system.
pub fn functions() -> Vec<Function> {
    vec![
        function(
            api::SOURCE,
            Trigger::Http,
            (&[], &[Created, Updated, Completed, Deleted, MemberAdded, MemberRemoved]),
            |w| api::app(w.api.clone()),
        ),
        // The API's use cases for AI assistants, at `/mcp`. Mounted beside the
        // API, which already answers the probes and unknown paths.
        function(
            mcp::NAME,
            Trigger::Http,
            (&[], &[Created, Updated, Completed, Deleted, MemberAdded, MemberRemoved]),
            |w| mcp::routes(w.api.clone(), w.mcp.clone()),
        ),
        function(task_created::NAME, Trigger::Events, (task_created::ACCEPTS, &[]), |w| {
            task_created::app(w.store.clone(), w.token.clone())
        }),
        function(task_changed::NAME, Trigger::Events, (task_changed::ACCEPTS, &[]), |w| {
            task_changed::app(w.store.clone(), w.token.clone())
        }),
        // The next occurrence of a recurring task.
        function(task_completed::NAME, Trigger::Events, (task_completed::ACCEPTS, &[Created]), |w| {
            task_completed::app(w.store.clone(), Some(Arc::clone(&w.publisher)), w.token.clone())
        }),
        function(task_due::NAME, Trigger::Events, (task_due::ACCEPTS, &[]), |w| {
            task_due::app_with_links(w.store.clone(), w.token.clone(), w.mail.clone())
        }),
        // Who joined or left a list.
        function(list_members::NAME, Trigger::Events, (list_members::ACCEPTS, &[]), |w| {
            list_members::app(w.store.clone(), w.token.clone())
        }),
        function(cron_tick::NAME, Trigger::Cron, (&[], &[Due]), |w| {
            let publisher = Some(Arc::clone(&w.publisher));
            cron_tick::app(w.store.clone(), publisher, w.tick.clone(), w.token.clone(), w.deliverer.clone())
        }),
    ]
}

/// Every topic some function publishes on, in the order of [`EventType::ALL`].
fn published_topics() -> Vec<&'static str> {
    let functions = functions();
    EventType::ALL
        .iter()
        .filter(|ty| functions.iter().any(|f| f.publishes.contains(ty)))
        .map(|ty| ty.topic())
        .collect()
}

/// The facts the deployment must agree with.
pub fn deploy_facts() -> serde_json::Value {
    serde_json::json!({
        "functions": functions(),
        "published_topics": published_topics(),
        "pubsub": todo_lib::config::DEFAULT_PUBSUB_NAME,
        "port": todo_lib::config::DEFAULT_PORT,
        "event_route": "/",
        "cron_route": "/",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_type_is_consumed_by_exactly_one_function() {
        for ty in EventType::ALL {
            let consumers: Vec<&str> =
                functions().iter().filter(|f| f.accepts.contains(&ty)).map(|f| f.name).collect();
            assert_eq!(consumers.len(), 1, "{ty:?} is consumed by {consumers:?}");
        }
    }

    #[test]
    fn the_facts_name_topics_as_the_code_publishes_them() {
        let facts = deploy_facts();
        assert_eq!(facts["published_topics"].as_array().map(Vec::len), Some(EventType::ALL.len()));
        let changed =
            facts["functions"].as_array().and_then(|f| f.iter().find(|f| f["name"] == "task-changed"));
        assert_eq!(
            changed.map(|f| f["topics"].clone()),
            Some(serde_json::json!(["task-updated", "task-deleted"]))
        );
    }
}
