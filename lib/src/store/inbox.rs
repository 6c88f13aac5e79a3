//! The inbox: which consumer has handled which event, so that a redelivered
//! event acts once.

use chrono::{DateTime, Utc};

use super::StoreError;
use super::db::{Tx, on_tx};
use super::timestamp::Timestamp;

/// Claims (consumer $1, event $2) at $3; affects no row when already claimed.
const MARK_PROCESSED: &str = "insert into processed_events (consumer, event_id, processed_at) \
     values ($1, $2, $3) on conflict do nothing";

impl Tx {
    /// Claims `event_id` for `consumer` at `at`: `false` when that consumer had
    /// handled it already (the caller then drops the transaction and reports a
    /// duplicate). A concurrent claimer of the same event waits for this
    /// transaction, and then finds it claimed.
    pub async fn claim_event(
        &mut self,
        consumer: &str,
        event_id: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let claimed = on_tx!(self, |c| {
            sqlx::query(MARK_PROCESSED)
                .bind(consumer)
                .bind(event_id)
                .bind(Timestamp(at))
                .execute(c)
                .await?
                .rows_affected()
        });
        Ok(claimed == 1)
    }
}
