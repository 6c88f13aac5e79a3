//! Personal access tokens: found by their hash, listed and revoked by their
//! user only, limited per user, their last use written at most once a minute;
//! on both backends.

use secrecy::ExposeSecret;
use todo_lib::access_tokens::{AccessToken, NewAccessToken, Scope};
use todo_lib::secret_token;

use super::*;

todo_testing::on_both_backends!(
    a_token_is_found_by_the_hash_of_its_secret_as_it_was_made,
    tokens_are_listed_and_revoked_by_their_user_only,
    the_per_user_limit_holds,
    last_use_is_recorded_at_most_once_a_minute,
);

fn make(user: &str, name: &str, days: Option<i64>) -> (AccessToken, String) {
    let input = NewAccessToken {
        name: Some(name.into()),
        scopes: Some(vec![Scope::TasksRead, Scope::TasksWrite]),
        expires_in_days: days,
    };
    let (token, secret) = AccessToken::create(user, input, t0()).expect("valid");
    (token, secret.expose_secret().to_owned())
}

async fn insert(db: &TestDb, token: &AccessToken, max: i64) -> bool {
    let mut tx = db.store.begin().await.expect("begin");
    tx.lock_user("tokens", &token.user_id).await.expect("lock");
    let inserted = tx.insert_access_token(token, max).await.expect("insert");
    tx.commit().await.expect("commit");
    inserted
}

async fn a_token_is_found_by_the_hash_of_its_secret_as_it_was_made(db: TestDb) {
    let (token, secret) = make("alice", "laptop", Some(30));
    assert!(insert(&db, &token, 10).await);
    let found = db.store.access_token(&secret_token::hash(&secret)).await.expect("read");
    assert_eq!(found, Some(token));
    assert_eq!(db.store.access_token(&secret_token::hash("todo_pat_nope")).await.expect("read"), None);
}

async fn tokens_are_listed_and_revoked_by_their_user_only(db: TestDb) {
    let (a1, _) = make("alice", "one", None);
    let (a2, secret) = make("alice", "two", None);
    let (b1, _) = make("bob", "bobs", None);
    for token in [&a1, &a2, &b1] {
        assert!(insert(&db, token, 10).await);
    }
    let names = |tokens: Vec<AccessToken>| tokens.into_iter().map(|t| t.name).collect::<Vec<_>>();
    assert_eq!(names(db.store.access_tokens("alice").await.expect("list")), ["one", "two"]);
    assert!(!db.store.delete_access_token("bob", a2.id).await.expect("delete"), "not bob's to revoke");
    assert!(db.store.delete_access_token("alice", a2.id).await.expect("delete"));
    assert!(!db.store.delete_access_token("alice", a2.id).await.expect("delete"), "gone already");
    assert_eq!(db.store.access_token(&secret_token::hash(&secret)).await.expect("read"), None);
    assert_eq!(names(db.store.access_tokens("alice").await.expect("list")), ["one"]);
    assert_eq!(names(db.store.access_tokens("bob").await.expect("list")), ["bobs"]);
}

async fn the_per_user_limit_holds(db: TestDb) {
    assert!(insert(&db, &make("alice", "1", None).0, 2).await);
    assert!(insert(&db, &make("alice", "2", None).0, 2).await);
    assert!(!insert(&db, &make("alice", "3", None).0, 2).await, "a third is refused");
    assert!(insert(&db, &make("bob", "1", None).0, 2).await, "bob has his own");
}

async fn last_use_is_recorded_at_most_once_a_minute(db: TestDb) {
    let (token, secret) = make("alice", "cli", None);
    insert(&db, &token, 10).await;
    let last_used = |db: &TestDb| {
        let hash = secret_token::hash(&secret);
        let store = db.store.clone();
        async move { store.access_token(&hash).await.expect("read").and_then(|t| t.last_used_at) }
    };
    assert_eq!(last_used(&db).await, None);
    db.store.touch_access_token(token.id, t0()).await.expect("touch");
    assert_eq!(last_used(&db).await, Some(t0()));
    db.store.touch_access_token(token.id, t0() + Duration::seconds(30)).await.expect("touch");
    assert_eq!(last_used(&db).await, Some(t0()), "within the minute: not written again");
    db.store.touch_access_token(token.id, t0() + Duration::seconds(61)).await.expect("touch");
    assert_eq!(last_used(&db).await, Some(t0() + Duration::seconds(61)));
}
