//! Dates as people say them: every date argument of a tool takes an RFC 3339
//! time or a phrase quick add reads ("tomorrow 9am", "next friday", "in 2
//! hours", "dec 24"), read in the user's saved time zone (what `user_info`
//! gives), and is handed on as RFC 3339 to the route it runs.

use api::AppState;
use api::error::ApiError;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::{field, invalid_arguments};

/// What a date argument's schema says it takes.
pub const SPOKEN: &str = "An RFC 3339 time, or a phrase such as \"tomorrow 9am\", \"next friday\", \
                          \"in 2 hours\" or \"dec 24\", read in the user's time zone (see user_info).";

/// Rewrites each of `names` in `args` that is a phrase into RFC 3339; refuses
/// every one that is neither, naming it. The user's zone is read only when a
/// phrase needs it.
pub(crate) async fn read_dates(
    state: &AppState,
    user: &str,
    args: &mut Map<String, Value>,
    names: &[&str],
) -> Result<(), ApiError> {
    let mut zone = None;
    let mut errors = Vec::new();
    let now = Utc::now();
    for name in names {
        let Some(Value::String(text)) = args.get(*name) else { continue };
        if DateTime::parse_from_rfc3339(text.trim()).is_ok() {
            continue;
        }
        let tz = match zone {
            Some(tz) => tz,
            None => *zone.insert(state.store.settings(user).await?.time_zone),
        };
        match api::quick_add::parse::when(text, now.with_timezone(&tz)) {
            Some(at) => {
                args.insert((*name).to_owned(), Value::String(at.to_rfc3339()));
            }
            None => errors.push(field(
                name,
                format!(
                    "\"{text}\" is neither an RFC 3339 time nor a date read as people say them \
                     (\"tomorrow 9am\", \"next friday\", \"in 2 hours\")"
                ),
            )),
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    Err(invalid_arguments("some dates could not be read", errors))
}

/// `schema` with each of `names` among its properties taking phrases too: no
/// `format: date-time`, and [`SPOKEN`] in its description.
pub fn spoken_dates(mut schema: Map<String, Value>, names: &[&str]) -> Map<String, Value> {
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for name in names {
            if let Some(Value::Object(property)) = properties.get_mut(*name) {
                property.remove("format");
                for alternatives in ["oneOf", "anyOf"] {
                    if let Some(Value::Array(options)) = property.get_mut(alternatives) {
                        for option in options.iter_mut().filter_map(Value::as_object_mut) {
                            option.remove("format");
                        }
                    }
                }
                let said = property.get("description").and_then(Value::as_str).unwrap_or_default();
                let description =
                    if said.is_empty() { SPOKEN.to_owned() } else { format!("{said} {SPOKEN}") };
                property.insert("description".into(), Value::String(description));
            }
        }
    }
    schema
}
