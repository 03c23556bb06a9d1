//! State survives SIGKILL and restart; a database outage answers 503 and never cosigns.

mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use nucleus_lineage::Note;
use nucleus_witness::config::origin_hash_hex;

async fn kill9_and_restart(db: &Db) {
    let log = TestLog::new("example.com/durable", 5, "main", 20);
    let dir = tempfile::tempdir().unwrap();
    let origins = dir.path().join("origins.txt");
    std::fs::write(&origins, format!("{}\n", log.origin_line())).unwrap();
    let args = witness_args(&db.url(), &origins);
    let c = http();

    let mut w = spawn_witness(&args).await;
    assert_eq!(post(&c, &w.base, log.request(0, 5)).await.0, 200);
    assert_eq!(post(&c, &w.base, log.request(5, 8)).await.0, 200);
    w.kill9();

    let w = spawn_witness(&args).await;
    // The rolled-back checkpoint, presented as a first submission, is refused.
    for old_size in [1, 3, 5] {
        let (s, ct, b) = post(&c, &w.base, log.request(0, old_size)).await;
        assert_eq!(
            (s, ct.as_str(), b.as_str()),
            (409, "text/x.tlog.size", "8\n")
        );
    }
    // And a fork at the stored size is refused.
    let fork = TestLog::new("example.com/durable", 5, "fork", 20);
    assert_eq!(post(&c, &w.base, fork.request(8, 8)).await.0, 422);
    // The monitoring endpoint still serves size 8; the log continues from there.
    let r = c
        .get(format!(
            "{}/{}/checkpoint",
            w.base,
            origin_hash_hex("example.com/durable")
        ))
        .send()
        .await
        .unwrap();
    let note = Note::parse(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(note.text, log.checkpoint_text(8));
    assert_eq!(post(&c, &w.base, log.request(8, 13)).await.0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_and_restart_sqlite() {
    kill9_and_restart(&Db::sqlite()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_and_restart_postgres() {
    let Some(db) = Db::postgres("kill9_and_restart_postgres").await else {
        return;
    };
    kill9_and_restart(&db).await;
    db.cleanup().await;
}

/// A TCP proxy we can cut: stopping it closes every connection and refuses new ones.
struct Proxy {
    addr: SocketAddr,
    tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>>,
}

impl Proxy {
    async fn start(listen: SocketAddr, target: SocketAddr) -> Proxy {
        let listener = tokio::net::TcpListener::bind(listen).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tasks: Arc<Mutex<Vec<tokio::task::JoinHandle<()>>>> = Arc::default();
        let inner = tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let conn = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                inner.lock().unwrap().push(conn);
            }
        });
        tasks.lock().unwrap().push(accept);
        Proxy { addr, tasks }
    }

    fn stop(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_outage_answers_503_postgres() {
    let Some(db) = Db::postgres("database_outage_answers_503_postgres").await else {
        return;
    };
    let url = db.url();
    let target: SocketAddr = url
        .split('@')
        .nth(1)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let proxy = Proxy::start("127.0.0.1:0".parse().unwrap(), target).await;
    let proxied = url.replace(&target.to_string(), &proxy.addr.to_string());

    let log = TestLog::new("example.com/outage", 6, "main", 20);
    let w = start_in_process(&proxied, vec![log.parsed_origin_line()], None, "w.example").await;
    let c = http();
    assert_eq!(post(&c, &w.base, log.request(0, 2)).await.0, 200);

    proxy.stop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    for _ in 0..3 {
        let r = c
            .post(format!("{}/add-checkpoint", w.base))
            .body(log.request(2, 4))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "1");
        let body = r.text().await.unwrap();
        assert!(
            !body.contains('\u{2014}'),
            "no cosignature line in a 503: {body}"
        );
    }
    assert_eq!(
        c.get(format!("{}/readyz", w.base))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );
    // Bad input is still judged without the database.
    assert_eq!(post(&c, &w.base, b"garbage".to_vec()).await.0, 400);
    assert_eq!(
        post(&c, &w.base, request_bytes(5, &[], &log.checkpoint(4)))
            .await
            .0,
        400
    );

    // Back up: the witness recovers with the state it had.
    let _proxy = Proxy::start(proxy.addr, target).await;
    let mut status = 0;
    for _ in 0..50 {
        status = post(&c, &w.base, log.request(2, 4)).await.0;
        if status == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, 200);
    assert_eq!(post(&c, &w.base, log.request(0, 1)).await.2, "4\n");
    drop(w);
    db.cleanup().await;
}
