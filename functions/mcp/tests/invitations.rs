//! Invitations by link through the tools, on both backends: made by owners
//! only, the token shown once, never for an Inbox, revoked until accepted.

mod common;

use common::TestMcp;
use serde_json::json;

both_backends!(invitations_are_made_by_owners_and_revoked);

async fn invitations_are_made_by_owners_and_revoked(mcp: TestMcp) {
    let list =
        mcp.tool("alice", "create_list", json!({"name": "Book club"})).await.structured()["id"].clone();
    mcp.tool("bob", "list_lists", json!({})).await; // bob has signed in
    mcp.tool("alice", "add_member", json!({"list_id": list, "user_id": "bob", "role": "viewer"})).await;

    let made = mcp
        .tool(
            "alice",
            "create_invitation",
            json!({"list_id": list, "role": "editor", "expires_in_hours": 24}),
        )
        .await;
    assert!(!made.is_tool_error(), "{}", made.body);
    let invitation = made.structured().clone();
    let token = invitation["token"].as_str().unwrap_or_default().to_owned();
    assert!(token.starts_with("inv_"), "{invitation}");
    assert_eq!(invitation["role"], "editor");
    assert_eq!(invitation["accept_path"], format!("/v1/invitations/{token}/accept"));
    assert!(made.text().contains(&token), "the token is passed on: {}", made.text());

    let by_viewer = mcp.tool("bob", "create_invitation", json!({"list_id": list, "role": "editor"})).await;
    assert_eq!(by_viewer.error_code(), "forbidden");
    let bad = mcp.tool("alice", "create_invitation", json!({"list_id": list, "role": "boss"})).await;
    assert_eq!(bad.error_code(), "invalid_arguments", "{}", bad.body);
    let inbox = mcp.tool("alice", "list_lists", json!({})).await.structured()["items"]
        .as_array()
        .and_then(|lists| lists.iter().find(|l| l["inbox"] == true).cloned())
        .expect("an Inbox");
    let personal =
        mcp.tool("alice", "create_invitation", json!({"list_id": inbox["id"], "role": "viewer"})).await;
    assert_eq!(personal.error_code(), "inbox_personal");

    let revoke = json!({"list_id": list, "invitation_id": invitation["id"]});
    let by_bob = mcp.tool("bob", "revoke_invitation", revoke.clone()).await;
    assert_eq!(by_bob.error_code(), "forbidden");
    let revoked = mcp.tool("alice", "revoke_invitation", revoke.clone()).await;
    assert_eq!(revoked.structured()["revoked"], invitation["id"], "{}", revoked.body);
    assert!(!mcp.tool("alice", "revoke_invitation", revoke).await.is_tool_error(), "again changes nothing");
    let unknown = json!({"list_id": list, "invitation_id": "0190a000-0000-7000-8000-000000000000"});
    assert_eq!(mcp.tool("alice", "revoke_invitation", unknown).await.error_code(), "not_found");
    let id: uuid::Uuid = invitation["id"].as_str().expect("id").parse().expect("uuid");
    let list_id: uuid::Uuid = list.as_str().expect("id").parse().expect("uuid");
    let mut tx = mcp.db.store.begin().await.expect("tx");
    let stored = tx.invitation_in(list_id, id).await.expect("reads").expect("kept");
    assert!(stored.revoked_at.is_some(), "{stored:?}");
}
