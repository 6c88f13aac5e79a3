//! Listing tasks: filters, search, sorts and keyset pages, on both backends.

use super::*;

todo_testing::on_both_backends!(
    list_filters_by_status,
    list_filters_by_any_of_several_priorities,
    list_filters_by_all_of_several_tags,
    list_searches_title_and_description_case_insensitively,
    list_search_treats_wildcards_literally,
    list_search_finds_substrings_in_every_script_alike,
    list_search_follows_edits_and_deletes,
    list_filters_by_due_window_and_overdue,
    list_filters_by_completion_window_newest_first,
    list_sorts_and_pages_every_key_in_both_orders,
    paging_neither_skips_nor_repeats_while_rows_are_inserted,
    tag_counts_are_per_user_and_most_used_first,
);

async fn list_filters_by_status(db: TestDb) {
    let open = task("alice", "open", t0());
    let done = task("alice", "done", t0()).completed(t0()).expect("open");
    insert(&db, &open).await;
    insert(&db, &done).await;
    insert(&db, &task("bob", "not alice's", t0())).await;

    let mut q = ListQuery::new(t0());
    q.status = StatusFilter::Open;
    assert_eq!(titles(&list_all(&db, "alice", q.clone()).await), ["open"]);
    q.status = StatusFilter::Done;
    assert_eq!(titles(&list_all(&db, "alice", q.clone()).await), ["done"]);
    q.status = StatusFilter::All;
    assert_eq!(list_all(&db, "alice", q).await.len(), 2);
}

async fn list_filters_by_any_of_several_priorities(db: TestDb) {
    for (title, p) in
        [("l", Priority::Low), ("m", Priority::Medium), ("h", Priority::High), ("u", Priority::Urgent)]
    {
        let t = Task::create(
            "alice",
            inbox_id("alice"),
            NewTask { title: Some(title.into()), priority: Some(p), ..NewTask::default() },
            t0(),
        )
        .expect("valid");
        insert(&db, &t).await;
    }
    let mut q = ListQuery::new(t0());
    q.priorities = vec![Priority::High, Priority::Urgent];
    q.sort = SortKey::Title;
    q.order = Order::Asc;
    assert_eq!(titles(&list_all(&db, "alice", q).await), ["h", "u"]);
}

async fn list_filters_by_all_of_several_tags(db: TestDb) {
    for (title, tags) in [("both", vec!["a", "b"]), ("a only", vec!["a"]), ("none", vec![])] {
        let tags = tags.into_iter().map(String::from).collect();
        let t = Task::create(
            "alice",
            inbox_id("alice"),
            NewTask { title: Some(title.into()), tags: Some(tags), ..NewTask::default() },
            t0(),
        )
        .expect("valid");
        insert(&db, &t).await;
    }
    let mut q = ListQuery::new(t0());
    q.tags = vec!["a".into(), "b".into()];
    assert_eq!(titles(&list_all(&db, "alice", q.clone()).await), ["both"]);
    q.tags = vec!["a".into()];
    assert_eq!(list_all(&db, "alice", q).await.len(), 2);
}

async fn list_searches_title_and_description_case_insensitively(db: TestDb) {
    let a = Task::create(
        "alice",
        inbox_id("alice"),
        NewTask { title: Some("Call MOM".into()), ..NewTask::default() },
        t0(),
    )
    .expect("valid");
    let b = Task::create(
        "alice",
        inbox_id("alice"),
        NewTask {
            title: Some("Errand".into()),
            description: Some("buy a gift for mom".into()),
            ..NewTask::default()
        },
        t0(),
    )
    .expect("valid");
    insert(&db, &a).await;
    insert(&db, &b).await;
    insert(&db, &task("alice", "Dentist", t0())).await;
    let mut q = ListQuery::new(t0());
    q.text = Some("Mom".into());
    q.sort = SortKey::Title;
    q.order = Order::Asc;
    assert_eq!(titles(&list_all(&db, "alice", q).await), ["Call MOM", "Errand"]);
}

async fn list_search_treats_wildcards_literally(db: TestDb) {
    insert(&db, &task("alice", "50% off", t0())).await;
    insert(&db, &task("alice", "500 off", t0())).await;
    let mut q = ListQuery::new(t0());
    q.text = Some("50%".into());
    assert_eq!(titles(&list_all(&db, "alice", q.clone()).await), ["50% off"]);
    q.text = Some("_".into());
    assert!(list_all(&db, "alice", q).await.is_empty());
}

/// Search is a case-insensitive substring of the title or description, the
/// same on both backends (the suite runs on each): accents count, case does
/// not, in any script; the trigram index serves three characters or more and
/// shorter queries are answered alike.
async fn list_search_finds_substrings_in_every_script_alike(db: TestDb) {
    let titles_in = [
        "Café au lait",
        "Cafe latte",
        "ÉCOLE: inscrire Zoë",
        "東京タワーに行く",
        "Straße fegen",
        "Party 🎉🎉 planen",
        "say \"hi\" to Ω",
        "x",
    ];
    for title in titles_in {
        insert(&db, &task("alice", title, t0())).await;
    }
    insert(&db, &task("bob", "Café de Bob", t0())).await;
    let search = |text: &str| {
        let mut q = ListQuery::new(t0());
        q.text = Some(text.into());
        q.sort = SortKey::Title;
        q.order = Order::Asc;
        q
    };
    for (text, expected) in [
        ("café", vec!["Café au lait"]),
        ("CAFÉ", vec!["Café au lait"]),
        ("cafe", vec!["Cafe latte"]),
        ("caf", vec!["Cafe latte", "Café au lait"]),
        ("école", vec!["ÉCOLE: inscrire Zoë"]),
        ("zoë", vec!["ÉCOLE: inscrire Zoë"]),
        ("東京", vec!["東京タワーに行く"]),
        ("タワーに", vec!["東京タワーに行く"]),
        ("京", vec!["東京タワーに行く"]),
        ("STRASSE", vec![]),
        ("straße", vec!["Straße fegen"]),
        ("🎉", vec!["Party 🎉🎉 planen"]),
        ("🎉🎉 p", vec!["Party 🎉🎉 planen"]),
        ("\"hi\"", vec!["say \"hi\" to Ω"]),
        ("to ω", vec!["say \"hi\" to Ω"]),
        ("x", vec!["x"]),
        ("lait café", vec![]),
        ("de bob", vec![]),
    ] {
        assert_eq!(titles(&list_all(&db, "alice", search(text)).await), expected, "searching {text:?}");
    }
}

async fn list_search_follows_edits_and_deletes(db: TestDb) {
    let first = task("alice", "Buy paint", t0());
    insert(&db, &first).await;
    let mut q = ListQuery::new(t0());
    q.text = Some("paint".into());
    assert_eq!(titles(&list_all(&db, "alice", q.clone()).await), ["Buy paint"]);

    let renamed = first
        .patched(TaskPatch { title: Some(Some("Buy brushes".into())), ..TaskPatch::default() }, t0())
        .expect("valid")
        .expect("changed");
    update(&db, &renamed, first.version, EventType::Updated).await.expect("updated");
    assert!(list_all(&db, "alice", q.clone()).await.is_empty(), "the old title is not found");
    q.text = Some("brushes".into());
    assert_eq!(titles(&list_all(&db, "alice", q.clone()).await), ["Buy brushes"]);

    delete(&db, &renamed).await.expect("deleted");
    assert!(list_all(&db, "alice", q).await.is_empty(), "a deleted task is not found");
}

async fn list_filters_by_due_window_and_overdue(db: TestDb) {
    let due = |title: &str, at: Option<DateTime<Utc>>| {
        Task::create(
            "alice",
            inbox_id("alice"),
            NewTask { title: Some(title.into()), due_at: at, ..NewTask::default() },
            t0(),
        )
        .expect("valid")
    };
    let past = due("past", Some(t0() - Duration::hours(1)));
    let past_done = due("past done", Some(t0() - Duration::hours(2))).completed(t0()).expect("open");
    let soon = due("soon", Some(t0() + Duration::hours(1)));
    let later = due("later", Some(t0() + Duration::days(3)));
    let never = due("never", None);
    for t in [&past, &past_done, &soon, &later, &never] {
        insert(&db, t).await;
    }
    let base = {
        let mut q = ListQuery::new(t0());
        q.sort = SortKey::Due;
        q.order = Order::Asc;
        q
    };

    let mut q = base.clone();
    q.due_after = Some(t0() - Duration::hours(1));
    q.due_before = Some(t0() + Duration::days(3));
    assert_eq!(
        titles(&list_all(&db, "alice", q).await),
        ["past", "soon"],
        "after is inclusive, before exclusive"
    );

    let mut q = base.clone();
    q.overdue = Some(true);
    assert_eq!(titles(&list_all(&db, "alice", q).await), ["past"]);

    let mut q = base;
    q.overdue = Some(false);
    assert_eq!(titles(&list_all(&db, "alice", q).await), ["past done", "soon", "later", "never"]);
}

async fn list_filters_by_completion_window_newest_first(db: TestDb) {
    let done_at = |title: &str, hours: Option<i64>| {
        let t = task("alice", title, t0());
        match hours {
            Some(h) => t.completed(t0() + Duration::hours(h)).expect("open"),
            None => t,
        }
    };
    for t in [
        done_at("monday", Some(0)),
        done_at("tuesday", Some(24)),
        done_at("wednesday", Some(48)),
        done_at("still open", None),
    ] {
        insert(&db, &t).await;
    }
    let mut q = ListQuery::new(t0());
    q.sort = SortKey::Completed;
    q.order = SortKey::Completed.default_order();
    assert_eq!(
        titles(&list_all(&db, "alice", q.clone()).await),
        ["wednesday", "tuesday", "monday", "still open"],
        "newest completed first, open tasks last"
    );
    q.completed_after = Some(t0());
    q.completed_before = Some(t0() + Duration::hours(48));
    assert_eq!(
        titles(&list_all(&db, "alice", q).await),
        ["tuesday", "monday"],
        "after is inclusive, before exclusive, and open tasks have no completion time"
    );
}

async fn list_sorts_and_pages_every_key_in_both_orders(db: TestDb) {
    // Ties on every key, missing due times, mixed case: the order must still be
    // total. The tasks are spread over three lists Alice is a member of (her
    // Inbox, a list of hers, one Bob shares with her), which each page merges,
    // and a list she is not in.
    ensure_inbox(&db, "alice").await;
    let mine = todo_testing::facts::shared_list(&db.store, "alice", "Mine", &[]).await;
    let viewer = [("alice", todo_lib::members::Role::Viewer)];
    let bobs = todo_testing::facts::shared_list(&db.store, "bob", "Bob's", &viewer).await;
    let hidden = todo_testing::facts::shared_list(&db.store, "carol", "Carol's", &[]).await;
    let homes = [("alice", inbox_id("alice")), ("alice", mine.id), ("bob", bobs.id), ("carol", hidden.id)];
    let specs = [
        ("banana", Priority::High, Some(2)),
        ("Apple", Priority::Low, None),
        ("cherry", Priority::High, Some(1)),
        ("apple pie", Priority::Urgent, Some(2)),
        ("Date", Priority::Medium, None),
        ("elder", Priority::Low, Some(5)),
        ("fig", Priority::Medium, Some(1)),
    ];
    let mut all = Vec::new();
    for (i, (title, priority, due_days)) in specs.into_iter().enumerate() {
        let created = t0() + Duration::seconds((i % 3) as i64);
        let input = NewTask {
            title: Some(title.into()),
            priority: Some(priority),
            due_at: due_days.map(|d| t0() + Duration::days(d)),
            ..NewTask::default()
        };
        let (creator, list) = homes[i % homes.len()];
        let t = Task::create(creator, list, input, created).expect("valid");
        // Some done, with ties on the completion time; the rest open.
        let t = match i % 3 {
            0 => t,
            n => t.completed(t0() + Duration::hours(n as i64)).expect("open"),
        };
        // Positions out of creation order, with ties.
        let t = Task { position: ((i * 5) % 4) as i64, ..t };
        insert(&db, &t).await;
        if creator != "carol" {
            all.push(t);
        }
    }

    for sort in [
        SortKey::Due,
        SortKey::Priority,
        SortKey::Created,
        SortKey::Updated,
        SortKey::Title,
        SortKey::Completed,
        SortKey::Manual,
    ] {
        for order in [Order::Asc, Order::Desc] {
            let mut expected = all.clone();
            expected.sort_by(|a, b| {
                let key = |t: &Task| match sort {
                    SortKey::Due => (
                        t.due_at.is_none(),
                        t.due_at.map(|d| d.timestamp_micros()).unwrap_or(0),
                        String::new(),
                    ),
                    SortKey::Priority => (false, i64::from(t.priority.rank()), String::new()),
                    SortKey::Created => (false, t.created_at.timestamp_micros(), String::new()),
                    SortKey::Updated => (false, t.updated_at.timestamp_micros(), String::new()),
                    SortKey::Title => (false, 0, t.title.to_lowercase()),
                    SortKey::Completed => (
                        t.completed_at.is_none(),
                        t.completed_at.map(|d| d.timestamp_micros()).unwrap_or(0),
                        String::new(),
                    ),
                    SortKey::Manual => (false, t.position, String::new()),
                };
                let (ka, kb) = (key(a), key(b));
                let by_key = (ka.1, &ka.2, a.id).cmp(&(kb.1, &kb.2, b.id));
                ka.0.cmp(&kb.0).then(if order == Order::Asc { by_key } else { by_key.reverse() })
            });
            let mut q = ListQuery::new(t0());
            q.sort = sort;
            q.order = order;
            q.limit = 2;
            let got = list_all(&db, "alice", q).await;
            assert_eq!(titles(&got), titles(&expected), "sort {sort:?} {order:?}");
        }
    }
}

async fn paging_neither_skips_nor_repeats_while_rows_are_inserted(db: TestDb) {
    let mut original = HashSet::new();
    for i in 0..25 {
        let t = task("alice", &format!("task {i:02}"), t0() + Duration::seconds(i));
        insert(&db, &t).await;
        original.insert(t.id);
    }
    for sort in [SortKey::Created, SortKey::Title, SortKey::Due] {
        let mut q = ListQuery::new(t0());
        q.sort = sort;
        q.order = sort.default_order();
        q.limit = 4;
        let mut seen = Vec::new();
        let mut next: Option<Cursor> = None;
        for page_no in 0..100 {
            q.after = next.clone();
            let page = db.store.list_tasks("alice", &q).await.expect("list");
            seen.extend(page.items.iter().map(|t| t.id));
            // Between pages, someone adds tasks that sort before, after and among ours.
            for j in 0..2 {
                let t = task(
                    "alice",
                    &format!("task {page_no:02}{j} {sort:?}"),
                    t0() + Duration::seconds(page_no * 3 + j),
                );
                insert(&db, &t).await;
            }
            next = page.next;
            if next.is_none() {
                break;
            }
        }
        let unique: HashSet<Uuid> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "a row was repeated ({sort:?})");
        assert!(original.is_subset(&unique), "a row that existed throughout was skipped ({sort:?})");
    }
}

async fn tag_counts_are_per_user_and_most_used_first(db: TestDb) {
    for (user, tags) in [("alice", vec!["work", "home"]), ("alice", vec!["work"]), ("bob", vec!["secret"])] {
        let tags = tags.into_iter().map(String::from).collect();
        let t = Task::create(
            user,
            inbox_id(user),
            NewTask { title: Some("t".into()), tags: Some(tags), ..NewTask::default() },
            t0(),
        )
        .expect("valid");
        insert(&db, &t).await;
    }
    let counts = db.store.tag_counts("alice").await.expect("tags");
    assert_eq!(
        counts,
        [TagCount { tag: "work".into(), count: 2 }, TagCount { tag: "home".into(), count: 1 }]
    );
}
