//! Members of lists and their roles. A change of membership is composed by
//! its caller under [`Tx::lock_user`] for `"members"` of the list, so that
//! the count of owners and of members it checks holds until it commits.

use uuid::Uuid;

use super::db::{Tx, on_pool, on_tx};
use super::timestamp::Timestamp;
use super::{Store, StoreError};
use crate::members::{Member, Role};

const SELECT_MEMBERS: &str = "select list_id, user_id, role, added_at from list_members \
     where list_id = $1 order by added_at, user_id";

const SELECT_MEMBER: &str =
    "select list_id, user_id, role, added_at from list_members where list_id = $1 and user_id = $2";

/// Members of list $1, and how many of them have role $2.
const COUNT_MEMBERS: &str = "select count(*), count(case when role = $2 then 1 end) \
     from list_members where list_id = $1";

/// Adds member $2 to list $1, last in their own order of their lists.
const INSERT_MEMBER: &str = "insert into list_members (list_id, user_id, role, added_at, position) \
     select $1, $2, $3, $4, coalesce(max(position) + 1, 0) from list_members where user_id = $2";

const UPDATE_ROLE: &str = "update list_members set role = $3 where list_id = $1 and user_id = $2";

const DELETE_MEMBER: &str = "delete from list_members where list_id = $1 and user_id = $2";

#[derive(Debug, sqlx::FromRow)]
struct MemberRow {
    list_id: Uuid,
    user_id: String,
    role: String,
    added_at: Timestamp,
}

impl TryFrom<MemberRow> for Member {
    type Error = StoreError;

    fn try_from(row: MemberRow) -> Result<Self, StoreError> {
        Ok(Self {
            role: role(&row.role, row.list_id)?,
            list_id: row.list_id,
            user_id: row.user_id,
            added_at: row.added_at.into(),
        })
    }
}

/// The stored role `name` of a member of `list`.
pub(super) fn role(name: &str, list: Uuid) -> Result<Role, StoreError> {
    Role::parse(name).ok_or_else(|| StoreError::Corrupt(format!("a member of list {list} has role {name}")))
}

/// How many members a list has, and how many of them own it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Headcount {
    pub members: i64,
    pub owners: i64,
}

impl Store {
    /// The role `user_id` has in `list_id`, if they are a member.
    pub async fn role_in(&self, list_id: Uuid, user_id: &str) -> Result<Option<Role>, StoreError> {
        let row: Option<MemberRow> = on_pool!(self.pool, |c| {
            sqlx::query_as(SELECT_MEMBER).bind(list_id).bind(user_id).fetch_optional(c).await?
        });
        Ok(row.map(Member::try_from).transpose()?.map(|m| m.role))
    }

    /// The members of `list_id`, earliest first.
    pub async fn members(&self, list_id: Uuid) -> Result<Vec<Member>, StoreError> {
        let rows: Vec<MemberRow> =
            on_pool!(self.pool, |c| sqlx::query_as(SELECT_MEMBERS).bind(list_id).fetch_all(c).await?);
        rows.into_iter().map(TryInto::try_into).collect()
    }
}

impl Tx {
    /// `user_id`'s membership of `list_id`, if any.
    pub async fn member(&mut self, list_id: Uuid, user_id: &str) -> Result<Option<Member>, StoreError> {
        let row: Option<MemberRow> = on_tx!(self, |c| {
            sqlx::query_as(SELECT_MEMBER).bind(list_id).bind(user_id).fetch_optional(c).await?
        });
        row.map(TryInto::try_into).transpose()
    }

    /// How many members `list_id` has, and how many own it.
    pub async fn headcount(&mut self, list_id: Uuid) -> Result<Headcount, StoreError> {
        let (members, owners): (i64, i64) = on_tx!(self, |c| sqlx::query_as(COUNT_MEMBERS)
            .bind(list_id)
            .bind(Role::Owner.as_str())
            .fetch_one(c)
            .await?);
        Ok(Headcount { members, owners })
    }

    /// Adds `member` (who must not be one already).
    pub async fn insert_member(&mut self, member: &Member) -> Result<(), StoreError> {
        on_tx!(self, |c| sqlx::query(INSERT_MEMBER)
            .bind(member.list_id)
            .bind(member.user_id.as_str())
            .bind(member.role.as_str())
            .bind(Timestamp(member.added_at))
            .execute(c)
            .await
            .map(drop)?);
        Ok(())
    }

    /// Gives `user_id` the role `role` in `list_id`; `false` if they are not a member.
    pub async fn set_role(&mut self, list_id: Uuid, user_id: &str, role: Role) -> Result<bool, StoreError> {
        let updated = on_tx!(self, |c| sqlx::query(UPDATE_ROLE)
            .bind(list_id)
            .bind(user_id)
            .bind(role.as_str())
            .execute(c)
            .await?
            .rows_affected());
        Ok(updated == 1)
    }

    /// Removes `user_id` from `list_id`; `false` if they were not a member.
    pub async fn delete_member(&mut self, list_id: Uuid, user_id: &str) -> Result<bool, StoreError> {
        let deleted = on_tx!(self, |c| {
            sqlx::query(DELETE_MEMBER).bind(list_id).bind(user_id).execute(c).await?.rows_affected()
        });
        Ok(deleted == 1)
    }
}
