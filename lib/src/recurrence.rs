//! RFC 5545 recurrence rules (`RRULE`), parsed and expanded by the `rrule` crate.
//!
//! A task's rule is anchored at its due time (the `DTSTART`) in the task's time
//! zone, so that "every day at 09:00 Europe/Berlin" stays at 09:00 across DST.
//! Hand-written calendars get the corners wrong (a monthly rule on the 31st skips
//! months without one); the crate does not.

use chrono::{DateTime, Datelike, Offset, TimeDelta, TimeZone, Utc};
use rrule::{Frequency, RRule, RRuleSet, Tz, Unvalidated};

/// The lock (see `Tx::lock_user`) that rolling a series forward and taking
/// that back both hold, keyed by the series id: one waits for the other, so a
/// completion and its reopening never both miss each other.
pub const SERIES_LOCK: &str = "series";

/// The longest rule text we accept; real rules are a few dozen characters.
pub const RULE_MAX_LEN: usize = 500;

/// The closest two occurrences of a series may be.
const MIN_SPACING: TimeDelta = TimeDelta::hours(1);
/// How many occurrences the spacing check expands.
const SPACING_SAMPLE: usize = 200;
/// The last year a due time may fall in (as the task rules say).
const LAST_YEAR: i32 = 9999;
/// Occurrences expanded from one anchor before the series is anchored again at
/// the last of them (the `rrule` crate expands from `DTSTART` every time).
const CHUNK: usize = 100_000;
/// The most occurrences a rule with COUNT may ask for: it is expanded from its
/// start in one chunk, since a COUNT counts from there.
pub const MAX_COUNT: u32 = CHUNK as u32;

/// A recurrence rule that was checked against its anchor.
#[derive(Debug, Clone)]
pub struct Recurrence {
    set: RRuleSet,
    /// The normalized rule and its zone, to anchor the series again further on.
    rule: String,
    tz: Tz,
}

/// Why a rule or time zone was refused, in words meant for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RecurrenceError(String);

/// Parses an IANA time zone name (`Europe/Berlin`).
pub fn parse_time_zone(name: &str) -> Result<chrono_tz::Tz, RecurrenceError> {
    name.parse::<chrono_tz::Tz>().map_err(|_| {
        RecurrenceError(format!("unknown time zone '{name}' (expected an IANA name such as Europe/Berlin)"))
    })
}

/// Returns the rule in its canonical text (without the `RRULE:` prefix).
pub fn normalize(rule: &str) -> Result<String, RecurrenceError> {
    let rule = rule.trim();
    let rule = rule.strip_prefix("RRULE:").or_else(|| rule.strip_prefix("rrule:")).unwrap_or(rule);
    if rule.is_empty() {
        return Err(RecurrenceError("must not be empty".into()));
    }
    if rule.len() > RULE_MAX_LEN {
        return Err(RecurrenceError(format!("must be at most {RULE_MAX_LEN} characters")));
    }
    if !rule.is_ascii() {
        // RFC 5545's grammar is ASCII, and the rrule crate panics on some
        // multi-byte input (found by `make fuzz`).
        return Err(RecurrenceError("must be ASCII text (RFC 5545)".into()));
    }
    if rule.contains(['\n', '\r']) {
        return Err(RecurrenceError(
            "must be a single RRULE; DTSTART comes from due_at and time_zone".into(),
        ));
    }
    let parsed: RRule<Unvalidated> =
        rule.parse().map_err(|e| RecurrenceError(format!("is not a valid RFC 5545 RRULE: {e}")))?;
    if matches!(parsed.get_freq(), Frequency::Secondly | Frequency::Minutely) {
        return Err(RecurrenceError("FREQ must be HOURLY or slower (DAILY, WEEKLY, MONTHLY, YEARLY)".into()));
    }
    if parsed.get_interval() == 0 {
        return Err(RecurrenceError("INTERVAL must be at least 1".into()));
    }
    match parsed.get_count() {
        Some(0) => {
            return Err(RecurrenceError(
                "COUNT must be at least 1 (a series has its first occurrence)".into(),
            ));
        }
        Some(count) if count > MAX_COUNT => {
            return Err(RecurrenceError(format!(
                "COUNT must be at most {MAX_COUNT}; leave it out for no end"
            )));
        }
        _ => {}
    }
    Ok(parsed.to_string())
}

impl Recurrence {
    /// Anchors `rule` at `start` in `time_zone` (UTC when `None`) and validates it.
    pub fn new(rule: &str, start: DateTime<Utc>, time_zone: Option<&str>) -> Result<Self, RecurrenceError> {
        let rule = normalize(rule)?;
        let tz = match time_zone {
            Some(name) => Tz::Tz(parse_time_zone(name)?),
            None => Tz::UTC,
        };
        let set = anchored(&rule, tz, start)?;
        let recurrence = Self { set, rule, tz };
        recurrence.check_spacing()?;
        Ok(recurrence)
    }

    /// "HOURLY or slower" is about the occurrences, not the FREQ word: BYHOUR,
    /// BYMINUTE and BYSECOND lists can expand a daily rule into one a second. The
    /// first [`SPACING_SAMPLE`] occurrences must lie at least [`MIN_SPACING`]
    /// apart (BY* lists repeat within each period, so a closer pair shows there).
    fn check_spacing(&self) -> Result<(), RecurrenceError> {
        let sample: Vec<DateTime<Utc>> =
            self.set.clone().into_iter().take(SPACING_SAMPLE).map(|t| t.with_timezone(&Utc)).collect();
        let closest = sample.windows(2).map(|pair| pair[1] - pair[0]).min();
        match closest {
            Some(gap) if gap < MIN_SPACING => Err(RecurrenceError(format!(
                "occurrences must be at least an hour apart; this rule repeats after {} seconds",
                gap.num_seconds()
            ))),
            _ => Ok(()),
        }
    }

    /// The first occurrence strictly after `after`, if the series has one.
    ///
    /// `after` is a parameter rather than the clock so that callers (and tests)
    /// decide what "now" is.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.next_after_in_chunks(after, CHUNK)
    }

    /// [`Self::next_after`], expanding at most `chunk` occurrences from one
    /// anchor. A series without COUNT whose chunk ends before `after` is anchored
    /// again at its last occurrence there, which yields the same occurrences from
    /// that one on; so a series begun long ago (hourly since 1900) goes on rather
    /// than end where an expansion limit happens to fall. A due time ends with
    /// year 9999 (RFC 3339 has four digits): so does the series, which bounds the
    /// work.
    fn next_after_in_chunks(&self, after: DateTime<Utc>, chunk: usize) -> Option<DateTime<Utc>> {
        // A COUNT counts from the start: such a series is expanded whole (its
        // COUNT is at most one chunk).
        let has_count = self.set.get_rrule().iter().any(|r| r.get_count().is_some());
        let start_offset = self.set.get_dt_start().offset().fix();
        let mut set = self.set.clone();
        'anchored: loop {
            for (expanded, t) in set.clone().limit().into_iter().enumerate() {
                let utc = t.with_timezone(&Utc);
                if utc.year() > LAST_YEAR {
                    return None;
                }
                if utc > after {
                    return Some(utc);
                }
                // Anchor again at an occurrence the expansion did not move (in a
                // DST gap or fold) and, while one comes within a second chunk, in
                // the start's UTC offset: the crate steps through local time, and
                // an anchor on the other side of a DST change would shift an
                // hourly series by the difference.
                let faithful = t.timezone().from_local_datetime(&t.naive_local()).single() == Some(t);
                let same_offset = t.offset().fix() == start_offset;
                if !has_count
                    && expanded + 1 >= chunk
                    && faithful
                    && (same_offset || expanded + 1 >= 2 * chunk)
                {
                    let next = anchored(&self.rule, self.tz, utc).ok()?;
                    if expanded > 0 {
                        set = next;
                        continue 'anchored;
                    }
                }
            }
            return None;
        }
    }
}

/// `rule` expanded from `start` in `tz`.
fn anchored(rule: &str, tz: Tz, start: DateTime<Utc>) -> Result<RRuleSet, RecurrenceError> {
    let parsed: RRule<Unvalidated> =
        rule.parse().map_err(|e| RecurrenceError(format!("is not a valid RFC 5545 RRULE: {e}")))?;
    parsed
        .build(start.with_timezone(&tz))
        .map_err(|e| RecurrenceError(format!("is not valid for this due time: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    use chrono::TimeZone;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).single().expect("valid time")
    }

    #[test]
    fn normalize_accepts_the_rrule_prefix() {
        assert_eq!(normalize("RRULE:FREQ=DAILY;COUNT=3").as_deref(), Ok("FREQ=DAILY;COUNT=3"));
    }

    #[test]
    fn normalize_rejects_garbage_with_the_parser_message() {
        let err = normalize("FREQ=SOMETIMES").expect_err("invalid");
        assert!(err.to_string().contains("not a valid RFC 5545 RRULE"), "{err}");
    }

    #[test]
    fn normalize_rejects_minutely_rules() {
        assert!(normalize("FREQ=MINUTELY").is_err());
        assert!(normalize("FREQ=SECONDLY").is_err());
    }

    #[test]
    fn rules_whose_occurrences_come_closer_than_an_hour_are_refused() {
        let minutes: Vec<String> = (0..60).map(|m| m.to_string()).collect();
        let seconds = minutes.join(",");
        let hours: Vec<String> = (0..24).map(|h| h.to_string()).collect();
        for rule in [
            format!("FREQ=DAILY;BYHOUR={};BYMINUTE={seconds};BYSECOND={seconds}", hours.join(",")),
            format!("FREQ=HOURLY;BYMINUTE={seconds}"),
            "FREQ=HOURLY;BYMINUTE=0,30".to_owned(),
        ] {
            let refused = Recurrence::new(&rule, utc(2026, 1, 1, 0, 0), None).expect_err(&rule);
            assert!(refused.to_string().contains("at least an hour apart"), "{refused}");
        }
        let hourly = format!("FREQ=DAILY;BYHOUR={}", hours.join(","));
        assert!(Recurrence::new(&hourly, utc(2026, 1, 1, 0, 0), None).is_ok(), "hourly is the limit");
        assert!(Recurrence::new("FREQ=HOURLY;INTERVAL=2", utc(2026, 1, 1, 0, 0), None).is_ok());
    }

    #[test]
    fn a_zero_interval_or_count_is_refused() {
        assert!(normalize("FREQ=DAILY;INTERVAL=0").expect_err("zero").to_string().contains("INTERVAL"));
        assert!(normalize("FREQ=DAILY;COUNT=0").expect_err("zero").to_string().contains("COUNT"));
        assert!(normalize("FREQ=DAILY;INTERVAL=1;COUNT=1").is_ok());
    }

    #[test]
    fn a_series_ends_with_the_year_9999() {
        let r = Recurrence::new("FREQ=YEARLY", utc(9999, 6, 1, 9, 0), None).expect("valid");
        assert_eq!(r.next_after(utc(9999, 6, 1, 9, 0)), None, "no occurrence in the year 10000");
        let r = Recurrence::new("FREQ=DAILY", utc(9999, 12, 30, 9, 0), None).expect("valid");
        assert_eq!(r.next_after(utc(9999, 12, 30, 9, 0)), Some(utc(9999, 12, 31, 9, 0)));
        assert_eq!(r.next_after(utc(9999, 12, 31, 9, 0)), None);
    }

    #[test]
    fn a_series_begun_more_than_a_chunk_ago_goes_on() {
        // Issue #13, item 7: hourly since 1900 is about 1.1 million occurrences
        // back; the series used to end silently at the 100,000th.
        let r = Recurrence::new("FREQ=HOURLY", utc(1900, 1, 1, 0, 30), None).expect("valid");
        assert_eq!(r.next_after(utc(2026, 12, 2, 20, 5)), Some(utc(2026, 12, 2, 20, 30)));
        let r = Recurrence::new("FREQ=DAILY", utc(1901, 1, 1, 8, 0), Some("Europe/Berlin")).expect("valid");
        assert_eq!(r.next_after(utc(2026, 12, 2, 20, 0)), Some(utc(2026, 12, 3, 8, 0)), "09:00 in Berlin");
    }

    #[test]
    fn anchoring_again_yields_the_same_occurrences() {
        // Tiny chunks anchor the series again every few occurrences; the answers
        // must be those of one long expansion, for rules whose phase comes from
        // the start (INTERVAL, WEEKLY without BYDAY, the 31st, DST, UNTIL).
        let cases = [
            ("FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,FR", utc(2026, 1, 2, 9, 0), None),
            ("FREQ=HOURLY;INTERVAL=5", utc(2026, 1, 1, 1, 0), Some("Europe/Berlin")),
            ("FREQ=MONTHLY", utc(2026, 1, 31, 9, 0), None),
            ("FREQ=DAILY", utc(2026, 3, 1, 1, 30), Some("Europe/Berlin")),
            ("FREQ=YEARLY;INTERVAL=2", utc(2028, 2, 29, 9, 0), None),
            ("FREQ=DAILY;UNTIL=20270101T000000Z", utc(2026, 1, 1, 9, 0), None),
        ];
        for (rule, start, zone) in cases {
            let r = Recurrence::new(rule, start, zone).expect(rule);
            let mut at = start;
            for step in 0..400 {
                let whole = r.next_after_in_chunks(at, CHUNK);
                assert_eq!(r.next_after_in_chunks(at, 3), whole, "{rule} at step {step} after {at}");
                match whole {
                    Some(next) => at = next + TimeDelta::days(step % 7),
                    None => break,
                }
            }
        }
    }

    #[test]
    fn a_count_above_the_chunk_is_refused_and_counts_from_the_start() {
        let err = normalize("FREQ=HOURLY;COUNT=100001").expect_err("too many");
        assert!(err.to_string().contains("at most 100000"), "{err}");
        let r = Recurrence::new("FREQ=DAILY;COUNT=3", utc(2026, 1, 1, 9, 0), None).expect("valid");
        assert_eq!(r.next_after_in_chunks(utc(2026, 1, 2, 9, 0), 2), Some(utc(2026, 1, 3, 9, 0)));
        assert_eq!(r.next_after_in_chunks(utc(2026, 1, 3, 9, 0), 2), None, "COUNT ends it");
    }

    #[test]
    fn normalize_rejects_an_embedded_dtstart() {
        assert!(normalize("DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY").is_err());
    }

    #[test]
    fn daily_rule_gives_the_next_day() {
        let r = Recurrence::new("FREQ=DAILY", utc(2026, 1, 1, 9, 0), None).expect("valid");
        assert_eq!(r.next_after(utc(2026, 1, 1, 9, 0)), Some(utc(2026, 1, 2, 9, 0)));
    }

    #[test]
    fn monthly_on_the_31st_skips_months_without_one() {
        let r = Recurrence::new("FREQ=MONTHLY;BYMONTHDAY=31", utc(2026, 1, 31, 9, 0), None).expect("valid");
        assert_eq!(r.next_after(utc(2026, 1, 31, 9, 0)), Some(utc(2026, 3, 31, 9, 0)));
    }

    #[test]
    fn count_ends_the_series() {
        let r = Recurrence::new("FREQ=DAILY;COUNT=2", utc(2026, 1, 1, 9, 0), None).expect("valid");
        assert_eq!(r.next_after(utc(2026, 1, 1, 9, 0)), Some(utc(2026, 1, 2, 9, 0)));
        assert_eq!(r.next_after(utc(2026, 1, 2, 9, 0)), None);
    }

    #[test]
    fn local_time_is_kept_across_a_dst_change() {
        // 09:00 in Berlin is 08:00 UTC in winter and 07:00 UTC in summer.
        let r = Recurrence::new("FREQ=DAILY", utc(2026, 3, 28, 8, 0), Some("Europe/Berlin")).expect("valid");
        assert_eq!(r.next_after(utc(2026, 3, 28, 8, 0)), Some(utc(2026, 3, 29, 7, 0)));
    }

    #[test]
    fn unknown_time_zones_are_refused() {
        let err = Recurrence::new("FREQ=DAILY", utc(2026, 1, 1, 9, 0), Some("Mars/Olympus"))
            .expect_err("unknown zone");
        assert!(err.to_string().contains("Mars/Olympus"), "{err}");
    }

    #[test]
    fn non_ascii_in_a_rule_is_refused_not_a_panic() {
        // Found by `make fuzz` (task_rules): the rrule crate sliced this
        // weekday inside a multi-byte character and panicked; under
        // panic = "abort" that would have killed the API.
        let found = ";FREQ=WEEKLY;BYDAY=MSU\u{5e8}E,FR\"z6INTERVAL+aFRE+=WE";
        let refused = normalize(found).expect_err("refused");
        assert!(refused.to_string().contains("ASCII"), "{refused}");
        assert!(normalize("FREQ=WEEKLY;BYDAY=MO\u{e9}").is_err());
    }
}
