//! `verify-pr`: the enrollment gate's negative cases (each one must refuse) and the happy
//! path, through the library and the binary.

mod common;

use std::path::{Path, PathBuf};

use common::*;
use nucleus_trust_registry::diff::DiffError;
use nucleus_trust_registry::gate::{GateError, PullRequest, verify_pr};
use nucleus_trust_registry::github_oidc::{Expected, GithubJwks, OidcError};
use serde_json::{Value, json};
use tempfile::TempDir;

struct Fixture {
    _tmp: TempDir,
    base: PathBuf,
    head: PathBuf,
}

/// Base: the example registry without ci.example.org. Head: the example registry (the PR
/// adds ci.example.org).
fn fixture() -> Fixture {
    let tmp = TempDir::new().unwrap();
    let base = tmp.path().join("base");
    let head = tmp.path().join("head");
    copy_dir(&example_registry(), &base);
    copy_dir(&example_registry(), &head);
    std::fs::remove_dir_all(base.join("domains/ci.example.org")).unwrap();
    Fixture {
        _tmp: tmp,
        base,
        head,
    }
}

fn expected() -> Expected {
    Expected {
        issuer: ISSUER.into(),
        audience: AUDIENCE.into(),
        repository: HEAD_REPO.into(),
        repository_id: Some(555001),
        git_ref: HEAD_REF.into(),
        sha: HEAD_SHA.into(),
        events: vec!["push".into(), "workflow_dispatch".into()],
    }
}

fn jwks() -> GithubJwks {
    GithubJwks::parse(&std::fs::read(testdata("test-only-github-jwks.json")).unwrap()).unwrap()
}

fn ci_paths() -> Vec<String> {
    vec![
        "registry/domains/ci.example.org/bundle.json".into(),
        "registry/domains/ci.example.org/metadata.toml".into(),
    ]
}

fn gate(f: &Fixture, paths: &[String], token: &str) -> Result<(), GateError> {
    gate_with(f, paths, token, &expected())
}

fn gate_with(
    f: &Fixture,
    paths: &[String],
    token: &str,
    expected: &Expected,
) -> Result<(), GateError> {
    let pr = PullRequest {
        base: &f.base,
        head: &f.head,
        changed_paths: paths,
        prefix: "registry",
    };
    verify_pr(&pr, token, &jwks(), expected, now()).map(|_| ())
}

fn with(claims_patch: &[(&str, Value)]) -> String {
    let mut claims = claims();
    for (k, v) in claims_patch {
        claims[*k] = v.clone();
    }
    mint(&claims)
}

#[test]
fn a_valid_enrollment_passes_and_names_the_exact_binding() {
    let f = fixture();
    let pr = PullRequest {
        base: &f.base,
        head: &f.head,
        changed_paths: &ci_paths(),
        prefix: "registry",
    };
    let att = verify_pr(&pr, &mint(&claims()), &jwks(), &expected(), now()).unwrap();
    assert_eq!(att.token.repository_owner_id, CI_OWNER_ID);
    assert_eq!(att.token.repository_id, 555001);
    let binding = nucleus_trust_registry::registry::load_domain(&f.head, "ci.example.org").unwrap();
    assert_eq!(att.bindings["ci.example.org"], binding.digest_hex());
    assert_eq!(att.bindings.len(), 1);
}

#[test]
fn wrong_owner_id_is_refused() {
    let f = fixture();
    let token = with(&[("repository_owner_id", json!("1002"))]);
    let err = gate(&f, &ci_paths(), &token).unwrap_err();
    assert!(
        matches!(
            err,
            GateError::ProofOfControl(OidcError::Owner {
                expected: 1001,
                found: 1002,
                ..
            })
        ),
        "{err}"
    );
}

#[test]
fn renamed_org_squatter_is_refused_but_a_renamed_owner_keeps_control() {
    let f = fixture();
    // Someone registered the old login after a rename: same name, new numeric ID.
    let squatter = with(&[
        ("repository_owner", json!("example-ci-org")),
        ("repository_owner_id", json!("7777777")),
    ]);
    assert!(matches!(
        gate(&f, &ci_paths(), &squatter),
        Err(GateError::ProofOfControl(OidcError::Owner { .. }))
    ));
    // The real organisation under its new login: the pinned ID still matches.
    let renamed = with(&[("repository_owner", json!("example-ci-org-renamed"))]);
    gate(&f, &ci_paths(), &renamed).unwrap();
}

#[test]
fn expired_token_is_refused() {
    let f = fixture();
    let t = now();
    let token = with(&[
        ("iat", json!(t - 4000)),
        ("nbf", json!(t - 4600)),
        ("exp", json!(t - 3700)),
    ]);
    let err = gate(&f, &ci_paths(), &token).unwrap_err();
    assert!(
        matches!(err, GateError::ProofOfControl(OidcError::Expired { .. })),
        "{err}"
    );
}

#[test]
fn token_from_the_future_is_refused() {
    let f = fixture();
    let t = now();
    let token = with(&[("iat", json!(t + 3600)), ("exp", json!(t + 3900))]);
    assert!(matches!(
        gate(&f, &ci_paths(), &token),
        Err(GateError::ProofOfControl(OidcError::NotYetValid {
            claim: "iat",
            ..
        }))
    ));
}

#[test]
fn wrong_issuer_is_refused() {
    let f = fixture();
    let token = with(&[(
        "iss",
        json!("https://token.actions.githubusercontent.com/evil"),
    )]);
    assert!(matches!(
        gate(&f, &ci_paths(), &token),
        Err(GateError::ProofOfControl(OidcError::Issuer { .. }))
    ));
}

#[test]
fn unknown_kid_is_refused() {
    let f = fixture();
    let token = mint_with("test-only-github-rsa.pem", "some-other-kid", &claims());
    assert!(matches!(
        gate(&f, &ci_paths(), &token),
        Err(GateError::ProofOfControl(OidcError::UnknownKid(kid))) if kid == "some-other-kid"
    ));
}

#[test]
fn attacker_key_under_a_known_kid_is_refused() {
    let f = fixture();
    let token = mint_with("test-only-attacker-rsa.pem", KID, &claims());
    assert!(matches!(
        gate(&f, &ci_paths(), &token),
        Err(GateError::ProofOfControl(OidcError::BadSignature(_)))
    ));
}

#[test]
fn tampered_claims_break_the_signature() {
    let f = fixture();
    let token = mint(&claims());
    let parts: Vec<&str> = token.split('.').collect();
    let mut forged = claims();
    forged["repository_owner_id"] = json!("2002");
    use base64::Engine;
    let body = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&forged).unwrap());
    let token = format!("{}.{}.{}", parts[0], body, parts[2]);
    assert!(matches!(
        gate(&f, &ci_paths(), &token),
        Err(GateError::ProofOfControl(OidcError::BadSignature(_)))
    ));
}

#[test]
fn other_algorithms_are_refused_before_any_key_is_used() {
    use base64::Engine;
    let f = fixture();
    let b64 = |v: &Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    };
    for alg in ["none", "HS256", "RS512", "ES256"] {
        let token = format!(
            "{}.{}.",
            b64(&json!({"alg": alg, "kid": KID, "typ": "JWT"})),
            b64(&claims())
        );
        assert!(
            matches!(
                gate(&f, &ci_paths(), &token),
                Err(GateError::ProofOfControl(OidcError::Algorithm(a))) if a == alg
            ),
            "{alg}"
        );
    }
    let jku = format!(
        "{}.{}.",
        b64(&json!({"alg": "RS256", "kid": KID, "jku": "https://evil.example/jwks"})),
        b64(&claims())
    );
    assert!(matches!(
        gate(&f, &ci_paths(), &jku),
        Err(GateError::ProofOfControl(OidcError::Header(h))) if h == "jku"
    ));
}

#[test]
fn token_from_another_repository_is_refused() {
    let f = fixture();
    let token = with(&[("repository", json!("example-ci-org/some-other-repo"))]);
    assert!(matches!(
        gate(&f, &ci_paths(), &token),
        Err(GateError::ProofOfControl(OidcError::Binding {
            claim: "repository",
            ..
        }))
    ));
    let token = with(&[("repository_id", json!("555002"))]);
    assert!(matches!(
        gate(&f, &ci_paths(), &token),
        Err(GateError::ProofOfControl(OidcError::Binding {
            claim: "repository_id",
            ..
        }))
    ));
}

#[test]
fn token_for_another_audience_is_refused() {
    let f = fixture();
    for aud in [
        json!("https://github.com/example-ci-org"),
        json!([AUDIENCE, "sts.amazonaws.com"]),
    ] {
        let token = with(&[("aud", aud.clone())]);
        assert!(
            matches!(
                gate(&f, &ci_paths(), &token),
                Err(GateError::ProofOfControl(OidcError::Audience { .. }))
            ),
            "{aud}"
        );
    }
    // A one-element array holding exactly the audience is the same statement.
    gate(&f, &ci_paths(), &with(&[("aud", json!([AUDIENCE]))])).unwrap();
}

#[test]
fn token_for_another_commit_ref_or_event_is_refused() {
    let f = fixture();
    for (claim, value) in [
        ("sha", json!("ffffffffffffffffffffffffffffffffffffffff")),
        ("ref", json!("refs/heads/main")),
        ("event_name", json!("pull_request_target")),
    ] {
        let token = with(&[(claim, value)]);
        let err = gate(&f, &ci_paths(), &token).unwrap_err();
        assert!(
            matches!(&err, GateError::ProofOfControl(OidcError::Binding { claim: c, .. }) if *c == claim),
            "{claim}: {err}"
        );
    }
}

#[test]
fn a_pr_touching_another_orgs_domain_is_refused() {
    let f = fixture();
    let mut paths = ci_paths();
    paths.push("registry/domains/staging.example.org/bundle.json".into());
    let err = gate(&f, &paths, &mint(&claims())).unwrap_err();
    assert!(
        matches!(
            &err,
            GateError::ProofOfControl(OidcError::Owner { trust_domain, expected: 2002, found: 1001 })
                if trust_domain == "staging.example.org"
        ),
        "{err}"
    );
}

#[test]
fn an_empty_pr_is_refused() {
    let f = fixture();
    assert!(matches!(
        gate(&f, &[], &mint(&claims())),
        Err(GateError::Diff(DiffError::Empty))
    ));
}

#[test]
fn smuggled_paths_are_refused() {
    let f = fixture();
    let mut paths = ci_paths();
    paths.push("registry/.github/CODEOWNERS".into());
    assert!(matches!(
        gate(&f, &paths, &mint(&claims())),
        Err(GateError::Diff(DiffError::OutOfScope(_)))
    ));
}

#[test]
fn an_ownership_change_is_refused_even_with_the_new_owners_token() {
    let f = fixture();
    // The staging domain exists in the base under owner 2002; the PR re-pins it to 1001.
    let md = f.head.join("domains/staging.example.org/metadata.toml");
    let text = std::fs::read_to_string(&md)
        .unwrap()
        .replace("owner_id = 2002", "owner_id = 1001");
    std::fs::write(&md, text).unwrap();
    let paths = vec!["registry/domains/staging.example.org/metadata.toml".to_owned()];
    assert!(matches!(
        gate(&f, &paths, &mint(&claims())),
        Err(GateError::OwnerChange {
            base: 2002,
            head: 1001,
            ..
        })
    ));
}

#[test]
fn removal_and_invalid_domains_are_refused() {
    let f = fixture();
    std::fs::remove_dir_all(f.head.join("domains/ci.example.org")).unwrap();
    assert!(matches!(
        gate(&f, &ci_paths(), &mint(&claims())),
        Err(GateError::Removal(_))
    ));
    let f = fixture();
    std::fs::write(
        f.head.join("domains/ci.example.org/bundle.json"),
        br#"{"keys":[]}"#,
    )
    .unwrap();
    assert!(matches!(
        gate(&f, &ci_paths(), &mint(&claims())),
        Err(GateError::Layout(_))
    ));
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn the_binary_gates_and_writes_the_attestation() {
    let f = fixture();
    let work = TempDir::new().unwrap();
    let changed = write(work.path(), "changed.txt", &ci_paths().join("\n"));
    let good = write(work.path(), "good.jwt", &mint(&claims()));
    let bad = write(
        work.path(),
        "bad.jwt",
        &with(&[("repository_owner_id", json!("9"))]),
    );
    let attestation = work.path().join("attestation.json");
    let args = |token: &Path| {
        let mut cmd = registry_bin();
        cmd.arg("verify-pr")
            .arg("--registry")
            .arg(&f.head)
            .arg("--base")
            .arg(&f.base)
            .arg("--changed-paths")
            .arg(&changed)
            .arg("--token-file")
            .arg(token)
            .arg("--jwks")
            .arg(testdata("test-only-github-jwks.json"))
            .args(["--audience", AUDIENCE, "--head-repository", HEAD_REPO])
            .args(["--head-ref", HEAD_REF, "--head-sha", HEAD_SHA])
            .arg("--attestation-out")
            .arg(&attestation);
        cmd
    };
    let out = run(&mut args(&bad));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("repository_owner_id 9"));
    assert!(!attestation.exists(), "a refused PR leaves no attestation");
    let out = run(&mut args(&good));
    assert!(out.status.success());
    let att: nucleus_trust_registry::github_oidc::Attestation =
        serde_json::from_slice(&std::fs::read(&attestation).unwrap()).unwrap();
    assert_eq!(att.token.repository_owner_id, CI_OWNER_ID);
    assert!(att.bindings.contains_key("ci.example.org"));
}

#[test]
fn a_jwks_repeating_a_kid_is_refused() {
    let text = std::fs::read_to_string(testdata("test-only-github-jwks.json")).unwrap();
    let mut set: Value = serde_json::from_str(&text).unwrap();
    let key = set["keys"][0].clone();
    set["keys"].as_array_mut().unwrap().push(key);
    assert!(matches!(
        GithubJwks::parse(&serde_json::to_vec(&set).unwrap()),
        Err(OidcError::Jwks(reason)) if reason.contains("appears twice")
    ));
}
