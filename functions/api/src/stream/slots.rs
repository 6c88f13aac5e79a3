//! How many live streams are open, per user, per personal access token and
//! in this process, so that no one caller's streams can take the connections
//! everybody else needs. A stream holds a [`Slot`] for as long as it is open;
//! dropping the slot gives it back.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use uuid::Uuid;

/// The caps on open streams (`STREAM_MAX_PER_USER`, `STREAM_MAX_PER_TOKEN`,
/// `STREAM_MAX_OPEN`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caps {
    pub per_user: usize,
    pub per_token: usize,
    /// In the whole process: the rest of `MAX_CONNECTIONS` is kept for
    /// ordinary requests.
    pub open: usize,
}

/// Why a stream could not open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Full {
    /// The user has `per_user` streams open already.
    User(usize),
    /// The personal access token has `per_token` streams open already.
    Token(usize),
    /// This process holds as many streams as it keeps room for.
    Process,
}

#[derive(Debug, Default)]
struct Counts {
    open: usize,
    users: HashMap<String, usize>,
    tokens: HashMap<Uuid, usize>,
}

/// The open streams of one process.
#[derive(Debug)]
pub struct Slots {
    caps: Caps,
    counts: Mutex<Counts>,
}

/// One open stream's place; given back when dropped.
#[derive(Debug)]
pub struct Slot {
    slots: Arc<Slots>,
    user: String,
    token: Option<Uuid>,
}

impl Slots {
    pub fn new(caps: Caps) -> Arc<Self> {
        Arc::new(Self { caps, counts: Mutex::new(Counts::default()) })
    }

    pub fn caps(&self) -> Caps {
        self.caps
    }

    /// A place for one more stream of `user` (through `token`, when it is a
    /// personal access token), unless a cap is reached.
    pub fn take(self: &Arc<Self>, user: &str, token: Option<Uuid>) -> Result<Slot, Full> {
        let mut counts = self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if counts.users.get(user).copied().unwrap_or(0) >= self.caps.per_user {
            return Err(Full::User(self.caps.per_user));
        }
        if let Some(token) = token
            && counts.tokens.get(&token).copied().unwrap_or(0) >= self.caps.per_token
        {
            return Err(Full::Token(self.caps.per_token));
        }
        if counts.open >= self.caps.open {
            return Err(Full::Process);
        }
        counts.open += 1;
        *counts.users.entry(user.to_owned()).or_default() += 1;
        if let Some(token) = token {
            *counts.tokens.entry(token).or_default() += 1;
        }
        Ok(Slot { slots: Arc::clone(self), user: user.to_owned(), token })
    }

    /// How many streams are open in this process.
    pub fn open(&self) -> usize {
        self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner).open
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.slots.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        counts.open = counts.open.saturating_sub(1);
        release(&mut counts.users, &self.user);
        if let Some(token) = self.token {
            release(&mut counts.tokens, &token);
        }
    }
}

/// One fewer for `key`, forgetting it at zero so the map holds only the open.
fn release<K: std::hash::Hash + Eq>(map: &mut HashMap<K, usize>, key: &K) {
    if let Some(n) = map.get_mut(key) {
        *n = n.saturating_sub(1);
        if *n == 0 {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots() -> Arc<Slots> {
        Slots::new(Caps { per_user: 3, per_token: 2, open: 5 })
    }

    #[test]
    fn a_user_has_at_most_their_cap_and_gets_places_back_as_streams_close() {
        let slots = slots();
        let held: Vec<Slot> = (0..3).map(|_| slots.take("alice", None).expect("room")).collect();
        assert_eq!(slots.take("alice", None).expect_err("full"), Full::User(3));
        assert!(slots.take("bob", None).is_ok(), "another user is not held back");
        drop(held);
        let again = slots.take("alice", None).expect("room again");
        assert_eq!(slots.open(), 1);
        drop(again);
        assert_eq!(slots.open(), 0);
    }

    #[test]
    fn a_token_has_a_cap_of_its_own_below_its_users() {
        let slots = slots();
        let token = Uuid::now_v7();
        let _a = slots.take("alice", Some(token)).expect("room");
        let _b = slots.take("alice", Some(token)).expect("room");
        assert_eq!(slots.take("alice", Some(token)).expect_err("full"), Full::Token(2));
        assert!(slots.take("alice", None).is_ok(), "the user's own sign-in still has room");
    }

    #[test]
    fn the_process_keeps_room_for_ordinary_requests() {
        let slots = slots();
        let _held: Vec<Slot> =
            ["a", "b", "c", "d", "e"].iter().map(|u| slots.take(u, None).expect("room")).collect();
        assert_eq!(slots.take("f", None).expect_err("full"), Full::Process);
    }
}
