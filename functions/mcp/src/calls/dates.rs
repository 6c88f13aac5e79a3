//! Dates as people say them: every date argument of a tool takes an RFC 3339
//! time or a phrase quick add reads ("tomorrow 9am", "next friday", "in 2
//! hours", "dec 24"), read in the user's saved time zone (what `user_info`
//! gives), and is handed on as RFC 3339 to the route it runs.

use api::AppState;
use api::error::ApiError;
use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value};

use super::{field, invalid_arguments};

/// What a date argument's schema says it takes.
pub const SPOKEN: &str = "An RFC 3339 time, or a phrase such as \"tomorrow 9am\", \"next friday\", \
                          \"in 2 hours\" or \"dec 24\", read in the user's time zone (see user_info).";

/// What the bounds of a look back take besides [`SPOKEN`]'s phrases.
pub const PAST: &str = "For looking back, \"today\", \"yesterday\" and a weekday (\"monday\": the last one; \
                        \"last monday\": the one before today) mean the start of that day, and \"3 days ago\" \
                        the moment then.";

/// Rewrites each of `names` in `args` that is a phrase into RFC 3339, read
/// as a due time is (ahead: "friday" is the coming one); refuses every one
/// that is neither, naming it. The user's zone is read only when a phrase
/// needs it.
pub(crate) async fn read_dates(
    state: &AppState,
    user: &str,
    args: &mut Map<String, Value>,
    names: &[&str],
) -> Result<(), ApiError> {
    read_with(state, user, args, names, api::quick_add::parse::when).await
}

/// [`read_dates`] for the bounds of a look back (what got done since when):
/// the [`PAST`] phrases first, then anything a due time takes.
pub(crate) async fn read_past_dates(
    state: &AppState,
    user: &str,
    args: &mut Map<String, Value>,
    names: &[&str],
) -> Result<(), ApiError> {
    read_with(state, user, args, names, |text, now| {
        past(text, now).or_else(|| api::quick_add::parse::when(text, now))
    })
    .await
}

/// A moment looking back, as [`PAST`] says, at `now` in the user's zone.
fn past(text: &str, now: DateTime<Tz>) -> Option<DateTime<Utc>> {
    let words: Vec<String> = text.split_whitespace().map(str::to_lowercase).collect();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    let days_back = match words.as_slice() {
        ["today"] => 0,
        ["yesterday"] => 1,
        [n, unit, "ago"] => {
            let n: i64 = n.parse().ok().filter(|n| (0..=10_000).contains(n))?;
            let step = match unit.trim_end_matches('s') {
                "minute" => Duration::minutes(n),
                "hour" => Duration::hours(n),
                "day" => Duration::days(n),
                "week" => Duration::weeks(n),
                _ => return None,
            };
            return Some((now - step).with_timezone(&Utc));
        }
        [day] => i64::from(days_since(day, now)?),
        ["last", day] => match days_since(day, now)? {
            0 => 7,
            n => i64::from(n),
        },
        _ => return None,
    };
    let date = now.date_naive() - Duration::days(days_back);
    let start = now.timezone().from_local_datetime(&date.and_time(NaiveTime::MIN)).earliest()?;
    Some(start.with_timezone(&Utc))
}

/// How many days ago it last was `day` (a weekday's name, or its first three
/// letters), counting today as 0.
fn days_since(day: &str, now: DateTime<Tz>) -> Option<u32> {
    const DAYS: [&str; 7] = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
    let wanted = DAYS.iter().position(|d| *d == day || (day.len() == 3 && d.starts_with(day)))? as u32;
    Some((now.weekday().num_days_from_monday() + 7 - wanted) % 7)
}

async fn read_with(
    state: &AppState,
    user: &str,
    args: &mut Map<String, Value>,
    names: &[&str],
    read: impl Fn(&str, DateTime<Tz>) -> Option<DateTime<Utc>>,
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
        match read(text, now.with_timezone(&tz)) {
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

/// [`spoken_dates`] for the bounds of a look back: [`PAST`] added to each
/// one's description.
pub fn past_dates(schema: Map<String, Value>, names: &[&str]) -> Map<String, Value> {
    let mut schema = spoken_dates(schema, names);
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        for name in names {
            if let Some(Value::Object(property)) = properties.get_mut(*name) {
                let said = property.get("description").and_then(Value::as_str).unwrap_or_default();
                let description = format!("{said} {PAST}");
                property.insert("description".into(), Value::String(description));
            }
        }
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Monday 7 December 2026, 10:30 in Berlin.
    fn monday() -> DateTime<Tz> {
        chrono_tz::Europe::Berlin.with_ymd_and_hms(2026, 12, 7, 10, 30, 0).single().expect("a time")
    }

    fn berlin(day: u32) -> DateTime<Utc> {
        chrono_tz::Europe::Berlin
            .with_ymd_and_hms(2026, 12, day, 0, 0, 0)
            .single()
            .expect("a time")
            .with_timezone(&Utc)
    }

    #[test]
    fn days_looking_back_start_at_midnight_in_the_user_s_zone() {
        assert_eq!(past("today", monday()), Some(berlin(7)));
        assert_eq!(past("Yesterday", monday()), Some(berlin(6)));
        assert_eq!(past("friday", monday()), Some(berlin(4)), "the last Friday");
        assert_eq!(past("fri", monday()), Some(berlin(4)));
        assert_eq!(past("monday", monday()), Some(berlin(7)), "today is Monday");
        assert_eq!(past("last monday", monday()), Some(berlin(7) - Duration::days(7)));
        assert_eq!(past("3 days ago", monday()), Some((monday() - Duration::days(3)).with_timezone(&Utc)));
        assert_eq!(past("2 hours ago", monday()), Some((monday() - Duration::hours(2)).with_timezone(&Utc)));
    }

    #[test]
    fn what_is_not_a_look_back_is_left_to_the_due_time_reading() {
        for text in ["next friday", "dec 1", "soon", "3 fortnights ago", "-1 days ago", "tuesday 9am"] {
            assert_eq!(past(text, monday()), None, "{text}");
        }
    }
}
