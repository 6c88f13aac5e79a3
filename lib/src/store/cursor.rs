//! The keyset cursor: the position after a row in one sort order, opaque to
//! clients (base64 of a small JSON object), checked when it comes back.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::list::{Order, SortKey, title_key};
use crate::task::Task;

/// The position after a row, in one sort order. Opaque to clients.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "s")]
    pub(super) sort: SortKey,
    #[serde(rename = "o")]
    pub(super) order: Order,
    #[serde(rename = "k")]
    pub(super) key: CursorKey,
    #[serde(rename = "i")]
    pub(super) id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum CursorKey {
    /// `None` for a task without a due time (or not completed). Microseconds,
    /// as stored.
    Time(#[serde(with = "chrono::serde::ts_microseconds_option")] Option<DateTime<Utc>>),
    Int(i64),
    Text(String),
}

/// A cursor that is not one of ours, or not for this sort.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CursorError {
    #[error("the cursor is malformed")]
    Malformed,
    #[error("the cursor belongs to a different sort or order; start again without it")]
    WrongSort,
}

impl Cursor {
    /// The position just after `task` in `sort`/`order`.
    pub fn after_task(task: &Task, sort: SortKey, order: Order) -> Self {
        let key = match sort {
            SortKey::Due => CursorKey::Time(task.due_at),
            SortKey::Created => CursorKey::Time(Some(task.created_at)),
            SortKey::Updated => CursorKey::Time(Some(task.updated_at)),
            SortKey::Priority => CursorKey::Int(i64::from(task.priority.rank())),
            SortKey::Title => CursorKey::Text(title_key(&task.title)),
            SortKey::Completed => CursorKey::Time(task.completed_at),
            SortKey::Manual => CursorKey::Int(task.position),
        };
        Self { sort, order, key, id: task.id }
    }

    pub fn encode(&self) -> String {
        // Serializing a plain struct of strings and numbers cannot fail.
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    /// Parses a client's cursor and checks it belongs to this sort and order.
    pub fn decode(text: &str, sort: SortKey, order: Order) -> Result<Self, CursorError> {
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| CursorError::Malformed)?;
        let cursor: Self = serde_json::from_slice(&bytes).map_err(|_| CursorError::Malformed)?;
        let key_fits = matches!(
            (cursor.sort, &cursor.key),
            (SortKey::Due | SortKey::Completed, CursorKey::Time(_))
                | (SortKey::Created | SortKey::Updated, CursorKey::Time(Some(_)))
                | (SortKey::Priority | SortKey::Manual, CursorKey::Int(_))
                | (SortKey::Title, CursorKey::Text(_))
        );
        // A title key comes from a stored title, which holds no control
        // characters; a NUL would only make PostgreSQL refuse the statement.
        let text_is_plain = match &cursor.key {
            CursorKey::Text(text) => !text.chars().any(char::is_control),
            _ => true,
        };
        if !key_fits || !text_is_plain {
            return Err(CursorError::Malformed);
        }
        if cursor.sort != sort || cursor.order != order {
            return Err(CursorError::WrongSort);
        }
        Ok(cursor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips() {
        let c = Cursor {
            sort: SortKey::Title,
            order: Order::Asc,
            key: CursorKey::Text("a".into()),
            id: Uuid::nil(),
        };
        assert_eq!(Cursor::decode(&c.encode(), SortKey::Title, Order::Asc), Ok(c));
    }

    #[test]
    fn cursor_for_another_sort_is_refused() {
        let c = Cursor {
            sort: SortKey::Title,
            order: Order::Asc,
            key: CursorKey::Text("a".into()),
            id: Uuid::nil(),
        };
        assert_eq!(Cursor::decode(&c.encode(), SortKey::Title, Order::Desc), Err(CursorError::WrongSort));
        assert_eq!(Cursor::decode(&c.encode(), SortKey::Due, Order::Asc), Err(CursorError::WrongSort));
    }

    #[test]
    fn garbage_cursors_are_malformed() {
        assert_eq!(Cursor::decode("!!!", SortKey::Due, Order::Asc), Err(CursorError::Malformed));
        let forged = URL_SAFE_NO_PAD.encode(
            br#"{"s":"priority","o":"asc","k":{"text":"x"},"i":"00000000-0000-0000-0000-000000000000"}"#,
        );
        assert_eq!(Cursor::decode(&forged, SortKey::Priority, Order::Asc), Err(CursorError::Malformed));
        for text in [r"a\u0000b", r"\u001b[2J", r"x\u007f"] {
            let forged = URL_SAFE_NO_PAD.encode(format!(
                r#"{{"s":"title","o":"asc","k":{{"text":"{text}"}},"i":"00000000-0000-0000-0000-000000000000"}}"#
            ));
            assert_eq!(
                Cursor::decode(&forged, SortKey::Title, Order::Asc),
                Err(CursorError::Malformed),
                "{text}"
            );
        }
    }
}
