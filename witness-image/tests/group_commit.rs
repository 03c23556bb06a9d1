//! SQLite group commit: compare-and-swaps queued together share one commit, yet each has
//! the outcome it would have alone, and every answer matches what is on disk — a swap that
//! was answered `Committed` survives a reopen, one that failed left nothing behind.

use std::sync::Arc;

use futures::future::join_all;
use nucleus_witness::store::{
    CasOutcome, Store, StoreError, StoreOptions, StoredState, WitnessStore,
};
use sqlx::{Connection, Executor, SqliteConnection};

fn state(size: u64, tag: &str) -> StoredState {
    StoredState {
        size,
        root: nucleus_lineage::merkle::leaf_hash(format!("{size} {tag}").as_bytes()),
    }
}

async fn open(url: &str) -> Arc<Store> {
    Arc::new(Store::open(url, StoreOptions::default()).await.unwrap())
}

/// Submits every swap at once; returns the outcomes in order.
async fn swap_all(
    store: &Arc<Store>,
    swaps: Vec<(String, Option<StoredState>, StoredState)>,
) -> Vec<Result<CasOutcome, StoreError>> {
    join_all(swaps.into_iter().map(|(origin, expected, new)| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .compare_and_swap(&origin, expected.as_ref(), &new, b"note", 1)
                .await
        })
    }))
    .await
    .into_iter()
    .map(|r| r.unwrap())
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_swaps_have_their_sequential_outcomes_and_persist() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("w.db").display());
    let store = open(&url).await;

    // 60 origins start at once, and 12 racing first submissions for one more origin.
    let mut swaps: Vec<_> = (0..60)
        .map(|o| (format!("log-{o}"), None, state(1, "main")))
        .collect();
    swaps.extend((0..12).map(|k| ("contested".to_owned(), None, state(k + 1, "race"))));
    let outcomes = swap_all(&store, swaps.clone()).await;
    for o in &outcomes[..60] {
        assert_eq!(*o.as_ref().unwrap(), CasOutcome::Committed);
    }
    let contested: Vec<_> = outcomes[60..]
        .iter()
        .map(|o| *o.as_ref().unwrap())
        .collect();
    let winners: Vec<usize> = (0..12)
        .filter(|&k| contested[k] == CasOutcome::Committed)
        .collect();
    assert_eq!(
        winners.len(),
        1,
        "exactly one first submission wins: {contested:?}"
    );
    let winner = swaps[60 + winners[0]].2;
    for (k, o) in contested.iter().enumerate() {
        if k != winners[0] {
            assert_eq!(
                *o,
                CasOutcome::Conflict {
                    current_size: winner.size
                },
                "a loser learns the winner's size"
            );
        }
    }

    // Next round: every origin extends from its stored state, and stale swaps (expecting
    // the state before) are mixed in; they conflict and change nothing.
    let mut next: Vec<_> = (0..60)
        .map(|o| (format!("log-{o}"), Some(state(1, "main")), state(2, "main")))
        .collect();
    next.extend((0..60).map(|o| {
        (
            format!("log-{o}"),
            Some(state(0, "none")),
            state(9, "stale"),
        )
    }));
    let outcomes = swap_all(&store, next).await;
    for o in &outcomes[..60] {
        assert_eq!(*o.as_ref().unwrap(), CasOutcome::Committed);
    }
    for o in &outcomes[60..] {
        let o = *o.as_ref().unwrap();
        assert!(
            o == CasOutcome::Conflict { current_size: 1 }
                || o == CasOutcome::Conflict { current_size: 2 },
            "stale swap must conflict: {o:?}"
        );
    }
    drop(store);

    let store = open(&url).await;
    for o in 0..60 {
        assert_eq!(
            store.state(&format!("log-{o}")).await.unwrap(),
            Some(state(2, "main"))
        );
    }
    assert_eq!(store.state("contested").await.unwrap(), Some(winner));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_group_commit_answers_errors_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("w.db").display());
    let store = open(&url).await;
    // A trigger makes any write for origin "poison" abort its transaction, so whatever
    // batch it lands in fails as a whole.
    let mut admin = SqliteConnection::connect(&url).await.unwrap();
    admin
        .execute(
            "CREATE TRIGGER poison BEFORE INSERT ON witness_state WHEN NEW.origin = 'poison' \
             BEGIN SELECT RAISE(ABORT, 'poisoned'); END",
        )
        .await
        .unwrap();
    admin.close().await.unwrap();

    let mut swaps: Vec<_> = (0..40)
        .map(|o| (format!("log-{o}"), None, state(3, "main")))
        .collect();
    swaps.insert(20, ("poison".to_owned(), None, state(1, "main")));
    let outcomes = swap_all(&store, swaps.clone()).await;
    assert!(
        matches!(outcomes[20], Err(StoreError::GroupCommit(_))),
        "{:?}",
        outcomes[20]
    );
    let mut failed = 0;
    for ((origin, _, new), outcome) in swaps.iter().zip(&outcomes) {
        let stored: Option<StoredState> = store.state(origin).await.unwrap();
        match outcome {
            Ok(CasOutcome::Committed) => assert_eq!(stored, Some(*new), "{origin}"),
            Err(StoreError::GroupCommit(_)) => {
                failed += 1;
                assert_eq!(stored, None, "{origin}: a failed batch must leave nothing");
            }
            other => panic!("{origin}: unexpected {other:?}"),
        }
    }
    assert!(failed >= 1);

    // The writer survives a failed batch: the failed origins can be submitted again.
    let retry: Vec<_> = swaps
        .into_iter()
        .zip(&outcomes)
        .filter(|((o, _, _), r)| r.is_err() && o != "poison")
        .map(|(s, _)| s)
        .collect();
    for outcome in swap_all(&store, retry).await {
        assert_eq!(outcome.unwrap(), CasOutcome::Committed);
    }
}
