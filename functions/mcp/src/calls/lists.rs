//! The list tools: the user's lists (`/v1/lists`) and their members.

use api::AppState;
use api::error::ApiError;
use api::extract::from_json;
use serde_json::{Map, Value, json};
use todo_lib::invitations::NewInvitation;
use todo_lib::lists::{ListPatch, NewList, TaskList};
use todo_lib::members::{Member, MemberPatch, NewMember};

use super::{Outcome, query, take_id, take_text, take_version};

fn list_line(list: &TaskList) -> String {
    let mut line = format!("\"{}\" ({}", list.name, list.role.as_str());
    if list.inbox {
        line.push_str(", Inbox");
    }
    if list.archived {
        line.push_str(", archived");
    }
    format!("{line}) id {}", list.id)
}

fn member_line(member: &Member) -> String {
    format!("{} ({})", member.user_id, member.role.as_str())
}

pub async fn list_lists(state: &AppState, user: &str, args: Map<String, Value>) -> Result<Outcome, ApiError> {
    let archived = api::lists::archived_query(query(args)?.as_deref())?;
    let lists = api::lists::all(state, user, archived).await?;
    let mut text = format!("{} list{}:", lists.len(), if lists.len() == 1 { "" } else { "s" });
    for list in &lists {
        text.push_str(&format!("\n- {}", list_line(list)));
    }
    Outcome::new(&json!({"items": lists}), text)
}

pub async fn create_list(
    state: &AppState,
    user: &str,
    args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let input: NewList = from_json(Value::Object(args))?;
    let list = api::lists::create(state, user, input).await?;
    Outcome::new(&list, format!("Created the list {}", list_line(&list)))
}

pub async fn list_members(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let list = take_id(&mut args, "list_id", "list")?;
    super::no_more(args)?;
    let members = api::members::of(state, user, &list.to_string()).await?;
    let names = members.iter().map(member_line).collect::<Vec<_>>().join(", ");
    Outcome::new(&json!({"items": members}), format!("Members: {names}"))
}

pub async fn add_member(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let list = take_id(&mut args, "list_id", "list")?;
    let input: NewMember = from_json(Value::Object(args))?;
    let (_, member) = api::members::add(state, user, &list.to_string(), input).await?;
    Outcome::new(&member, format!("Added {} to the list", member_line(&member)))
}

pub async fn remove_member(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let list = take_id(&mut args, "list_id", "list")?;
    let member = take_text(&mut args, "user_id")?;
    super::no_more(args)?;
    api::members::remove(state, user, &list.to_string(), &member).await?;
    Outcome::new(&json!({"removed": member, "list_id": list}), format!("Removed {member} from the list."))
}

/// Renames, recolours, reorders, archives or restores a list (owners).
pub async fn update_list(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let list = take_id(&mut args, "list_id", "list")?;
    let if_match = take_version(&mut args)?;
    let patch: ListPatch = from_json(Value::Object(args))?;
    let list = api::lists::update(state, user, &list.to_string(), &if_match, patch).await?;
    Outcome::new(&list, format!("Changed the list {}", list_line(&list)))
}

/// Deletes an empty list (owners); never the Inbox.
pub async fn delete_list(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let list = take_id(&mut args, "list_id", "list")?;
    let if_match = take_version(&mut args)?;
    super::no_more(args)?;
    api::lists::delete(state, user, &list.to_string(), &if_match).await?;
    Outcome::new(&json!({"deleted": list}), format!("Deleted the list {list}."))
}

/// Gives a member another role (owners); the last owner stays one.
pub async fn change_member_role(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let list = take_id(&mut args, "list_id", "list")?;
    let member = take_text(&mut args, "user_id")?;
    let patch: MemberPatch = from_json(Value::Object(args))?;
    let changed = api::members::change(state, user, &list.to_string(), &member, &patch).await?;
    Outcome::new(&changed, format!("{} is now {} of the list", changed.user_id, changed.role.as_str()))
}

/// Makes an invitation link to a list the user owns; its token is shown only here.
pub async fn create_invitation(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let list = take_id(&mut args, "list_id", "list")?;
    let input: NewInvitation = from_json(Value::Object(args))?;
    let made = api::invitations::create(state, user, &list.to_string(), input).await?;
    let text = format!(
        "Invitation {} made: whoever has its token joins as {} until {}, with POST {}{} signed in as \
         themselves. The token is shown only now: {}. Revoke it with revoke_invitation.",
        made.id,
        made.role.as_str(),
        made.expires_at.to_rfc3339(),
        state.mail.public_url(),
        made.accept_path,
        made.token
    );
    Outcome::new(&made, text)
}

/// Revokes an invitation not yet accepted.
pub async fn revoke_invitation(
    state: &AppState,
    user: &str,
    mut args: Map<String, Value>,
) -> Result<Outcome, ApiError> {
    let list = take_id(&mut args, "list_id", "list")?;
    let invitation = take_id(&mut args, "invitation_id", "invitation")?;
    super::no_more(args)?;
    api::invitations::revoke(state, user, &list.to_string(), invitation).await?;
    Outcome::new(
        &json!({"revoked": invitation}),
        format!("Revoked invitation {invitation}: its link no longer works."),
    )
}
