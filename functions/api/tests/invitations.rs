//! Invitations by link, on both backends: an owner invites with a role;
//! the invitee joins once with that role; a used, expired or unknown token
//! joins nobody, nor does one accepted by a member already (it stays open);
//! concurrent acceptances of one token make one member. Only owners invite,
//! list and revoke invitations (never seeing a token again), a revoked token
//! joins nobody, and an Inbox is never shared. What an owner invited with
//! stops working when they are removed or stop being an owner; a list keeps
//! at most 50 open invitations, and its owners page through all of them.

mod common;

use axum::http::{Method, StatusCode};
use chrono::{Duration, Utc};
use common::{TestApp, id_of};
use serde_json::{Value, json};
use todo_lib::invitations::{Invitation, NewInvitation};
use todo_lib::members::Role;

both_backends!(
    an_invitation_joins_its_invitee_once_with_its_role,
    expired_unknown_and_member_held_tokens_join_nobody,
    concurrent_acceptances_of_one_token_make_one_member,
    only_owners_invite_and_never_to_an_inbox,
    owners_list_invitations_without_their_tokens,
    a_revoked_invitation_joins_nobody,
    an_invitation_is_either_accepted_or_revoked_under_a_race,
    an_owner_s_invitations_go_with_their_removal_and_none_can_hide,
    a_demoted_owner_s_invitations_are_revoked,
);

/// Alice's list with Otto as a second owner.
async fn co_owned(app: &TestApp) -> String {
    let list = new_list(app).await;
    app.sign_in(&["otto"]).await;
    let body = json!({ "user_id": "otto", "role": "owner" });
    let res = app.send(Method::POST, &format!("/v1/lists/{list}/members"), Some("alice"), Some(body)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    list
}

async fn an_owner_s_invitations_go_with_their_removal_and_none_can_hide(app: TestApp) {
    let list = co_owned(&app).await;
    let path = format!("/v1/lists/{list}/invitations");
    let made = |body: Value| app.send(Method::POST, &path, Some("otto"), Some(body));
    let owner = made(json!({ "role": "owner", "expires_in_hours": 720 })).await;
    assert_eq!(owner.status, StatusCode::CREATED, "{:?}", owner.body);
    for _ in 0..49 {
        assert_eq!(made(json!({ "role": "viewer" })).await.status, StatusCode::CREATED);
    }
    // The quota: 50 open invitations by default, and nothing stored past it.
    let over = made(json!({ "role": "viewer" })).await;
    assert_eq!(
        (over.status, over.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "quota_exceeded"),
        "{:?}",
        over.body
    );

    // Alice pages through every one of them: none hides the owner invitation.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let query = cursor.as_ref().map_or("?limit=20".to_owned(), |c| format!("?limit=20&cursor={c}"));
        let page = app.send(Method::GET, &format!("{path}{query}"), Some("alice"), None).await;
        assert_eq!(page.status, StatusCode::OK, "{:?}", page.body);
        seen.extend(page.body["items"].as_array().expect("items").iter().map(|i| i["id"].clone()));
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 50, "every invitation, once");
    assert!(seen.contains(&owner.body["id"]), "the owner invitation is listed");
    let bad = app.send(Method::GET, &format!("{path}?limit=0&open=maybe"), Some("alice"), None).await;
    assert_eq!(
        (bad.status, bad.detail_fields()),
        (StatusCode::BAD_REQUEST, vec!["limit".into(), "open".into()])
    );

    // Otto is removed: what he made stops working, and he cannot come back with it.
    let removed =
        app.send(Method::DELETE, &format!("/v1/lists/{list}/members/otto"), Some("alice"), None).await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    let open = app.send(Method::GET, &format!("{path}?open=true"), Some("alice"), None).await;
    assert_eq!(open.body["items"], json!([]), "none of Otto's stay open");
    let back = accept(&app, owner.body["token"].as_str().expect("token"), "otto").await;
    assert_eq!((back.status, back.code()), (StatusCode::GONE, "invitation_revoked"), "{:?}", back.body);
    assert_eq!(members(&app, &list).await, [("alice".to_owned(), "owner".to_owned())]);
    // With room again, Alice invites.
    invite(&app, &list, json!({ "role": "viewer" })).await;
}

async fn a_demoted_owner_s_invitations_are_revoked(app: TestApp) {
    let list = co_owned(&app).await;
    let path = format!("/v1/lists/{list}/invitations");
    let made = app.send(Method::POST, &path, Some("otto"), Some(json!({ "role": "editor" }))).await;
    assert_eq!(made.status, StatusCode::CREATED);
    let demoted = app
        .send(
            Method::PATCH,
            &format!("/v1/lists/{list}/members/otto"),
            Some("alice"),
            Some(json!({ "role": "viewer" })),
        )
        .await;
    assert_eq!(demoted.status, StatusCode::OK, "{:?}", demoted.body);
    let res = accept(&app, made.body["token"].as_str().expect("token"), "bob").await;
    assert_eq!((res.status, res.code()), (StatusCode::GONE, "invitation_revoked"));
}

async fn new_list(app: &TestApp) -> String {
    let res = app.send(Method::POST, "/v1/lists", Some("alice"), Some(json!({ "name": "Team" }))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    id_of(&res.body)
}

async fn invite(app: &TestApp, list: &str, body: Value) -> Value {
    let res =
        app.send(Method::POST, &format!("/v1/lists/{list}/invitations"), Some("alice"), Some(body)).await;
    assert_eq!(res.status, StatusCode::CREATED, "{:?}", res.body);
    res.body
}

async fn accept(app: &TestApp, token: &str, user: &str) -> common::TestResponse {
    app.send(Method::POST, &format!("/v1/invitations/{token}/accept"), Some(user), None).await
}

async fn members(app: &TestApp, list: &str) -> Vec<(String, String)> {
    let res = app.send(Method::GET, &format!("/v1/lists/{list}/members"), Some("alice"), None).await;
    res.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| {
            (m["user_id"].as_str().expect("id").to_owned(), m["role"].as_str().expect("role").to_owned())
        })
        .collect()
}

async fn an_invitation_joins_its_invitee_once_with_its_role(app: TestApp) {
    let list = new_list(&app).await;
    let made = invite(&app, &list, json!({ "role": "editor", "expires_in_hours": 24 })).await;
    let token = made["token"].as_str().expect("token").to_owned();
    assert_eq!(made["accept_path"], format!("/v1/invitations/{token}/accept"));
    assert_eq!((made["role"].as_str(), made["list_id"].as_str()), (Some("editor"), Some(list.as_str())));

    let joined = accept(&app, &token, "bob").await;
    assert_eq!(joined.status, StatusCode::OK, "{:?}", joined.body);
    assert_eq!(
        (joined.body["id"].as_str(), joined.body["role"].as_str()),
        (Some(list.as_str()), Some("editor"))
    );
    let task = app.create("bob", json!({ "title": "from Bob", "list_id": list })).await;
    assert_eq!(task["list_id"], list.as_str(), "an editor now");

    let again = accept(&app, &token, "carol").await;
    assert_eq!((again.status, again.code()), (StatusCode::GONE, "invitation_used"), "single use");
    let twice = accept(&app, &token, "bob").await;
    assert_eq!(twice.status, StatusCode::GONE);
    assert_eq!(
        members(&app, &list).await,
        [("alice".into(), "owner".into()), ("bob".into(), "editor".into())]
    );
}

async fn expired_unknown_and_member_held_tokens_join_nobody(app: TestApp) {
    let list = new_list(&app).await;
    let list_id: uuid::Uuid = list.parse().expect("uuid");
    // Made four days ago, valid for three: expired a day ago.
    let old = NewInvitation { role: Some(Role::Viewer), expires_in_hours: Some(72) };
    let (expired, token) =
        Invitation::create(list_id, "alice", old, Utc::now() - Duration::days(4)).expect("valid");
    let mut tx = app.db.store.begin().await.expect("begin");
    tx.insert_invitation(&expired).await.expect("insert");
    tx.commit().await.expect("commit");
    use secrecy::ExposeSecret as _;
    let late = accept(&app, token.expose_secret(), "bob").await;
    assert_eq!((late.status, late.code()), (StatusCode::GONE, "invitation_expired"));

    let unknown = accept(&app, "inv_nobody-made-this", "bob").await;
    assert_eq!((unknown.status, unknown.code()), (StatusCode::NOT_FOUND, "not_found"));

    let made = invite(&app, &list, json!({ "role": "viewer" })).await;
    let token = made["token"].as_str().expect("token");
    let own = accept(&app, token, "alice").await;
    assert_eq!((own.status, own.code()), (StatusCode::CONFLICT, "already_member"));
    let anonymous = app.send(Method::POST, &format!("/v1/invitations/{token}/accept"), None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
    assert_eq!(members(&app, &list).await, [("alice".into(), "owner".into())], "nobody joined");
    let joined = accept(&app, token, "dave").await;
    assert_eq!(
        (joined.status, joined.body["role"].as_str()),
        (StatusCode::OK, Some("viewer")),
        "it stayed open"
    );
}

async fn concurrent_acceptances_of_one_token_make_one_member(app: TestApp) {
    let list = new_list(&app).await;
    let made = invite(&app, &list, json!({ "role": "viewer" })).await;
    let token = made["token"].as_str().expect("token");
    let (a, b, c) =
        tokio::join!(accept(&app, token, "bob"), accept(&app, token, "carol"), accept(&app, token, "dave"));
    let statuses = [a.status, b.status, c.status];
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::GONE).count(), 2, "{statuses:?}");
    assert_eq!(members(&app, &list).await.len(), 2, "the owner and one invitee");
}

async fn only_owners_invite_and_never_to_an_inbox(app: TestApp) {
    let list = new_list(&app).await;
    let made = invite(&app, &list, json!({ "role": "editor" })).await;
    accept(&app, made["token"].as_str().expect("token"), "bob").await;
    let path = format!("/v1/lists/{list}/invitations");
    let by_editor = app.send(Method::POST, &path, Some("bob"), Some(json!({ "role": "owner" }))).await;
    assert_eq!((by_editor.status, by_editor.code()), (StatusCode::FORBIDDEN, "forbidden"));
    let by_stranger = app.send(Method::POST, &path, Some("mallory"), Some(json!({ "role": "owner" }))).await;
    assert_eq!(by_stranger.status, StatusCode::NOT_FOUND);
    for (body, fields) in [
        (json!({}), vec!["role"]),
        (json!({ "role": "viewer", "expires_in_hours": 0 }), vec!["expires_in_hours"]),
        (json!({ "role": "viewer", "expires_in_hours": 721 }), vec!["expires_in_hours"]),
    ] {
        let res = app.send(Method::POST, &path, Some("alice"), Some(body.clone())).await;
        assert_eq!(
            (res.status, res.detail_fields()),
            (StatusCode::UNPROCESSABLE_ENTITY, fields.iter().map(|f| f.to_string()).collect()),
            "{body}"
        );
    }
    app.create_titled("alice", "private").await;
    let lists = app.send(Method::GET, "/v1/lists", Some("alice"), None).await;
    let inbox = id_of(
        lists.body["items"].as_array().expect("items").iter().find(|l| l["inbox"] == true).expect("Inbox"),
    );
    let res = app
        .send(
            Method::POST,
            &format!("/v1/lists/{inbox}/invitations"),
            Some("alice"),
            Some(json!({ "role": "viewer" })),
        )
        .await;
    assert_eq!((res.status, res.code()), (StatusCode::CONFLICT, "inbox_personal"));
}

async fn owners_list_invitations_without_their_tokens(app: TestApp) {
    let list = new_list(&app).await;
    let first = invite(&app, &list, json!({ "role": "editor" })).await;
    let second = invite(&app, &list, json!({ "role": "viewer", "expires_in_hours": 1 })).await;
    accept(&app, first["token"].as_str().expect("token"), "bob").await;
    let path = format!("/v1/lists/{list}/invitations");
    let res = app.send(Method::GET, &path, Some("alice"), None).await;
    assert_eq!(res.status, StatusCode::OK, "{:?}", res.body);
    let items = res.body["items"].as_array().expect("items");
    let ids: Vec<&str> = items.iter().filter_map(|i| i["id"].as_str()).collect();
    assert_eq!(ids, [second["id"].as_str().expect("id"), first["id"].as_str().expect("id")], "newest first");
    assert_eq!((items[1]["accepted_by"].as_str(), items[1]["role"].as_str()), (Some("bob"), Some("editor")));
    assert_eq!((items[0]["accepted_by"].clone(), items[0]["revoked_at"].clone()), (Value::Null, Value::Null));
    for token in [&first["token"], &second["token"]] {
        let token = token.as_str().expect("token");
        assert!(!res.body.to_string().contains(token), "a token is shown only once");
    }
    let text = res.body.to_string();
    assert!(!text.contains("token"), "no token field, no hash: {text}");
    for (caller, want) in [("bob", StatusCode::FORBIDDEN), ("mallory", StatusCode::NOT_FOUND)] {
        let refused = app.send(Method::GET, &path, Some(caller), None).await;
        assert_eq!(refused.status, want, "{caller}: {:?}", refused.body);
    }
}

async fn a_revoked_invitation_joins_nobody(app: TestApp) {
    let list = new_list(&app).await;
    let made = invite(&app, &list, json!({ "role": "editor" })).await;
    let (id, token) = (made["id"].as_str().expect("id"), made["token"].as_str().expect("token"));
    let path = format!("/v1/lists/{list}/invitations/{id}");
    let by_stranger = app.send(Method::DELETE, &path, Some("mallory"), None).await;
    assert_eq!(by_stranger.status, StatusCode::NOT_FOUND);
    for _ in 0..2 {
        let revoked = app.send(Method::DELETE, &path, Some("alice"), None).await;
        assert_eq!(
            revoked.status,
            StatusCode::NO_CONTENT,
            "revoking again changes nothing: {:?}",
            revoked.body
        );
    }
    let late = accept(&app, token, "bob").await;
    assert_eq!((late.status, late.code()), (StatusCode::GONE, "invitation_revoked"));
    assert_eq!(members(&app, &list).await, [("alice".into(), "owner".into())], "nobody joined");
    let listed = app.send(Method::GET, &format!("/v1/lists/{list}/invitations"), Some("alice"), None).await;
    assert!(listed.body["items"][0]["revoked_at"].is_string(), "{:?}", listed.body);

    let used = invite(&app, &list, json!({ "role": "viewer" })).await;
    accept(&app, used["token"].as_str().expect("token"), "carol").await;
    let used_path = format!("/v1/lists/{list}/invitations/{}", used["id"].as_str().expect("id"));
    let too_late = app.send(Method::DELETE, &used_path, Some("alice"), None).await;
    assert_eq!((too_late.status, too_late.code()), (StatusCode::CONFLICT, "invitation_used"));
    let by_viewer = app.send(Method::DELETE, &used_path, Some("carol"), None).await;
    assert_eq!(by_viewer.status, StatusCode::FORBIDDEN);
    let other_list = new_list(&app).await;
    let elsewhere = format!("/v1/lists/{other_list}/invitations/{id}");
    let wrong_list = app.send(Method::DELETE, &elsewhere, Some("alice"), None).await;
    assert_eq!(wrong_list.status, StatusCode::NOT_FOUND, "an invitation is found only in its own list");
    let bad =
        app.send(Method::DELETE, &format!("/v1/lists/{list}/invitations/xyz"), Some("alice"), None).await;
    assert_eq!((bad.status, bad.code()), (StatusCode::BAD_REQUEST, "invalid_path"));
}

async fn an_invitation_is_either_accepted_or_revoked_under_a_race(app: TestApp) {
    let list = new_list(&app).await;
    for round in 0..5 {
        let made = invite(&app, &list, json!({ "role": "viewer" })).await;
        let (id, token) = (made["id"].as_str().expect("id"), made["token"].as_str().expect("token"));
        let path = format!("/v1/lists/{list}/invitations/{id}");
        let invitee = format!("user-{round}");
        let (joined, revoked) =
            tokio::join!(accept(&app, token, &invitee), app.send(Method::DELETE, &path, Some("alice"), None));
        let member = members(&app, &list).await.iter().any(|(user, _)| *user == invitee);
        match (joined.status, revoked.status) {
            (StatusCode::OK, StatusCode::CONFLICT) => assert!(member, "accepted first"),
            (StatusCode::GONE, StatusCode::NO_CONTENT) => {
                assert_eq!(joined.code(), "invitation_revoked");
                assert!(!member, "revoked first");
            }
            other => panic!("both or neither won: {other:?} {:?} {:?}", joined.body, revoked.body),
        }
    }
}
