//! Reads one line of quick-add text into the fields of a new task:
//! `Pay rent tomorrow 9am #home !high every month @household` is the title
//! "Pay rent", due tomorrow at 09:00 in the user's zone, tagged `home`, high
//! priority, repeating monthly, in the list "Household". Dates and times are read by the `interim` crate (the
//! English of the Linux `date` command: "tomorrow 9am", "friday 5pm",
//! "dec 24 10:00", "2026-12-24"); tags, priority, "in 2 hours" and the
//! recurrence phrases are read here.

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

/// The fields read, and which words gave each.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed {
    pub title: String,
    pub due_at: Option<DateTime<Utc>>,
    pub tags: Vec<String>,
    pub priority: Option<&'static str>,
    pub recurrence: Option<String>,
    /// The list an `@name` named.
    pub list_id: Option<Uuid>,
    /// Each recognised phrase as written, with the field it filled.
    pub recognized: Vec<(String, &'static str)>,
}

/// The time of day a date without one is due at.
const DEFAULT_HOUR: u32 = 9;

const WEEKDAYS: [(&str, &str); 7] = [
    ("monday", "MO"),
    ("tuesday", "TU"),
    ("wednesday", "WE"),
    ("thursday", "TH"),
    ("friday", "FR"),
    ("saturday", "SA"),
    ("sunday", "SU"),
];

/// Reads `text` as the user in zone `tz` means it at `now`, naming no list.
pub fn parse(text: &str, now: DateTime<Tz>) -> Parsed {
    parse_in(text, now, &[])
}

/// Reads `text` as [`parse`] does, and an `@name` as the list of `lists`
/// (id and name) it names: "@household", "@book-club" or "@Book_club" for
/// "Book club", letters and digits compared without case; the first list
/// named wins. An `@word` naming none of them stays in the title.
pub fn parse_in(text: &str, now: DateTime<Tz>, lists: &[(Uuid, String)]) -> Parsed {
    let mut parsed = Parsed::default();
    let mut words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
    take_list(&mut words, &mut parsed, lists);
    take_tags_and_priority(&mut words, &mut parsed);
    take_recurrence(&mut words, &mut parsed);
    take_due(&mut words, &mut parsed, now);
    if let Some(rule) = parsed.recurrence.as_deref() {
        parsed.due_at = Some(match parsed.due_at {
            // A due time on a day the rule skips ("every weekday" from a
            // Sunday) moves to the first day it allows, at the same time.
            Some(due) => on_a_day_of(rule, due.with_timezone(&now.timezone())),
            // A repeating task needs its first due time: the next one the rule allows.
            None => first_occurrence(rule, now),
        });
    }
    parsed.title = words.join(" ");
    parsed
}

/// `text` as one time, read as a due time is ("tomorrow 9am", "next friday",
/// "in 2 hours", "dec 24"; a date alone at 09:00), by the user in zone `tz`
/// at `now`; `None` when it is not one.
pub fn when(text: &str, now: DateTime<Tz>) -> Option<DateTime<Utc>> {
    let words: Vec<String> = text.split_whitespace().map(str::to_owned).collect();
    if words.is_empty() || words.len() > 6 {
        return None;
    }
    due_of(&words, now)
}

/// A name as `@` writes it: its letters and digits, in lower case.
fn handle(name: &str) -> String {
    name.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

fn take_list(words: &mut Vec<String>, parsed: &mut Parsed, lists: &[(Uuid, String)]) {
    words.retain(|word| {
        if parsed.list_id.is_some() {
            return true;
        }
        let Some(name) = word.strip_prefix('@').map(handle).filter(|n| !n.is_empty()) else {
            return true;
        };
        let Some((id, _)) = lists.iter().find(|(_, list)| handle(list) == name) else {
            return true;
        };
        parsed.list_id = Some(*id);
        parsed.recognized.push((word.clone(), "list_id"));
        false
    });
}

fn take_tags_and_priority(words: &mut Vec<String>, parsed: &mut Parsed) {
    words.retain(|word| {
        if let Some(tag) = word.strip_prefix('#').filter(|t| is_tag(t)) {
            let tag = tag.to_lowercase();
            if !parsed.tags.contains(&tag) {
                parsed.tags.push(tag);
            }
            parsed.recognized.push((word.clone(), "tags"));
            return false;
        }
        if let Some(priority) = word.strip_prefix('!').and_then(priority_of) {
            parsed.priority = Some(priority);
            parsed.recognized.push((word.clone(), "priority"));
            return false;
        }
        true
    });
}

fn is_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.chars().count() <= 40
        && tag.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '_')
}

fn priority_of(word: &str) -> Option<&'static str> {
    Some(match word.to_ascii_lowercase().as_str() {
        "urgent" | "1" => "urgent",
        "high" | "2" => "high",
        "medium" | "3" => "medium",
        "low" | "4" => "low",
        _ => return None,
    })
}

/// "every day", "daily", "every weekday", "every 2 weeks", "every monday and
/// friday", "monthly", ...: the rule, from the first such phrase.
fn take_recurrence(words: &mut Vec<String>, parsed: &mut Parsed) {
    let lower: Vec<String> =
        words.iter().map(|w| w.to_lowercase().trim_end_matches(',').to_owned()).collect();
    for start in 0..lower.len() {
        if let Some((rule, len)) = recurrence_at(&lower[start..]) {
            let phrase = words.drain(start..start + len).collect::<Vec<_>>().join(" ");
            parsed.recognized.push((phrase, "recurrence"));
            parsed.recurrence = Some(rule);
            return;
        }
    }
}

fn recurrence_at(words: &[String]) -> Option<(String, usize)> {
    let simple = |word: &str| {
        Some(match word {
            "hourly" | "hour" => "FREQ=HOURLY",
            "daily" | "day" => "FREQ=DAILY",
            "weekly" | "week" => "FREQ=WEEKLY",
            "monthly" | "month" => "FREQ=MONTHLY",
            "yearly" | "year" | "annually" => "FREQ=YEARLY",
            "weekday" => "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
            _ => return None,
        })
    };
    let first = words.first()?.as_str();
    if first != "every" {
        return matches!(first, "hourly" | "daily" | "weekly" | "monthly" | "yearly" | "annually")
            .then(|| (simple(first).unwrap_or_default().to_owned(), 1));
    }
    let second = words.get(1)?.as_str();
    if let Some(rule) = simple(second) {
        return Some((rule.to_owned(), 2));
    }
    if let Ok(n) = second.parse::<u32>()
        && (2..=999).contains(&n)
    {
        let unit = words.get(2)?.trim_end_matches('s');
        let rule = simple(unit).filter(|_| unit != "weekday")?;
        return Some((format!("{rule};INTERVAL={n}"), 3));
    }
    // Weekdays: "every monday", "every mon, wed and fri".
    let mut days = Vec::new();
    let mut len = 1;
    for word in &words[1..] {
        if let Some(day) = weekday_code(word) {
            if !days.contains(&day) {
                days.push(day);
            }
            len += 1;
        } else if word == "and" && !days.is_empty() {
            len += 1;
        } else {
            break;
        }
    }
    if words.get(len - 1).is_some_and(|w| w == "and") {
        len -= 1;
    }
    (!days.is_empty()).then(|| (format!("FREQ=WEEKLY;BYDAY={}", days.join(",")), len))
}

fn weekday_code(word: &str) -> Option<&'static str> {
    let word = word.trim_end_matches(',');
    WEEKDAYS
        .iter()
        .find(|(name, _)| word == *name || word == &name[..3] || word.strip_suffix('s') == Some(name))
        .map(|(_, code)| *code)
}

/// The due time: the longest run of words that reads as one, taken out of the
/// title with the "at", "on", "by" or "due" before it.
fn take_due(words: &mut Vec<String>, parsed: &mut Parsed, now: DateTime<Tz>) {
    let n = words.len();
    for len in (1..=n.min(6)).rev() {
        // Later phrases first: titles rarely end in a word that reads as a date.
        for start in (0..=n - len).rev() {
            let phrase = &words[start..start + len];
            if len == n {
                continue; // something must be left for the title
            }
            let Some(due) = due_of(phrase, now) else { continue };
            let mut from = start;
            if from > 0 && ["at", "on", "by", "due"].contains(&words[from - 1].to_lowercase().as_str()) {
                from -= 1;
            }
            let written = words.drain(from..start + len).collect::<Vec<_>>().join(" ");
            parsed.recognized.push((written, "due_at"));
            parsed.due_at = Some(due);
            return;
        }
    }
}

/// `phrase` as a due time, if it reads as one and says enough to be meant as one.
fn due_of(phrase: &[String], now: DateTime<Tz>) -> Option<DateTime<Utc>> {
    let lower: Vec<String> = phrase.iter().map(|w| w.to_lowercase()).collect();
    if let Some(due) = relative(&lower, now) {
        return Some(due);
    }
    if !is_dateish(&lower) {
        return None;
    }
    // "tomorrow at 9am" reads as "tomorrow 9am"; "noon" as "12:00". The date
    // goes before the time whichever way round it was written ("3pm
    // tomorrow"), and "next monday" is the coming Monday, as on a calendar.
    let words: Vec<&str> = lower
        .iter()
        .filter(|w| *w != "at")
        .map(|w| match w.as_str() {
            "noon" => "12:00",
            "midnight" => "00:00",
            "tonight" => "today 8pm",
            other => other,
        })
        .collect();
    let words: Vec<&str> = words
        .iter()
        .enumerate()
        .filter(|(i, w)| !(**w == "next" && words.get(i + 1).is_some_and(|d| weekday_code(d).is_some())))
        .map(|(_, w)| *w)
        .collect();
    let (times, dates): (Vec<&str>, Vec<&str>) = words.iter().partition(|w| is_time(w));
    let text = dates.into_iter().chain(times).collect::<Vec<_>>().join(" ");
    let due = interim::parse_date_string(&text, now, interim::Dialect::Uk).ok()?;
    let has_time = lower.iter().any(|w| is_time(w)) || text.contains("8pm");
    let has_date = lower.iter().any(|w| !is_time(w) && w != "at");
    let due = if has_time {
        due
    } else {
        now.timezone()
            .from_local_datetime(&due.date_naive().and_time(NaiveTime::from_hms_opt(DEFAULT_HOUR, 0, 0)?))
            .earliest()?
    };
    // A time alone that has passed today means the next one.
    let due = if has_date || due > now { due } else { due + Duration::days(1) };
    Some(due.with_timezone(&Utc))
}

/// "in 2 hours", "in 30 minutes", "in 3 days", "in 1 week".
fn relative(words: &[String], now: DateTime<Tz>) -> Option<DateTime<Utc>> {
    let [word_in, n, unit] = words else { return None };
    if word_in != "in" {
        return None;
    }
    let n: i64 = n.parse().ok().filter(|n| (1..=1000).contains(n))?;
    let step = match unit.trim_end_matches('s') {
        "min" | "minute" => Duration::minutes(n),
        "hour" | "hr" => Duration::hours(n),
        "day" => Duration::days(n),
        "week" => Duration::weeks(n),
        _ => return None,
    };
    Some((now + step).with_timezone(&Utc))
}

/// Whether the words say enough to be meant as a due time: a time of day
/// ("9am", "17:00"), a date with digits ("2026-12-24", "24/12"), "today",
/// "tomorrow", a weekday's full name, or a day with its month ("dec 24").
/// Single words such as "sun", "may" or "1984" are too often part of a title.
fn is_dateish(words: &[String]) -> bool {
    let month =
        words.iter().any(|w| MONTHS.iter().any(|m| w == m || (w.len() >= 3 && m.starts_with(w.as_str()))));
    let day = words.iter().any(|w| {
        let digits = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        (1..=2).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit())
    });
    month && day
        || words.iter().any(|w| {
            is_time(w)
                || (w.contains(['-', '/']) && w.chars().any(|c| c.is_ascii_digit()))
                || ["today", "tomorrow"].contains(&w.as_str())
                || WEEKDAYS.iter().any(|(name, _)| name == w)
        })
}

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

fn is_time(word: &str) -> bool {
    let w = word.trim_end_matches("am").trim_end_matches("pm");
    let digits = w.split(':').all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    digits && (word.ends_with("am") || word.ends_with("pm") || word.contains(':'))
        || ["noon", "midnight", "tonight"].contains(&word)
}

/// `due`, or the first day after it that `rule` allows (its `BYDAY`), at
/// the same time of day in the user's zone.
fn on_a_day_of(rule: &str, due: DateTime<Tz>) -> DateTime<Utc> {
    let days = by_day(rule);
    for offset in 0..7 {
        let date = due.date_naive() + Duration::days(offset);
        let code = WEEKDAYS[date.weekday().num_days_from_monday() as usize].1;
        if (days.is_empty() || days.contains(&code))
            && let Some(moved) = due.timezone().from_local_datetime(&date.and_time(due.time())).earliest()
        {
            return moved.with_timezone(&Utc);
        }
    }
    due.with_timezone(&Utc)
}

/// The weekdays of `rule`'s `BYDAY`, if it has one.
fn by_day(rule: &str) -> Vec<&str> {
    rule.split(';')
        .find_map(|part| part.strip_prefix("BYDAY="))
        .map(|days| days.split(',').collect())
        .unwrap_or_default()
}

/// The first due time of a rule given without one: today (or the first of
/// its weekdays) at the default hour, or the next such day once that has passed.
fn first_occurrence(rule: &str, now: DateTime<Tz>) -> DateTime<Utc> {
    let days = by_day(rule);
    let at = |date: chrono::NaiveDate| {
        now.timezone()
            .from_local_datetime(
                &date.and_time(NaiveTime::from_hms_opt(DEFAULT_HOUR, 0, 0).unwrap_or_default()),
            )
            .earliest()
    };
    for offset in 0..8 {
        let date = now.date_naive() + Duration::days(offset);
        let code = WEEKDAYS[date.weekday().num_days_from_monday() as usize].1;
        if (days.is_empty() || days.contains(&code))
            && let Some(due) = at(date).filter(|due| *due > now)
        {
            return due.with_timezone(&Utc);
        }
    }
    (now + Duration::days(1)).with_timezone(&Utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sunday 6 December 2026, 10:30 in Paris.
    fn now() -> DateTime<Tz> {
        chrono_tz::Europe::Paris.with_ymd_and_hms(2026, 12, 6, 10, 30, 0).single().expect("a time")
    }

    fn paris(y: i32, m: u32, d: u32, h: u32, min: u32) -> Option<DateTime<Utc>> {
        chrono_tz::Europe::Paris.with_ymd_and_hms(y, m, d, h, min, 0).single().map(|t| t.with_timezone(&Utc))
    }

    #[test]
    fn the_example_of_the_issue_fills_every_field() {
        let p = parse("Pay rent tomorrow 9am #home !high every month", now());
        assert_eq!(p.title, "Pay rent");
        assert_eq!(p.due_at, paris(2026, 12, 7, 9, 0));
        assert_eq!(p.tags, ["home"]);
        assert_eq!(p.priority, Some("high"));
        assert_eq!(p.recurrence.as_deref(), Some("FREQ=MONTHLY"));
        let fields: Vec<&str> = p.recognized.iter().map(|(_, f)| *f).collect();
        assert_eq!(fields, ["tags", "priority", "recurrence", "due_at"]);
        assert_eq!(p.recognized[3].0, "tomorrow 9am");
    }

    #[test]
    fn an_at_name_picks_the_list_it_names() {
        let (home, club) = (Uuid::from_u128(1), Uuid::from_u128(2));
        let lists = [(home, "Household".to_owned()), (club, "Book club".to_owned())];
        for (text, title, list) in [
            ("Buy milk @household", "Buy milk", Some(home)),
            ("@Book_club Read chapter 3", "Read chapter 3", Some(club)),
            ("Read chapter 3 @book-club @household", "Read chapter 3 @household", Some(club)),
            ("Mail them @nobody", "Mail them @nobody", None),
            ("Ask bob@example.com @", "Ask bob@example.com @", None),
        ] {
            let p = parse_in(text, now(), &lists);
            assert_eq!((p.title.as_str(), p.list_id), (title, list), "{text}");
        }
        let p = parse_in("Buy milk @household", now(), &lists);
        assert_eq!(p.recognized, [("@household".to_owned(), "list_id")]);
        assert_eq!(parse("Buy milk @household", now()).title, "Buy milk @household", "no lists, no list");
    }

    #[test]
    fn dates_and_times_as_people_write_them() {
        for (text, title, due) in [
            ("Call mum at 5pm", "Call mum", paris(2026, 12, 6, 17, 0)),
            ("Call mum tomorrow at 5pm", "Call mum", paris(2026, 12, 7, 17, 0)),
            ("Gym 9am", "Gym", paris(2026, 12, 7, 9, 0)), // 9am has passed today
            ("Report friday", "Report", paris(2026, 12, 11, 9, 0)),
            ("Report on friday 3pm", "Report", paris(2026, 12, 11, 15, 0)),
            ("Gift by dec 24", "Gift", paris(2026, 12, 24, 9, 0)),
            ("Taxes 2027-04-15 10:00", "Taxes", paris(2027, 4, 15, 10, 0)),
            ("Tea in 2 hours", "Tea", paris(2026, 12, 6, 12, 30)),
            ("Lunch tomorrow noon", "Lunch", paris(2026, 12, 7, 12, 0)),
            ("Dinner tonight", "Dinner", paris(2026, 12, 6, 20, 0)),
            ("Read 12 pages", "Read 12 pages", None),
            // The time before the date, as people also write it.
            ("Meeting with Sam at 3pm tomorrow", "Meeting with Sam", paris(2026, 12, 7, 15, 0)),
            ("Meeting with Sam 3pm tomorrow", "Meeting with Sam", paris(2026, 12, 7, 15, 0)),
            // Today is a Sunday: "next monday" is tomorrow, as on a calendar.
            ("Dentist next monday", "Dentist", paris(2026, 12, 7, 9, 0)),
            ("Dentist next monday 4pm", "Dentist", paris(2026, 12, 7, 16, 0)),
            ("Dentist monday", "Dentist", paris(2026, 12, 7, 9, 0)),
        ] {
            let p = parse(text, now());
            assert_eq!((p.title.as_str(), p.due_at), (title, due), "{text}");
        }
    }

    #[test]
    fn words_that_only_look_like_dates_stay_in_the_title() {
        for text in ["Buy sun cream", "March on", "May the fourth", "Read 1984", "tomorrow"] {
            let p = parse(text, now());
            if text == "tomorrow" {
                assert_eq!(p.title, "tomorrow", "a title is never left empty");
            } else {
                assert_eq!((p.title.as_str(), p.due_at), (text, None), "{text}");
            }
        }
    }

    #[test]
    fn recurrences_and_their_first_due_time() {
        for (text, rule, due) in [
            ("Standup every weekday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", paris(2026, 12, 7, 9, 0)),
            ("Water plants every mon and thu", "FREQ=WEEKLY;BYDAY=MO,TH", paris(2026, 12, 7, 9, 0)),
            ("Backup every 2 weeks", "FREQ=WEEKLY;INTERVAL=2", paris(2026, 12, 7, 9, 0)),
            ("Stretch daily 4pm", "FREQ=DAILY", paris(2026, 12, 6, 16, 0)),
            ("Review every sunday", "FREQ=WEEKLY;BYDAY=SU", paris(2026, 12, 13, 9, 0)),
            // A due day the rule skips moves to the first day it allows.
            (
                "Standup every weekday today 4pm",
                "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
                paris(2026, 12, 7, 16, 0),
            ),
            (
                "Standup every weekday tomorrow 9am",
                "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
                paris(2026, 12, 7, 9, 0),
            ),
            ("Swim every tue and thu dec 10 7am", "FREQ=WEEKLY;BYDAY=TU,TH", paris(2026, 12, 10, 7, 0)),
        ] {
            let p = parse(text, now());
            assert_eq!((p.recurrence.as_deref(), p.due_at), (Some(rule), due), "{text}");
        }
    }

    #[test]
    fn the_time_before_the_date_is_read_in_the_users_zone() {
        // Sunday 21:00 in Kolkata: 15:00 today has passed, tomorrow's has not.
        let kolkata =
            chrono_tz::Asia::Kolkata.with_ymd_and_hms(2026, 12, 6, 21, 0, 0).single().expect("time");
        let p = parse("Meeting with Sam at 3pm tomorrow", kolkata);
        let expected =
            chrono_tz::Asia::Kolkata.with_ymd_and_hms(2026, 12, 7, 15, 0, 0).single().expect("time");
        assert_eq!((p.title.as_str(), p.due_at), ("Meeting with Sam", Some(expected.with_timezone(&Utc))));
    }

    #[test]
    fn a_whole_phrase_reads_as_one_time_or_not_at_all() {
        assert_eq!(when("tomorrow 9am", now()), paris(2026, 12, 7, 9, 0));
        assert_eq!(when("  Next Friday ", now()), when("friday", now()));
        assert_eq!(when("in 2 hours", now()), Some(now().with_timezone(&Utc) + Duration::hours(2)));
        for not in ["", "buy milk", "sometime soon", "in 2 fortnights", "1 2 3 4 5 6 7"] {
            assert_eq!(when(not, now()), None, "{not:?}");
        }
    }

    #[test]
    fn tags_and_priorities() {
        let p = parse("Fix #Work #work-items !1 bug #", now());
        assert_eq!(p.title, "Fix bug #");
        assert_eq!(p.tags, ["work", "work-items"]);
        assert_eq!(p.priority, Some("urgent"));
        assert_eq!(parse("x !nope", now()).title, "x !nope");
    }
}
