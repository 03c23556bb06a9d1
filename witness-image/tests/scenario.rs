//! The shared litewitness scenario (testdata/litewitness-scenario), step by step, on SQLite
//! and Postgres, with a fixed clock so every 200 body must match the derived vectors
//! byte for byte.

mod common;

use common::*;
use nucleus_lineage::{Note, Vkey, verify_cosignature};
use nucleus_witness::config::{origin_hash_hex, parse_origin_line};
use serde_json::Value;

fn json(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(testdata(name)).unwrap()).unwrap()
}

async fn run_scenario(db: &Db) {
    let scenario = json("litewitness-scenario/scenario.json");
    let fixed = json("litewitness-scenario-fixed-clock.json");
    let origin = scenario["initial_state"]["origin"].as_str().unwrap();
    let line = format!("{origin}|{}", scenario["log_vkey"].as_str().unwrap());
    let origins = vec![parse_origin_line(&line, 1).unwrap()];
    let time = fixed["timestamp"].as_u64().unwrap();
    let w = start_in_process(
        &db.url(),
        origins.clone(),
        Some(time),
        "example.com/witness",
    )
    .await;
    assert_eq!(
        w.state.witness.vkey().to_string(),
        scenario["witness_vkey"].as_str().unwrap()
    );
    let client = http();
    let monitor = format!("{}/{}/checkpoint", w.base, origin_hash_hex(origin));
    assert_eq!(client.get(&monitor).send().await.unwrap().status(), 404);

    for step in scenario["steps"].as_array().unwrap() {
        let file = step["request"].as_str().unwrap();
        let body = std::fs::read(testdata(&format!("litewitness-scenario/{file}"))).unwrap();
        let (status, ct, text) = post(&client, &w.base, body.clone()).await;
        let want = step["expect_status"].as_u64().unwrap() as u16;
        assert_eq!(status, want, "step {file}: body {text:?}");
        match status {
            200 => {
                let note =
                    Note::parse(&body[body.windows(2).position(|p| p == b"\n\n").unwrap() + 2..])
                        .unwrap();
                let size = note.text.lines().nth(1).unwrap();
                let expected = fixed["responses"][size]["response_body"].as_str().unwrap();
                assert_eq!(text, expected, "step {file}: byte-exact cosignature");
                assert_eq!(ct, "text/plain; charset=utf-8");
            }
            409 => {
                assert_eq!(ct, "text/x.tlog.size", "step {file}");
                let want_body = if file.starts_with("07") { "3\n" } else { "5\n" };
                assert_eq!(text, want_body, "step {file}");
            }
            _ => assert!(!text.is_empty()),
        }
    }

    // The monitoring endpoint serves the size-5 checkpoint with the verified log signature
    // and our cosignature, which verifies.
    let r = client.get(&monitor).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let served = r.bytes().await.unwrap();
    let note = Note::parse(&served).unwrap();
    assert_eq!(
        note.text,
        fixed["responses"]["5"]["checkpoint_body"].as_str().unwrap()
    );
    assert_eq!(note.signatures.len(), 2);
    let log_key = Vkey::parse(scenario["log_vkey"].as_str().unwrap()).unwrap();
    note.verify(std::slice::from_ref(&log_key)).unwrap();
    let wkey = Vkey::parse(scenario["witness_vkey"].as_str().unwrap()).unwrap();
    assert_eq!(
        verify_cosignature(&wkey, &note.signatures[1], &note.text).unwrap(),
        time
    );
    assert_eq!(
        String::from_utf8(served.to_vec()).unwrap(),
        format!(
            "{}\n{}{}",
            note.text,
            note.signatures[0].to_line(),
            fixed["responses"]["5"]["response_body"].as_str().unwrap()
        )
    );
    drop(w);

    // A new witness on the same database (a restart): the first request replayed is a
    // rollback and gets 409 with the stored size.
    let w2 = start_in_process(&db.url(), origins, Some(time), "example.com/witness").await;
    let first = std::fs::read(testdata("litewitness-scenario/01-first-size1.req")).unwrap();
    let (status, ct, text) = post(&client, &w2.base, first).await;
    assert_eq!(
        (status, ct.as_str(), text.as_str()),
        (409, "text/x.tlog.size", "5\n")
    );
}

#[tokio::test]
async fn litewitness_scenario_sqlite() {
    run_scenario(&Db::sqlite()).await;
}

#[tokio::test]
async fn litewitness_scenario_postgres() {
    let Some(db) = Db::postgres("litewitness_scenario_postgres").await else {
        return;
    };
    run_scenario(&db).await;
    db.cleanup().await;
}

#[tokio::test]
async fn sumdb_origin_differs_from_key_name() {
    let db = Db::sqlite();
    let vkey = std::fs::read_to_string(testdata("other-requests/sum.golang.org.vkey")).unwrap();
    let line = format!("go.sum database tree|{}", vkey.trim());
    let w = start_in_process(
        &db.url(),
        vec![parse_origin_line(&line, 1).unwrap()],
        None,
        "w.example",
    )
    .await;
    let body = std::fs::read(testdata("other-requests/sumdb-first.req")).unwrap();
    let (status, _, text) = post(&http(), &w.base, body).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.starts_with("\u{2014} w.example "));
}
