//! Concurrent conflicting submissions: exactly one wins, the rest get 409 — in one process
//! (SQLite and Postgres) and across two witness processes sharing one Postgres database.

mod common;

use common::*;
use futures::future::join_all;

/// Fires `bodies` at once (round-robin over `bases`); returns (status, body) per request.
async fn fire(bases: &[String], bodies: Vec<Vec<u8>>) -> Vec<(u16, String)> {
    let client = http();
    join_all(bodies.into_iter().enumerate().map(|(i, b)| {
        let client = client.clone();
        let base = bases[i % bases.len()].clone();
        async move {
            let (s, _, t) = post(&client, &base, b).await;
            (s, t)
        }
    }))
    .await
}

/// Asserts exactly one 200 and that every other answer is 409 naming the winner's size
/// (or, for requests that lost before the winner committed, the size before the race).
fn one_winner(results: &[(u16, String)], sizes: &[usize], before: usize) -> usize {
    let winners: Vec<usize> = results
        .iter()
        .zip(sizes)
        .filter(|((s, _), _)| *s == 200)
        .map(|(_, &n)| n)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one winner: {results:?}");
    let winner = winners[0];
    for ((s, body), n) in results.iter().zip(sizes) {
        if *n == winner && *s == 200 {
            continue;
        }
        assert_eq!(*s, 409, "size {n}: {body}");
        assert!(
            body == &format!("{winner}\n") || body == &format!("{before}\n"),
            "size {n}: 409 body {body:?}, winner {winner}"
        );
    }
    winner
}

async fn race(bases: &[String], log: &TestLog, fork: &TestLog) {
    let client = http();
    assert_eq!(post(&client, &bases[0], log.request(0, 1)).await.0, 200);
    let mut current = 1;
    for round in 0..3 {
        // Dozens of valid extensions of the same stored state, all at once.
        let sizes: Vec<usize> = (current + 1..current + 41).collect();
        let bodies = sizes.iter().map(|&n| log.request(current, n)).collect();
        let results = fire(bases, bodies).await;
        let winner = one_winner(&results, &sizes, current);
        let (s, _, b) = post(&client, &bases[round % bases.len()], log.request(0, 1)).await;
        assert_eq!((s, b), (409, format!("{winner}\n")));
        current = winner;
    }
    // Forks racing against the true log at the same old size: one wins, and afterwards
    // the other branch is refused.
    let n = current + 5;
    let mut bodies = vec![log.request(current, n)];
    let mut sizes = vec![n];
    for k in 0..20 {
        let mut forked = fork.clone();
        forked.leaves[..current].copy_from_slice(&log.leaves[..current]);
        forked.leaves[current] = nucleus_lineage::merkle::leaf_hash(format!("fork {k}").as_bytes());
        bodies.push(forked.request(current, n));
        sizes.push(n);
    }
    let results = fire(bases, bodies.clone()).await;
    assert_eq!(
        results.iter().filter(|(s, _)| *s == 200).count(),
        1,
        "{results:?}"
    );
    assert!(
        results.iter().all(|(s, _)| *s == 200 || *s == 409),
        "{results:?}"
    );
    let winner = results.iter().position(|(s, _)| *s == 200).unwrap();
    // Every losing branch is now a fork of the stored tree: resubmitted at the stored
    // size, each is refused (422: same size, other root).
    for (i, body) in bodies.iter().enumerate() {
        if i == winner {
            continue;
        }
        let text = String::from_utf8(body.clone()).unwrap();
        let (_, note) = text.split_once("\n\n").unwrap();
        let again = format!("old {n}\n\n{note}");
        let (s, _, b) = post(&client, &bases[i % bases.len()], again.into_bytes()).await;
        assert_eq!(s, 422, "losing branch {i} must never be cosigned: {b}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conflicting_submissions_sqlite() {
    let db = Db::sqlite();
    let log = TestLog::new("example.com/race", 3, "main", 200);
    let fork = TestLog::new("example.com/race", 3, "fork", 200);
    let w = start_in_process(&db.url(), vec![log.parsed_origin_line()], None, "w.example").await;
    race(std::slice::from_ref(&w.base), &log, &fork).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn conflicting_submissions_postgres() {
    let Some(db) = Db::postgres("conflicting_submissions_postgres").await else {
        return;
    };
    let log = TestLog::new("example.com/race", 3, "main", 200);
    let fork = TestLog::new("example.com/race", 3, "fork", 200);
    let w = start_in_process(&db.url(), vec![log.parsed_origin_line()], None, "w.example").await;
    race(std::slice::from_ref(&w.base), &log, &fork).await;
    drop(w);
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_processes_on_one_postgres() {
    let Some(db) = Db::postgres("two_processes_on_one_postgres").await else {
        return;
    };
    let log = TestLog::new("example.com/race", 3, "main", 200);
    let fork = TestLog::new("example.com/race", 3, "fork", 200);
    let dir = tempfile::tempdir().unwrap();
    let origins = dir.path().join("origins.txt");
    std::fs::write(&origins, format!("# test\n{}\n", log.origin_line())).unwrap();
    let a = spawn_witness(&witness_args(&db.url(), &origins)).await;
    let b = spawn_witness(&witness_args(&db.url(), &origins)).await;
    race(&[a.base.clone(), b.base.clone()], &log, &fork).await;
    drop((a, b));
    db.cleanup().await;
}
