//! Users' notification settings: one row per user who saved them; the others
//! have the defaults (`Settings::defaults`).

use std::collections::HashMap;

use chrono::{DateTime, NaiveTime, Utc};

use super::db::{Tx, on_pool, on_tx};
use super::timestamp::Timestamp;
use super::{Store, StoreError};
use crate::settings::{Channels, NoticeChannels, QuietHours, Settings, hh_mm};

macro_rules! select_settings {
    ($rest:literal) => {
        concat!(
            "select user_id, time_zone, email, email_verified_at, reminders_in_app, reminders_email, \
             reminders_push, reminders_webhooks, quiet_start, quiet_end, updated_at from user_settings ",
            $rest
        )
    };
}

const SELECT_SETTINGS: &str = select_settings!("where user_id = $1");

/// PostgreSQL only: the rows of users $1 (an array).
const SELECT_SETTINGS_OF: &str = select_settings!("where user_id = any($1)");

const UPSERT_SETTINGS: &str = "insert into user_settings (user_id, time_zone, email, email_verified_at, \
     reminders_in_app, reminders_email, reminders_push, reminders_webhooks, quiet_start, quiet_end, updated_at) \
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) on conflict (user_id) do update set \
     time_zone = excluded.time_zone, email = excluded.email, email_verified_at = excluded.email_verified_at, \
     reminders_in_app = excluded.reminders_in_app, reminders_email = excluded.reminders_email, \
     reminders_push = excluded.reminders_push, reminders_webhooks = excluded.reminders_webhooks, \
     quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end, updated_at = excluded.updated_at";

/// Confirms address $2 as user $1's at $3, if it is still the address they set.
const CONFIRM_EMAIL: &str = "update user_settings set email_verified_at = $3, updated_at = $3 \
     where user_id = $1 and email = $2 and email_verified_at is null";

/// Turns off mail of every kind for user $1 at $2.
const STOP_EMAIL: &str =
    "update user_settings set reminders_email = false, updated_at = $2 where user_id = $1";

#[derive(Debug, sqlx::FromRow)]
struct SettingsRow {
    user_id: String,
    time_zone: String,
    email: Option<String>,
    email_verified_at: Option<Timestamp>,
    reminders_in_app: bool,
    reminders_email: bool,
    reminders_push: bool,
    reminders_webhooks: bool,
    quiet_start: Option<String>,
    quiet_end: Option<String>,
    updated_at: Timestamp,
}

impl TryFrom<SettingsRow> for Settings {
    type Error = StoreError;

    fn try_from(row: SettingsRow) -> Result<Self, StoreError> {
        let corrupt = |what: &str| StoreError::Corrupt(format!("the settings of a user have {what}"));
        let time_zone = row.time_zone.parse().map_err(|_| corrupt("an unknown time zone"))?;
        let time = |t: Option<String>| -> Result<Option<NaiveTime>, StoreError> {
            t.map(|t| hh_mm::parse(&t).ok_or_else(|| corrupt("a malformed quiet hour"))).transpose()
        };
        let quiet_hours = match (time(row.quiet_start)?, time(row.quiet_end)?) {
            (Some(start), Some(end)) => Some(QuietHours { start, end }),
            _ => None,
        };
        Ok(Self {
            user_id: row.user_id,
            time_zone,
            email_verified: row.email.is_some() && row.email_verified_at.is_some(),
            email: row.email,
            channels: NoticeChannels {
                reminders: Channels {
                    in_app: row.reminders_in_app,
                    email: row.reminders_email,
                    push: row.reminders_push,
                    webhooks: row.reminders_webhooks,
                },
            },
            quiet_hours,
            email_verified_at: row.email_verified_at.map(Into::into),
            updated_at: Some(row.updated_at.into()),
        })
    }
}

impl Store {
    /// The user's settings; the defaults when they never saved any.
    pub async fn settings(&self, user_id: &str) -> Result<Settings, StoreError> {
        let row: Option<SettingsRow> =
            on_pool!(self.pool, |c| sqlx::query_as(SELECT_SETTINGS).bind(user_id).fetch_optional(c).await?);
        row.map_or_else(|| Ok(Settings::defaults(user_id)), TryInto::try_into)
    }

    /// The settings of each of `users` (the defaults for those without), in
    /// one read.
    pub async fn settings_of(&self, users: &[&str]) -> Result<HashMap<String, Settings>, StoreError> {
        let mut distinct: Vec<&str> = users.to_vec();
        distinct.sort_unstable();
        distinct.dedup();
        let rows: Vec<SettingsRow> = if let super::db::Pool::Postgres(pool) = &self.pool {
            sqlx::query_as(SELECT_SETTINGS_OF).bind(&distinct).fetch_all(pool).await?
        } else {
            let mut rows = Vec::with_capacity(distinct.len());
            for user in &distinct {
                let row: Option<SettingsRow> = on_pool!(self.pool, |c| sqlx::query_as(SELECT_SETTINGS)
                    .bind(*user)
                    .fetch_optional(c)
                    .await?);
                rows.extend(row);
            }
            rows
        };
        let mut found = HashMap::with_capacity(distinct.len());
        for row in rows {
            let settings: Settings = row.try_into()?;
            found.insert(settings.user_id.clone(), settings);
        }
        for user in distinct {
            found.entry(user.to_owned()).or_insert_with(|| Settings::defaults(user));
        }
        Ok(found)
    }
}

impl Tx {
    /// The user's settings as this transaction sees them; the defaults when
    /// they never saved any.
    pub async fn settings(&mut self, user_id: &str) -> Result<Settings, StoreError> {
        let row: Option<SettingsRow> =
            on_tx!(self, |c| sqlx::query_as(SELECT_SETTINGS).bind(user_id).fetch_optional(c).await?);
        row.map_or_else(|| Ok(Settings::defaults(user_id)), TryInto::try_into)
    }

    /// Saves `settings` whole.
    pub async fn put_settings(&mut self, settings: &Settings) -> Result<(), StoreError> {
        let reminders = settings.channels.reminders;
        let time = |t: Option<NaiveTime>| t.map(|t| t.format(hh_mm::FORMAT).to_string());
        let now = settings.updated_at.unwrap_or_else(Utc::now);
        on_tx!(self, |c| {
            sqlx::query(UPSERT_SETTINGS)
                .bind(settings.user_id.as_str())
                .bind(settings.time_zone.name())
                .bind(settings.email.as_deref())
                .bind(settings.email_verified_at.map(Timestamp))
                .bind(reminders.in_app)
                .bind(reminders.email)
                .bind(reminders.push)
                .bind(reminders.webhooks)
                .bind(time(settings.quiet_hours.map(|q| q.start)))
                .bind(time(settings.quiet_hours.map(|q| q.end)))
                .bind(Timestamp(now))
                .execute(c)
                .await
                .map(drop)?
        });
        Ok(())
    }

    /// Confirms `address` as the user's at `at`; `false` when it is no longer
    /// the address they set, or was confirmed already.
    pub async fn confirm_email(
        &mut self,
        user_id: &str,
        address: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let changed = on_tx!(self, |c| {
            sqlx::query(CONFIRM_EMAIL)
                .bind(user_id)
                .bind(address)
                .bind(Timestamp(at))
                .execute(c)
                .await?
                .rows_affected()
        });
        Ok(changed == 1)
    }

    /// Stops every kind of mail to the user.
    pub async fn stop_email(&mut self, user_id: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        on_tx!(self, |c| sqlx::query(STOP_EMAIL)
            .bind(user_id)
            .bind(Timestamp(at))
            .execute(c)
            .await
            .map(drop)?);
        Ok(())
    }
}
