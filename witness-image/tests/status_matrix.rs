//! Every status code of POST /add-checkpoint, the malformed bodies that must be 400/413
//! (never 5xx), and the other endpoints.

mod common;

use common::*;
use nucleus_lineage::{Hash, Note, NoteSigner, Vkey, b64, verify_cosignature};
use nucleus_witness::config::origin_hash_hex;

const ORIGIN: &str = "example.com/matrix-log";
const T: u64 = 1_750_000_000;

fn witness_vkey() -> Vkey {
    Vkey::cosignature("w.example", &witness_key().verifying_key()).unwrap()
}

async fn matrix(db: &Db) {
    let log = TestLog::new(ORIGIN, 7, "main", 20);
    let w = start_in_process(
        &db.url(),
        vec![log.parsed_origin_line()],
        Some(T),
        "w.example",
    )
    .await;
    let c = http();
    let base = w.base.as_str();

    // 404: unknown origin (same key, other origin).
    let other = TestLog::new("example.com/other", 7, "main", 4);
    assert_eq!(post(&c, base, other.request(0, 1)).await.0, 404);

    // 403: signed by an untrusted key under the trusted name (key ID differs → no known line).
    let mut impostor = log.clone();
    impostor.signer =
        NoteSigner::new(ORIGIN, ed25519_dalek::SigningKey::from_bytes(&[9; 32])).unwrap();
    assert_eq!(post(&c, base, impostor.request(0, 1)).await.0, 403);
    // 403: a trusted line whose signature does not verify.
    let mut note = Note::parse(&log.checkpoint(1)).unwrap();
    note.signatures[0].blob[0] ^= 1;
    assert_eq!(
        post(&c, base, request_bytes(0, &[], &note.to_bytes()))
            .await
            .0,
        403
    );
    // 403 even when a good line from another key rides along.
    let mut mixed = Note::parse(&log.checkpoint(1)).unwrap();
    mixed.signatures[0].blob[5] ^= 0x40;
    mixed.signatures.push(impostor.signer.sign(&mixed.text));
    assert_eq!(
        post(&c, base, request_bytes(0, &[], &mixed.to_bytes()))
            .await
            .0,
        403
    );

    // 400: old > size (after the signature check).
    assert_eq!(
        post(&c, base, request_bytes(5, &[], &log.checkpoint(3)))
            .await
            .0,
        400
    );

    // 422: old = 0 with a non-empty proof.
    let junk: Hash = [1; 32];
    assert_eq!(
        post(&c, base, request_bytes(0, &[junk], &log.checkpoint(3)))
            .await
            .0,
        422
    );
    // 422: size 0 with a non-empty-tree root.
    let mut zero = Note::parse(&log.checkpoint(0)).unwrap();
    zero.text = zero
        .text
        .replace(&b64::encode(&log.root(0)), &b64::encode(&[7u8; 32]));
    zero.signatures = vec![log.signer.sign(&zero.text)];
    assert_eq!(
        post(&c, base, request_bytes(0, &[], &zero.to_bytes()))
            .await
            .0,
        422
    );

    // 409 when nothing is stored and old ≠ 0.
    let (s, ct, b) = post(&c, base, log.request(2, 4)).await;
    assert_eq!(
        (s, ct.as_str(), b.as_str()),
        (409, "text/x.tlog.size", "0\n")
    );

    // 200: first checkpoint; the cosignature verifies and carries the clock's time.
    let (s, ct, b) = post(&c, base, log.request(0, 4)).await;
    assert_eq!(s, 200, "{b}");
    assert_eq!(ct, "text/plain; charset=utf-8");
    let line = Note::parse(format!("{}\n{b}", log.checkpoint_text(4)).as_bytes()).unwrap();
    assert_eq!(line.signatures.len(), 1);
    assert_eq!(
        verify_cosignature(
            &witness_vkey(),
            &line.signatures[0],
            &log.checkpoint_text(4)
        )
        .unwrap(),
        T
    );

    // 409 with the stored size for a stale old, and for old 0 (how clients learn the size).
    for old in [0, 2, 3, 5] {
        let req = if old <= 4 {
            log.request(old, 6)
        } else {
            request_bytes(5, &[], &log.checkpoint(6))
        };
        let (s, ct, b) = post(&c, base, req).await;
        assert_eq!(
            (s, ct.as_str(), b.as_str()),
            (409, "text/x.tlog.size", "4\n"),
            "old {old}"
        );
    }

    // 422: bad consistency proof (wrong hash, too short, from a fork).
    let mut proof = nucleus_lineage::merkle::consistency_proof(&log.leaves[..9], 4).unwrap();
    proof[0][0] ^= 1;
    assert_eq!(
        post(&c, base, request_bytes(4, &proof, &log.checkpoint(9)))
            .await
            .0,
        422
    );
    assert_eq!(
        post(&c, base, request_bytes(4, &[], &log.checkpoint(9)))
            .await
            .0,
        422
    );
    let fork = TestLog::new(ORIGIN, 7, "fork", 20);
    assert_eq!(
        post(&c, base, fork.request(4, 9)).await.0,
        422,
        "fork must not be cosigned"
    );
    // 422: same size, different root (a fork at the stored size).
    assert_eq!(post(&c, base, fork.request(4, 4)).await.0, 422);
    // 422: equal sizes with a non-empty proof.
    assert_eq!(
        post(&c, base, request_bytes(4, &[junk], &log.checkpoint(4)))
            .await
            .0,
        422
    );

    // 200: same checkpoint again is re-cosigned; a valid extension advances.
    assert_eq!(post(&c, base, log.request(4, 4)).await.0, 200);
    assert_eq!(post(&c, base, log.request(4, 9)).await.0, 200);
    // The fork at the old size is now a rollback: 409.
    assert_eq!(post(&c, base, fork.request(4, 4)).await.0, 409);

    // Malformed bodies: 400, huge: 413; never 5xx.
    let good = log.request(9, 12);
    let text = String::from_utf8(good.clone()).unwrap();
    let hash_line = format!("{}\n", b64::encode(&[0u8; 32]));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("crlf", text.replace('\n', "\r\n").into_bytes()),
        ("crlf-note-only", {
            let (h, n) = text.split_once("\n\n").unwrap();
            format!("{h}\n\n{}", n.replace('\n', "\r\n")).into_bytes()
        }),
        (
            "missing blank line",
            text.replacen("\n\n", "\n", 1).into_bytes(),
        ),
        (
            "bad base64 proof",
            text.replacen("\n", "\n!!!!\n", 1).into_bytes(),
        ),
        ("non-canonical base64", {
            // 'B' sets a trailing pad bit: Go would decode it, a strict decoder must not.
            let i = text.find('\n').unwrap() + 1;
            let end = i + text[i..].find('\n').unwrap();
            let mut t = text.clone();
            t.replace_range(i..end, "KgEAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=");
            t.into_bytes()
        }),
        (
            "64 proof lines",
            format!(
                "old 9\n{}\n{}",
                hash_line.repeat(64),
                text.split_once("\n\n").unwrap().1
            )
            .into_bytes(),
        ),
        (
            "no old line",
            text.replacen("old 9", "olde 9", 1).into_bytes(),
        ),
        (
            "old leading zero",
            text.replacen("old 9", "old 09", 1).into_bytes(),
        ),
        ("empty", vec![]),
        ("binary", vec![0xff; 300]),
        (
            "note without signatures",
            format!("old 0\n\n{}", log.checkpoint_text(3)).into_bytes(),
        ),
        (
            "bad signature base64",
            text.replacen(
                "\u{2014} example.com/matrix-log ",
                "\u{2014} example.com/matrix-log *",
                1,
            )
            .into_bytes(),
        ),
    ];
    for (name, body) in cases {
        let (s, _, b) = post(&c, base, body).await;
        assert_eq!(s, 400, "{name}: {b}");
    }
    let (s, _, _) = post(&c, base, vec![b'a'; 64 * 1024 + 1]).await;
    assert_eq!(s, 413, "huge body");
    let mut huge_valid = format!("old 0\n\n{}", log.checkpoint_text(3)).into_bytes();
    huge_valid.extend(std::iter::repeat_n(b'x', 70_000));
    assert_eq!(post(&c, base, huge_valid).await.0, 413);
    // 63 proof lines is the maximum and parses (then fails the proof: 422, not 400).
    let p63 = format!(
        "old 9\n{}\n{}",
        hash_line.repeat(63),
        text.split_once("\n\n").unwrap().1
    );
    assert_eq!(post(&c, base, p63.into_bytes()).await.0, 422);
    // State is unchanged by all of the above.
    assert_eq!(post(&c, base, log.request(0, 12)).await.2, "9\n");
    assert_eq!(post(&c, base, good).await.0, 200);

    // Monitoring endpoint.
    let r = c
        .get(format!("{base}/{}/checkpoint", origin_hash_hex(ORIGIN)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let served = Note::parse(&r.bytes().await.unwrap()).unwrap();
    assert_eq!(served.text, log.checkpoint_text(12));
    served
        .verify(std::slice::from_ref(log.signer.vkey()))
        .unwrap();
    served.verify(&[witness_vkey()]).unwrap();
    for path in [
        format!("/{}/checkpoint", origin_hash_hex("example.com/other")),
        format!("/{}/checkpoint", origin_hash_hex(ORIGIN).to_uppercase()),
        "/zz/checkpoint".to_owned(),
    ] {
        assert_eq!(
            c.get(format!("{base}{path}"))
                .send()
                .await
                .unwrap()
                .status(),
            404,
            "{path}"
        );
    }

    // Info, health, readiness, metrics.
    let info: serde_json::Value = c
        .get(format!("{base}/info"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(info["name"], "w.example");
    assert_eq!(info["vkey"], witness_vkey().to_string());
    assert_eq!(
        info["public_key_hex"],
        hex::encode(witness_key().verifying_key().as_bytes())
    );
    assert_eq!(info["origins"][0]["origin"], ORIGIN);
    assert_eq!(
        info["origins"][0]["log_keys"][0],
        log.signer.vkey().to_string()
    );
    assert_eq!(
        c.get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(format!("{base}/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let m = c
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        m.contains(&format!(
            "nucleus_witness_last_cosigned_tree_size{{origin=\"{ORIGIN}\"}} 12"
        )),
        "{m}"
    );
    assert!(m.contains(&format!("origin=\"{ORIGIN}\",status=\"422\"")));
    assert!(m.contains("origin=\"unknown\",status=\"404\""));
    assert!(m.contains("nucleus_witness_add_checkpoint_duration_seconds_bucket"));
}

#[tokio::test]
async fn status_matrix_sqlite() {
    matrix(&Db::sqlite()).await;
}

#[tokio::test]
async fn status_matrix_postgres() {
    let Some(db) = Db::postgres("status_matrix_postgres").await else {
        return;
    };
    matrix(&db).await;
    db.cleanup().await;
}
