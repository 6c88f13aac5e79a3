//! The AsyncAPI 3.0 document of the events, generated from the registry of
//! functions ([`crate::facts`]) and the Rust types: one channel per topic, each
//! with its one message (the CloudEvent envelope in structured mode, its `data`
//! schema derived from `TaskEventData`, or `MemberEventData` for a membership
//! event, by utoipa), a `send` operation for each
//! function that publishes it and a `receive` operation for each that consumes
//! it. `docs/asyncapi.json` holds it, kept in step by a test; the API serves it
//! at `/asyncapi.json`; `make test` validates it with the AsyncAPI project's
//! own parser (`scripts/validate-asyncapi.mjs`).

use serde_json::{Map, Value, json};
use todo_lib::event::{DATA_SCHEMA, EventType, MEMBER_DATA_SCHEMA, MemberEventData, TaskEventData};
use utoipa::{PartialSchema, ToSchema};

use crate::facts::functions;

/// The document, as `docs/asyncapi.json` holds it.
pub fn document() -> Value {
    let registry = functions();
    let mut channels = Map::new();
    let mut operations = Map::new();
    let mut messages = Map::new();
    for ty in EventType::ALL {
        let (topic, name) = (ty.topic(), ty.as_str());
        channels.insert(
            topic.into(),
            json!({
                "address": topic,
                "description": format!("Kafka topic `{topic}`: every `{name}` event, keyed by {} id.", about(ty)),
                "messages": { name: { "$ref": format!("#/components/messages/{name}") } },
            }),
        );
        messages.insert(name.into(), message(ty));
        let message_ref = json!([{ "$ref": format!("#/channels/{topic}/messages/{name}") }]);
        for function in &registry {
            let (sends, receives) = (function.publishes.contains(&ty), function.accepts.contains(&ty));
            for (action, yes) in [("send", sends), ("receive", receives)] {
                if yes {
                    operations.insert(
                        format!("{}.{action}.{topic}", function.name),
                        json!({
                            "action": action,
                            "channel": { "$ref": format!("#/channels/{topic}") },
                            "messages": message_ref,
                            "summary": format!("{} {action}s {name}", function.name),
                        }),
                    );
                }
            }
        }
    }
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "Todo events",
            "version": todo_lib::event::DATA_VERSION.to_string(),
            "description": "The facts the Todo backend emits: CloudEvents 1.0 in structured JSON, \
                written to the outbox in the transaction of their cause and published through Dapr \
                pub/sub, one Kafka topic per type. Consumers must ignore fields they do not know.",
        },
        "defaultContentType": "application/cloudevents+json",
        "channels": channels,
        "operations": operations,
        "components": { "messages": messages, "schemas": schemas() },
    })
}

/// What an event of `ty` is about: its subject and record key.
fn about(ty: EventType) -> &'static str {
    if ty.is_task() { "task" } else { "list" }
}

/// The message of `ty`: its CloudEvent envelope.
fn message(ty: EventType) -> Value {
    let name = ty.as_str();
    let (schema, data) = if ty.is_task() {
        (DATA_SCHEMA, TaskEventData::name())
    } else {
        (MEMBER_DATA_SCHEMA, MemberEventData::name())
    };
    json!({
        "name": name,
        "title": name,
        "contentType": "application/cloudevents+json",
        "payload": {
            "type": "object",
            "required": ["specversion", "id", "source", "type", "subject", "time", "datacontenttype", "dataschema", "data"],
            "properties": {
                "specversion": { "const": "1.0" },
                "id": { "type": "string", "format": "uuid", "description": "The outbox row id: stable across republishes, the consumers' idempotency key and the webhook-id." },
                "source": { "type": "string", "description": "The producing function." },
                "type": { "const": name },
                "subject": { "type": "string", "format": "uuid", "description": format!("The {} id.", about(ty)) },
                "time": { "type": "string", "format": "date-time" },
                "datacontenttype": { "const": "application/json" },
                "dataschema": { "const": schema },
                "traceparent": { "type": "string", "description": "W3C trace context of the cause." },
                "data": { "$ref": format!("#/components/schemas/{data}") },
            },
        },
    })
}

/// `TaskEventData`, `MemberEventData` and every schema they refer to, as
/// utoipa derives them.
fn schemas() -> Value {
    let mut all = vec![
        (TaskEventData::name().into_owned(), TaskEventData::schema()),
        (MemberEventData::name().into_owned(), MemberEventData::schema()),
    ];
    TaskEventData::schemas(&mut all);
    MemberEventData::schemas(&mut all);
    let mut schemas = Map::new();
    for (name, schema) in all {
        schemas.insert(name, serde_json::to_value(schema).unwrap_or(Value::Null));
    }
    Value::Object(schemas)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn committed() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/asyncapi.json")
    }

    /// `UPDATE_ASYNCAPI=1 cargo test -p local asyncapi` rewrites the file.
    #[test]
    fn docs_asyncapi_json_is_the_generated_document() {
        let generated = format!("{:#}\n", document());
        if std::env::var_os("UPDATE_ASYNCAPI").is_some() {
            std::fs::write(committed(), &generated).expect("docs/asyncapi.json is written");
        }
        let on_disk = std::fs::read_to_string(committed()).expect("docs/asyncapi.json exists");
        assert!(
            on_disk == generated,
            "docs/asyncapi.json is stale: run `UPDATE_ASYNCAPI=1 cargo test -p local asyncapi`"
        );
    }

    #[test]
    fn every_topic_is_sent_by_a_function_and_received_by_one() {
        let doc = document();
        let operations = doc["operations"].as_object().expect("operations");
        for ty in EventType::ALL {
            let on = |action: &str| {
                operations
                    .values()
                    .filter(|op| {
                        op["action"] == action
                            && op["channel"]["$ref"] == format!("#/channels/{}", ty.topic())
                    })
                    .count()
            };
            assert!(on("send") >= 1, "{ty:?} has a publisher");
            assert_eq!(on("receive"), 1, "{ty:?} has one consumer");
        }
        assert!(doc["components"]["schemas"]["Task"].is_object(), "the task schema is included");
    }
}
