//! The CRDs' CEL rules, evaluated client-side with kube's `cel` feature (the same rules the
//! apiserver enforces; the e2e suite checks the apiserver too).

use kube::core::ObjectMeta;
use nucleus_operator::api::v1alpha1::{
    BundleReplica, BundleReplicaSpec, FederatesWith, FederatesWithSpec, QuorumPolicy,
    QuorumPolicySpec,
};
use serde_json::json;

const KEY: &str = "de192ec3cc4e5c2c037b4980dda1b3e95fccb4fe7d90d0284cbd16661a06be9f";

fn qp(spec: serde_json::Value) -> QuorumPolicy {
    let spec: QuorumPolicySpec = serde_json::from_value(spec).expect("spec deserializes");
    QuorumPolicy {
        metadata: ObjectMeta {
            name: Some("p".into()),
            ..Default::default()
        },
        spec,
        status: None,
    }
}

fn structured() -> serde_json::Value {
    json!({
        "witnesses": [
            {"name": "a", "witnessRef": {"name": "witness-a"}},
            {"name": "b", "publicKey": KEY, "url": "https://b.example:8443"}
        ],
        "groups": [{"name": "q", "threshold": "2", "members": ["a", "b"]}],
        "quorum": "q"
    })
}

#[test]
fn structured_policy_is_accepted() {
    qp(structured())
        .validate_cel()
        .expect("valid structured policy");
}

#[test]
fn policy_text_alone_is_accepted() {
    qp(json!({"policyText": format!("witness a {KEY}\nquorum a\n")}))
        .validate_cel()
        .expect("valid text policy");
}

#[test]
fn text_and_structured_together_are_refused() {
    let mut spec = structured();
    spec["policyText"] = json!("quorum none\n");
    let err = qp(spec).validate_cel().expect_err("both forms");
    assert!(format!("{err:?}").contains("not both"), "{err:?}");
}

#[test]
fn structured_without_quorum_is_refused() {
    let mut spec = structured();
    spec.as_object_mut().unwrap().remove("quorum");
    assert!(qp(spec).validate_cel().is_err());
}

#[test]
fn quorum_must_name_a_member() {
    let mut spec = structured();
    spec["quorum"] = json!("nobody");
    let err = qp(spec).validate_cel().expect_err("unknown quorum");
    assert!(format!("{err:?}").contains("quorum must name"), "{err:?}");
}

#[test]
fn witness_needs_exactly_one_key_source() {
    let mut spec = structured();
    spec["witnesses"][0]["publicKey"] = json!(KEY);
    let err = qp(spec).validate_cel().expect_err("ref and key");
    assert!(
        format!("{err:?}").contains("exactly one of witnessRef or publicKey"),
        "{err:?}"
    );
    let mut spec = structured();
    spec["witnesses"][0]
        .as_object_mut()
        .unwrap()
        .remove("witnessRef");
    assert!(qp(spec).validate_cel().is_err(), "neither ref nor key");
}

#[test]
fn group_threshold_above_members_is_refused() {
    let mut spec = structured();
    spec["groups"][0]["threshold"] = json!("3");
    let err = qp(spec).validate_cel().expect_err("3 of 2");
    assert!(format!("{err:?}").contains("must not exceed"), "{err:?}");
}

fn fw(spec: serde_json::Value) -> FederatesWith {
    let spec: FederatesWithSpec = serde_json::from_value(spec).expect("spec deserializes");
    FederatesWith {
        metadata: ObjectMeta {
            name: Some("staging".into()),
            ..Default::default()
        },
        spec,
        status: None,
    }
}

fn fw_spec() -> serde_json::Value {
    json!({
        "trustDomain": "staging.example.org",
        "bundleEndpointURL": "https://bundle.staging.example.org/bundle",
        "target": {"namespace": "spire"}
    })
}

#[test]
fn federates_with_https_web_is_accepted() {
    fw(fw_spec()).validate_cel().expect("valid");
}

#[test]
fn federates_with_http_endpoint_is_refused() {
    let mut spec = fw_spec();
    spec["bundleEndpointURL"] = json!("http://bundle.staging.example.org/bundle");
    let err = fw(spec).validate_cel().expect_err("http");
    assert!(format!("{err:?}").contains("https://"), "{err:?}");
}

#[test]
fn https_spiffe_requires_endpoint_id_and_web_forbids_it() {
    let mut spec = fw_spec();
    spec["profile"] = json!("https_spiffe");
    assert!(
        fw(spec.clone()).validate_cel().is_err(),
        "missing endpointSPIFFEID"
    );
    spec["endpointSPIFFEID"] = json!("spiffe://staging.example.org/spire/server");
    fw(spec.clone())
        .validate_cel()
        .expect("https_spiffe with id");
    spec["profile"] = json!("https_web");
    assert!(fw(spec).validate_cel().is_err(), "id with https_web");
}

#[test]
fn refresh_interval_is_bounded() {
    let mut spec = fw_spec();
    spec["refreshInterval"] = json!("5m");
    fw(spec.clone()).validate_cel().expect("5m");
    spec["refreshInterval"] = json!("1s");
    assert!(fw(spec).validate_cel().is_err(), "1s is below the floor");
}

fn br(hash: &str) -> BundleReplica {
    let spec: BundleReplicaSpec = serde_json::from_value(json!({
        "hash": hash,
        "sources": ["ticket"],
        "trustAnchorRef": {"configMapName": "demo-quorum-policy"}
    }))
    .expect("spec deserializes");
    BundleReplica {
        metadata: ObjectMeta {
            name: Some("r".into()),
            ..Default::default()
        },
        spec,
        status: None,
    }
}

#[test]
fn bundle_replica_hash_is_immutable() {
    let a = br(&"a".repeat(64));
    let b = br(&"b".repeat(64));
    a.validate_cel().expect("valid");
    a.validate_cel_update(&a).expect("unchanged hash");
    let err = b.validate_cel_update(&a).expect_err("hash changed");
    assert!(format!("{err:?}").contains("immutable"), "{err:?}");
    assert_eq!(a.spec.trust_anchor_ref.key, "trust-anchor.json");
}
