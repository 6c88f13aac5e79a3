//! Each user's notification settings: their time zone, the address mail goes
//! to (only once they have confirmed it), which channels each kind of notice
//! goes to, and quiet hours in their zone, during which e-mail and push wait.
//!
//! A user who never saved settings has [`Settings::defaults`]: UTC, no
//! address, reminders in the app and to their webhooks, no quiet hours.

use chrono::{DateTime, Duration, NaiveTime, SubsecRound, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::task::ValidationErrors;

/// The longest address accepted (RFC 5321's limit on a path).
pub const EMAIL_MAX_CHARS: usize = 254;

/// Where one kind of notice goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Channels {
    /// Shown in the app: its notifications and its live stream.
    pub in_app: bool,
    /// Mailed to the user's confirmed address.
    pub email: bool,
    /// Pushed to each browser the user subscribed (Web Push).
    pub push: bool,
    /// Sent to the user's webhooks as `task.due` events.
    pub webhooks: bool,
}

/// Which channels each kind of notice goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeChannels {
    /// A task's reminder, when it is due (to its assignee, else its creator).
    pub reminders: Channels,
}

/// A daily span of wall-clock time in the user's zone, `start` included and
/// `end` not; it runs past midnight when `end` is earlier than `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuietHours {
    /// `HH:MM`, 24-hour clock.
    #[schema(value_type = String, example = "22:00")]
    #[serde(with = "hh_mm")]
    pub start: NaiveTime,
    /// `HH:MM`, 24-hour clock.
    #[schema(value_type = String, example = "07:00")]
    #[serde(with = "hh_mm")]
    pub end: NaiveTime,
}

/// A user's settings as stored and shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Settings {
    #[serde(skip)]
    pub user_id: String,
    /// An IANA time zone name: quiet hours, and the times in mails, are in it.
    #[schema(value_type = String, example = "Europe/Berlin")]
    #[serde(serialize_with = "zone_name")]
    pub time_zone: Tz,
    /// Where mail goes, once confirmed; `null` for none.
    pub email: Option<String>,
    /// Whether the address was confirmed by following the link mailed to
    /// it. Until it is, only that confirmation is sent to it.
    pub email_verified: bool,
    pub channels: NoticeChannels,
    /// `null` for none.
    pub quiet_hours: Option<QuietHours>,
    #[serde(skip)]
    pub email_verified_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

/// What a user sends to replace their settings: every field, as `GET` shows them.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    /// An IANA time zone name, e.g. `America/New_York`.
    pub time_zone: String,
    /// `null` to have no address. A new address gets a confirmation link and
    /// nothing else until it is followed.
    pub email: Option<String>,
    pub channels: NoticeChannels,
    pub quiet_hours: Option<QuietHours>,
}

impl Settings {
    /// What a user who never saved settings has.
    pub fn defaults(user_id: &str) -> Self {
        Self {
            user_id: user_id.to_owned(),
            time_zone: Tz::UTC,
            email: None,
            email_verified: false,
            channels: NoticeChannels {
                reminders: Channels { in_app: true, email: false, push: false, webhooks: true },
            },
            quiet_hours: None,
            email_verified_at: None,
            updated_at: None,
        }
    }

    /// `input` checked and applied to these settings at `now`: the address
    /// stays confirmed only if it is the same address. Every problem at once.
    pub fn apply(&self, input: SettingsInput, now: DateTime<Utc>) -> Result<Self, ValidationErrors> {
        let mut errors = ValidationErrors::default();
        let time_zone = input.time_zone.trim().parse::<Tz>().unwrap_or_else(|_| {
            errors.add("time_zone", "is not an IANA time zone name (such as Europe/Berlin)");
            Tz::UTC
        });
        let email = input.email.as_deref().map(str::trim).filter(|e| !e.is_empty()).and_then(|e| {
            check_email(e).map(|()| e.to_owned()).map_err(|message| errors.add("email", message)).ok()
        });
        if let Some(quiet) = input.quiet_hours
            && quiet.start == quiet.end
        {
            errors.add("quiet_hours", "start and end are the same time: send null for no quiet hours");
        }
        errors.into_result()?;
        let same = email.is_some() && email == self.email;
        Ok(Self {
            user_id: self.user_id.clone(),
            time_zone,
            email_verified: same && self.email_verified,
            email_verified_at: if same { self.email_verified_at } else { None },
            email,
            channels: input.channels,
            quiet_hours: input.quiet_hours,
            updated_at: Some(now.trunc_subsecs(6)),
        })
    }

    /// Where mail may go now: the address, once confirmed.
    pub fn verified_email(&self) -> Option<&str> {
        self.email.as_deref().filter(|_| self.email_verified)
    }

    /// When e-mail and push due at `at` may go: `at` itself, or the end of the
    /// quiet hours `at` falls in.
    pub fn release_at(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        self.quiet_hours.map_or(at, |quiet| quiet.release_at(at, self.time_zone))
    }
}

impl QuietHours {
    /// Whether wall-clock time `time` is within these hours.
    pub fn contains(&self, time: NaiveTime) -> bool {
        if self.start < self.end {
            self.start <= time && time < self.end
        } else {
            time >= self.start || time < self.end
        }
    }

    /// `at` when it is outside these hours in `zone`; otherwise when they end
    /// (the first instant of `end` on the wall clock, past a gap a change of
    /// offset makes).
    pub fn release_at(&self, at: DateTime<Utc>, zone: Tz) -> DateTime<Utc> {
        let local = at.with_timezone(&zone);
        if !self.contains(local.time()) {
            return at;
        }
        let day = local.date_naive();
        let end_day = if local.time() < self.end { day } else { day + Duration::days(1) };
        let mut wall = end_day.and_time(self.end);
        // A wall-clock time skipped by a change of offset: the first one after it.
        for _ in 0..4 {
            if let Some(end) = zone.from_local_datetime(&wall).earliest() {
                return end.with_timezone(&Utc).max(at);
            }
            wall += Duration::minutes(30);
        }
        at
    }
}

/// Why `address` cannot be mailed, if it cannot: RFC 5322's syntax as
/// `lettre` reads it, and a length a mail server accepts.
pub fn check_email(address: &str) -> Result<(), &'static str> {
    if address.chars().count() > EMAIL_MAX_CHARS {
        return Err("is longer than 254 characters");
    }
    address
        .parse::<lettre::Address>()
        .map(drop)
        .map_err(|_| "is not an e-mail address (such as ada@example.com)")
}

fn zone_name<S: serde::Serializer>(zone: &Tz, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(zone.name())
}

/// `HH:MM` on the 24-hour clock, as quiet hours are written.
pub mod hh_mm {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub const FORMAT: &str = "%H:%M";

    pub fn serialize<S: Serializer>(time: &NaiveTime, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&time.format(FORMAT).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<NaiveTime, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!("`{text}` is not a time as HH:MM (such as 22:30)"))
        })
    }

    pub fn parse(text: &str) -> Option<NaiveTime> {
        (text.len() == 5).then(|| NaiveTime::parse_from_str(text, FORMAT).ok()).flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hm(text: &str) -> NaiveTime {
        hh_mm::parse(text).expect("a time")
    }

    fn input(zone: &str, email: Option<&str>) -> SettingsInput {
        SettingsInput {
            time_zone: zone.into(),
            email: email.map(Into::into),
            channels: Settings::defaults("u").channels,
            quiet_hours: None,
        }
    }

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().expect("an instant")
    }

    #[test]
    fn quiet_hours_across_midnight_hold_until_their_end_in_the_users_zone() {
        let quiet = QuietHours { start: hm("22:00"), end: hm("07:00") };
        let berlin: Tz = "Europe/Berlin".parse().expect("zone");
        // 23:30 in Berlin (UTC+1 in December): held until 07:00 Berlin the next morning.
        assert_eq!(quiet.release_at(utc("2026-12-07T22:30:00Z"), berlin), utc("2026-12-08T06:00:00Z"));
        // 05:00 in Berlin: until 07:00 the same morning.
        assert_eq!(quiet.release_at(utc("2026-12-08T04:00:00Z"), berlin), utc("2026-12-08T06:00:00Z"));
        // 07:00 itself and noon are outside.
        assert_eq!(quiet.release_at(utc("2026-12-08T06:00:00Z"), berlin), utc("2026-12-08T06:00:00Z"));
        assert_eq!(quiet.release_at(utc("2026-12-08T11:00:00Z"), berlin), utc("2026-12-08T11:00:00Z"));
    }

    #[test]
    fn quiet_hours_within_a_day_and_across_a_change_of_offset() {
        let quiet = QuietHours { start: hm("01:00"), end: hm("02:30") };
        let new_york: Tz = "America/New_York".parse().expect("zone");
        assert!(quiet.contains(hm("01:00")) && quiet.contains(hm("02:29")) && !quiet.contains(hm("02:30")));
        // 2027-03-14: 02:00 jumps to 03:00 in New York, so 02:30 never happens: held until 03:00 EDT.
        assert_eq!(quiet.release_at(utc("2027-03-14T06:30:00Z"), new_york), utc("2027-03-14T07:00:00Z"));
    }

    #[test]
    fn a_new_address_is_unconfirmed_and_the_same_one_stays_confirmed() {
        let now = Utc::now();
        let mut settings =
            Settings::defaults("u").apply(input("UTC", Some(" ada@example.com ")), now).expect("valid");
        assert_eq!((settings.email.as_deref(), settings.verified_email()), (Some("ada@example.com"), None));
        settings.email_verified = true;
        settings.email_verified_at = Some(now);
        let same = settings.apply(input("Asia/Tokyo", Some("ada@example.com")), now).expect("valid");
        assert_eq!(same.verified_email(), Some("ada@example.com"));
        let other = same.apply(input("Asia/Tokyo", Some("grace@example.com")), now).expect("valid");
        assert_eq!((other.verified_email(), other.email_verified_at), (None, None));
        let none = other.apply(input("UTC", None), now).expect("valid");
        assert_eq!(none.email, None);
    }

    #[test]
    fn every_bad_field_is_named_at_once() {
        let mut bad = input("Mars/Olympus", Some("not an address"));
        bad.quiet_hours = Some(QuietHours { start: hm("08:00"), end: hm("08:00") });
        let errors = Settings::defaults("u").apply(bad, Utc::now()).expect_err("invalid");
        let fields: Vec<&str> = errors.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["time_zone", "email", "quiet_hours"]);
        assert!(check_email(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn times_are_read_only_as_hh_mm() {
        assert_eq!(hh_mm::parse("07:05"), Some(hm("07:05")));
        for bad in ["7:05", "24:00", "07:60", "07:05:00", "0705", ""] {
            assert_eq!(hh_mm::parse(bad), None, "{bad}");
        }
    }
}
