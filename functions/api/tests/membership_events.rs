//! Membership changes through the API are events, on both backends: adding a
//! member, accepting an invitation, removing a member and leaving each write
//! one `list.member_added` or `list.member_removed` in the transaction of the
//! change, naming the list, the member, their role and who did it; a refused
//! change writes none, and a role change is not a membership event.

mod common;

use axum::http::{Method, StatusCode};
use common::{TestApp, id_of};
use serde_json::{Value, json};

both_backends!(each_membership_change_writes_its_event_and_a_refused_one_none);

/// The (type, data) of the membership events in the outbox, oldest first.
async fn membership_events(app: &TestApp) -> Vec<(String, Value)> {
    let events = app.db.store.unpublished_events(10_000).await.expect("outbox");
    events
        .iter()
        .map(|e| &e.payload)
        .filter(|p| p["type"].as_str().is_some_and(|t| t.starts_with("list.")))
        .map(|p| (p["type"].as_str().expect("type").to_owned(), p["data"].clone()))
        .collect()
}

fn data(list: &str, user: &str, role: &str, actor: &str) -> Value {
    json!({ "version": 1, "list_id": list, "user_id": user, "role": role, "actor_id": actor })
}

async fn each_membership_change_writes_its_event_and_a_refused_one_none(app: TestApp) {
    let res = app.send(Method::POST, "/v1/lists", Some("alice"), Some(json!({ "name": "Team" }))).await;
    let list = id_of(&res.body);
    let members = format!("/v1/lists/{list}/members");
    app.sign_in(&["bob", "carol", "dave", "erin", "mallory"]).await;
    let add = |user: &str, role: &str| json!({ "user_id": user, "role": role });

    let added = app.send(Method::POST, &members, Some("alice"), Some(add("bob", "editor"))).await;
    assert_eq!(added.status, StatusCode::CREATED);
    // Refused: twice, by an editor, to an Inbox.
    let again = app.send(Method::POST, &members, Some("alice"), Some(add("bob", "viewer"))).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let by_editor = app.send(Method::POST, &members, Some("bob"), Some(add("carol", "viewer"))).await;
    assert_eq!(by_editor.status, StatusCode::FORBIDDEN);
    let role = app
        .send(Method::PATCH, &format!("{members}/bob"), Some("alice"), Some(json!({ "role": "viewer" })))
        .await;
    assert_eq!(role.status, StatusCode::OK);

    let invitation = app
        .send(
            Method::POST,
            &format!("/v1/lists/{list}/invitations"),
            Some("alice"),
            Some(json!({ "role": "editor" })),
        )
        .await;
    let token = invitation.body["token"].as_str().expect("token");
    let joined =
        app.send(Method::POST, &format!("/v1/invitations/{token}/accept"), Some("carol"), None).await;
    assert_eq!(joined.status, StatusCode::OK, "{:?}", joined.body);
    let used = app.send(Method::POST, &format!("/v1/invitations/{token}/accept"), Some("dave"), None).await;
    assert_eq!(used.status, StatusCode::GONE);

    let removed = app.send(Method::DELETE, &format!("{members}/bob"), Some("alice"), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let left = app.send(Method::DELETE, &format!("{members}/carol"), Some("carol"), None).await;
    assert_eq!(left.status, StatusCode::NO_CONTENT);
    let last = app.send(Method::DELETE, &format!("{members}/alice"), Some("alice"), None).await;
    assert_eq!(last.status, StatusCode::CONFLICT, "the last owner stays");

    let events = membership_events(&app).await;
    let expected = vec![
        ("list.member_added".to_owned(), data(&list, "bob", "editor", "alice")),
        ("list.member_added".to_owned(), data(&list, "carol", "editor", "carol")),
        ("list.member_removed".to_owned(), data(&list, "bob", "viewer", "alice")),
        ("list.member_removed".to_owned(), data(&list, "carol", "editor", "carol")),
    ];
    assert_eq!(events, expected);
    let stored = app.db.store.unpublished_events(10_000).await.expect("outbox");
    let first = stored.iter().find(|e| e.topic == "list-member-added").expect("an added event");
    assert_eq!(
        (first.partition_key.as_str(), first.payload["subject"].as_str()),
        (list.as_str(), Some(list.as_str()))
    );
}
