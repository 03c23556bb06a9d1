//! BundleReplica reconciler: fetch a bundle by BLAKE3 hash from its source tickets over
//! iroh-blobs, check the bytes against the hash, verify provenance with
//! `nucleus_envelope::verify_bundle` against the referenced trust-anchor ConfigMap, and only
//! then store it (exact bytes in `binaryData`, the report in `data`) in the target ConfigMap.
//!
//! Fetched is not trusted: a hash-perfect bundle that fails provenance is never stored, and
//! a failed fetch never blanks a replica stored earlier. A stored replica whose bytes still
//! hash right is re-verified against the current anchor on every resync without fetching
//! again; if the anchor no longer accepts it, its bytes are kept (they are what the hash
//! names) but the report is dropped and the ConfigMap is marked `provenance: failed`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::ByteString;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Api, ResourceExt};
use nucleus_bundle_cas::{BundleHash, FetchError, FetchOptions, NodeTicket, fetch};
use nucleus_envelope::{TrustAnchor, VerificationReport, verify_bundle};

use super::common::{
    MANAGED_SELECTOR, ReconcileError, apply, apply_status, child_labels, owner_ref, publish_event,
};
use crate::api::v1alpha1::bundle_replica::VerifiedSummary;
use crate::api::v1alpha1::conditions::{self, Verdict, set_condition, types};
use crate::api::v1alpha1::{BundleReplica, BundleReplicaStatus};
use crate::context::Context;

/// Metric and log label of this controller.
pub const CONTROLLER: &str = "bundle-replica";
/// Target ConfigMap `binaryData` key holding the exact bundle bytes.
pub const BUNDLE_KEY: &str = "bundle.json";
/// Target ConfigMap `data` key holding the verification report (only while verified).
pub const REPORT_KEY: &str = "report.json";
/// Annotation on the target ConfigMap: BLAKE3 of the stored bundle bytes.
pub const HASH_ANNOTATION: &str = "trust.nucleus.dev/blake3";
/// Annotation on the target ConfigMap: `verified` or `failed` against the current anchor.
pub const PROVENANCE_ANNOTATION: &str = "trust.nucleus.dev/provenance";
/// The apiserver refuses a ConfigMap whose values (data and binaryData) exceed 1 MiB; keys
/// are counted here too, for margin.
pub const MAX_CONFIGMAP_BYTES: u64 = 1024 * 1024;
/// Largest bundle fetched: one that alone fills a ConfigMap. Checked against the
/// provider's proven size before the body is transferred.
pub const MAX_FETCH_BYTES: u64 = MAX_CONFIGMAP_BYTES - BUNDLE_KEY.len() as u64;

/// Deadline of one fetch from one source (connect, size proof, transfer).
const FETCH_TIMEOUT: Duration = Duration::from_secs(30);
/// Retry delay after a failure that may heal by itself (a source coming back, a missing
/// anchor or target conflict being fixed).
const RETRY: Duration = Duration::from_secs(30);

/// Starts the BundleReplica controller; returns after shutdown.
pub async fn run(ctx: Arc<Context>) -> anyhow::Result<()> {
    let controller = Controller::new(ctx.watched::<BundleReplica>(), watcher::Config::default())
        .owns(
            ctx.watched::<ConfigMap>(),
            watcher::Config::default().labels(MANAGED_SELECTOR),
        );
    let store = controller.store();
    // A rendered trust anchor (a QuorumPolicy's ConfigMap) that changes re-verifies every
    // replica that uses it. Anchors written by hand (unlabelled) are picked up on resync,
    // so the operator does not watch every ConfigMap in the cluster.
    let controller = controller.watches(
        ctx.watched::<ConfigMap>(),
        watcher::Config::default().labels(MANAGED_SELECTOR),
        move |cm: ConfigMap| {
            let ns = cm.namespace().unwrap_or_default();
            let name = cm.name_any();
            store
                .state()
                .iter()
                .filter(|r| {
                    r.namespace().as_deref() == Some(ns.as_str())
                        && r.spec.trust_anchor_ref.config_map_name == name
                })
                .map(|r| ObjectRef::from_obj(r.as_ref()))
                .collect::<Vec<_>>()
        },
    );
    super::common::drive(controller, ctx, CONTROLLER, reconcile).await;
    Ok(())
}

/// The target ConfigMap name: `spec.target.configMapName`, else `bundle-<name>`.
pub fn target_name(br: &BundleReplica) -> String {
    br.spec
        .target
        .as_ref()
        .and_then(|t| t.config_map_name.clone())
        .unwrap_or_else(|| format!("bundle-{}", br.name_any()))
}

/// What the target ConfigMap holds for this replica.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stored {
    /// There is no ConfigMap with the target name.
    Absent,
    /// A ConfigMap this replica does not control: never overwritten.
    Foreign,
    /// Ours, with bytes that hash to `spec.hash`: no need to fetch again.
    Intact(Vec<u8>),
    /// Ours, but the bytes are missing or do not hash to `spec.hash` (edited by hand).
    Damaged,
}

/// Classifies the target ConfigMap for the replica with uid `owner_uid`.
pub fn inspect_target(cm: Option<&ConfigMap>, owner_uid: &str, hash: &BundleHash) -> Stored {
    let Some(cm) = cm else {
        return Stored::Absent;
    };
    let controlled = cm
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|r| r.controller == Some(true) && r.uid == owner_uid);
    if !controlled {
        return Stored::Foreign;
    }
    match cm.binary_data.as_ref().and_then(|d| d.get(BUNDLE_KEY)) {
        Some(bytes) if hash.matches(&bytes.0) => Stored::Intact(bytes.0.clone()),
        _ => Stored::Damaged,
    }
}

/// How a failed fetch from one source counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureClass {
    /// The source could not be reached or its ticket is unusable.
    Unreachable,
    /// The source answered, but not with bytes that hash to `spec.hash` (or its ticket
    /// names other content).
    HashMismatch,
    /// The provider proved (bao proof against `spec.hash`) a size no ConfigMap can hold.
    TooLarge,
}

/// Classifies a fetch error.
pub fn classify(e: &FetchError) -> FailureClass {
    match e {
        FetchError::Bind(_)
        | FetchError::Connect(_)
        | FetchError::Timeout(_)
        | FetchError::NoDirectAddress
        | FetchError::NotRawBlob => FailureClass::Unreachable,
        FetchError::TicketHashMismatch { .. }
        | FetchError::NotServed { .. }
        | FetchError::Transfer { .. } => FailureClass::HashMismatch,
        FetchError::TooLarge { .. } => FailureClass::TooLarge,
    }
}

/// One failed attempt, for the status message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// Index of the source in `spec.sources`.
    pub source: usize,
    /// Classification.
    pub class: FailureClass,
    /// What went wrong.
    pub message: String,
}

/// The verified replica that the status describes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replica {
    /// Bundle size in bytes.
    pub size: u64,
    /// The ConfigMap holding it.
    pub config_map: String,
    /// The ticket the bytes came from (kept from the status when the stored copy was reused).
    pub source_used: Option<String>,
    /// The report summary.
    pub summary: VerifiedSummary,
}

/// Where one reconcile ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// `spec.hash` is not a BLAKE3 hex digest.
    InvalidHash(String),
    /// The trust anchor is missing or invalid; nothing was fetched or re-verified.
    AnchorUnavailable {
        /// `TrustAnchorMissing` or `TrustAnchorInvalid`.
        reason: &'static str,
        /// Details.
        message: String,
    },
    /// The target name belongs to a ConfigMap this replica does not control.
    TargetConflict(String),
    /// No source produced the bytes.
    FetchFailed(Vec<Attempt>),
    /// The bundle cannot fit in a ConfigMap; nothing is stored.
    TooLarge {
        /// Details.
        message: String,
        /// Whether the bytes were fetched and verified before the size refused them.
        verified: bool,
    },
    /// The bytes hash to `spec.hash` but `verify_bundle` refused them.
    ProvenanceFailed {
        /// Details.
        message: String,
        /// The bytes came from the stored replica (kept, marked failed) rather than a fetch
        /// (never stored).
        from_store: bool,
    },
    /// The operator is shutting down: the fetch was abandoned and nothing is recorded.
    Interrupted,
    /// Verified and stored.
    Replicated {
        /// What is stored.
        replica: Replica,
        /// The stored copy was reused (no fetch).
        from_store: bool,
    },
}

/// The bundle's reason when it cannot fit in a ConfigMap.
pub const TOO_LARGE: &str = "BundleTooLarge";

/// The Ready verdict followed by every other condition the outcome decides. Conditions an
/// outcome says nothing about (nothing was fetched or verified) are left as they were.
pub fn verdicts(outcome: &Outcome) -> Vec<Verdict> {
    use types::{HASH_MISMATCH, PROVENANCE_FAILED, READY, SOURCE_UNREACHABLE};
    let bytes_ok = |why: &str| Verdict::falsy(HASH_MISMATCH, "BytesVerified", why);
    let reached = |why: &str| Verdict::falsy(SOURCE_UNREACHABLE, "SourceReached", why);
    match outcome {
        Outcome::Interrupted => vec![],
        Outcome::InvalidHash(msg) => vec![Verdict::falsy(READY, "InvalidHash", msg.clone())],
        Outcome::AnchorUnavailable { reason, message } => {
            vec![Verdict::falsy(READY, reason, message.clone())]
        }
        Outcome::TargetConflict(msg) => vec![Verdict::falsy(READY, "TargetConflict", msg.clone())],
        Outcome::FetchFailed(attempts) => {
            let message = attempts
                .iter()
                .map(|a| format!("source {}: {}", a.source, a.message))
                .collect::<Vec<_>>()
                .join("; ");
            let mismatch = attempts
                .iter()
                .any(|a| a.class == FailureClass::HashMismatch);
            let unreachable = attempts
                .iter()
                .all(|a| a.class == FailureClass::Unreachable);
            let reason = if mismatch {
                HASH_MISMATCH
            } else {
                SOURCE_UNREACHABLE
            };
            let flag = |type_: &str, holds: bool| {
                if holds {
                    Verdict::truthy(type_, reason, message.clone())
                } else {
                    Verdict::falsy(type_, reason, message.clone())
                }
            };
            vec![
                Verdict::falsy(READY, reason, message.clone()),
                flag(HASH_MISMATCH, mismatch),
                flag(SOURCE_UNREACHABLE, unreachable),
                Verdict::unknown(PROVENANCE_FAILED, "NotFetched", "no bytes to verify"),
            ]
        }
        Outcome::TooLarge { message, verified } => vec![
            Verdict::falsy(READY, TOO_LARGE, message.clone()),
            bytes_ok("the proven size is for spec.hash"),
            reached("a source proved the bundle's size"),
            if *verified {
                Verdict::falsy(PROVENANCE_FAILED, "Verified", "verified, but not stored")
            } else {
                Verdict::unknown(PROVENANCE_FAILED, TOO_LARGE, "not fetched: too large")
            },
        ],
        Outcome::ProvenanceFailed {
            message,
            from_store,
        } => vec![
            Verdict::falsy(READY, PROVENANCE_FAILED, message.clone()),
            bytes_ok("the bytes hash to spec.hash"),
            if *from_store {
                Verdict::falsy(SOURCE_UNREACHABLE, "StoredReplica", "not fetched again")
            } else {
                reached("a source served the bundle")
            },
            Verdict::truthy(PROVENANCE_FAILED, PROVENANCE_FAILED, message.clone()),
        ],
        Outcome::Replicated {
            replica,
            from_store,
        } => vec![
            Verdict::truthy(READY, "Replicated", ready_message(replica)),
            bytes_ok("the bytes hash to spec.hash"),
            if *from_store {
                Verdict::falsy(SOURCE_UNREACHABLE, "StoredReplica", "not fetched again")
            } else {
                reached("a source served the bundle")
            },
            Verdict::falsy(
                PROVENANCE_FAILED,
                "Verified",
                "verify_bundle accepted the bundle against the trust anchor",
            ),
        ],
    }
}

fn ready_message(r: &Replica) -> String {
    format!(
        "{} bytes in ConfigMap {}: {} edges, {} witnesses counted, quorum {}",
        r.size,
        r.config_map,
        r.summary.edges,
        r.summary.witnesses_counted.len(),
        if r.summary.quorum_satisfied {
            "satisfied"
        } else {
            "not satisfied"
        }
    )
}

/// Updates the replica fields of `status` (size, configMap, sourceUsed, verified): they
/// describe a verified stored replica and nothing else.
pub fn record_replica(status: &mut BundleReplicaStatus, outcome: &Outcome) {
    match outcome {
        // Nothing was looked at: what the status said still stands.
        Outcome::Interrupted | Outcome::InvalidHash(_) | Outcome::AnchorUnavailable { .. } => {}
        Outcome::Replicated { replica, .. } => {
            status.size = i64::try_from(replica.size).ok();
            status.config_map = Some(replica.config_map.clone());
            status.source_used = replica.source_used.clone();
            status.verified = Some(replica.summary.clone());
        }
        // The bytes stay stored but are no longer vouched for.
        Outcome::ProvenanceFailed {
            from_store: true, ..
        } => status.verified = None,
        // No verified replica of ours is stored.
        Outcome::TargetConflict(_)
        | Outcome::FetchFailed(_)
        | Outcome::TooLarge { .. }
        | Outcome::ProvenanceFailed { .. } => {
            status.size = None;
            status.config_map = None;
            status.source_used = None;
            status.verified = None;
        }
    }
}

/// When to look again after `outcome`.
pub fn next_action(outcome: &Outcome, resync: Duration) -> Action {
    match outcome {
        // Immutable spec.hash: only a new object can fix it. The size is proven for the
        // hash, so no source or anchor change makes it fit.
        Outcome::InvalidHash(_) | Outcome::TooLarge { .. } => Action::await_change(),
        // The controller is draining; the next leader starts over.
        Outcome::Interrupted => Action::await_change(),
        Outcome::AnchorUnavailable { .. }
        | Outcome::TargetConflict(_)
        | Outcome::FetchFailed(_) => Action::requeue(RETRY),
        Outcome::ProvenanceFailed { .. } | Outcome::Replicated { .. } => Action::requeue(resync),
    }
}

/// The status summary of a verified report.
pub fn summarize(report: &VerificationReport) -> VerifiedSummary {
    let witnesses_counted = report
        .cosigners
        .iter()
        .map(|c| c.label().to_owned())
        .collect();
    VerifiedSummary {
        edges: i64::try_from(report.edge_count).unwrap_or(i64::MAX),
        witnesses_counted,
        // verify_bundle fails unless the threshold (and the policy, when the anchor has
        // one) is met, so a report without a policy verdict met its threshold.
        quorum_satisfied: report.quorum_satisfied.unwrap_or(true),
    }
}

/// The bytes a ConfigMap's values take against the apiserver's limit (keys included).
pub fn payload_bytes(cm: &ConfigMap) -> u64 {
    let data = cm.data.iter().flatten().map(|(k, v)| k.len() + v.len());
    let binary = cm
        .binary_data
        .iter()
        .flatten()
        .map(|(k, v)| k.len() + v.0.len());
    data.chain(binary).map(|n| n as u64).sum()
}

/// The target ConfigMap: the exact bytes in `binaryData`, the report in `data` when the
/// bundle verified (`report_json`), annotations saying which hash and whether it verified.
pub fn desired_config_map(
    br: &BundleReplica,
    target: &str,
    hash: &BundleHash,
    bytes: &[u8],
    report_json: Option<&str>,
) -> Result<ConfigMap, ReconcileError> {
    let provenance = if report_json.is_some() {
        "verified"
    } else {
        "failed"
    };
    Ok(ConfigMap {
        metadata: ObjectMeta {
            name: Some(target.to_owned()),
            namespace: br.namespace(),
            labels: Some(child_labels("BundleReplica", &br.name_any())),
            annotations: Some(BTreeMap::from([
                (HASH_ANNOTATION.to_owned(), hash.to_hex()),
                (PROVENANCE_ANNOTATION.to_owned(), provenance.to_owned()),
            ])),
            owner_references: Some(vec![owner_ref(br)?]),
            ..ObjectMeta::default()
        },
        binary_data: Some(BTreeMap::from([(
            BUNDLE_KEY.to_owned(),
            ByteString(bytes.to_vec()),
        )])),
        data: report_json.map(|r| BTreeMap::from([(REPORT_KEY.to_owned(), r.to_owned())])),
        ..ConfigMap::default()
    })
}

/// Whether `existing` differs from `desired` in anything this reconciler sets, so a stored
/// replica that is already right costs no write (and no 1 MiB request per resync).
pub fn needs_write(existing: Option<&ConfigMap>, desired: &ConfigMap) -> bool {
    let Some(cm) = existing else {
        return true;
    };
    let subset = |want: &Option<BTreeMap<String, String>>,
                  have: &Option<BTreeMap<String, String>>| {
        want.iter()
            .flatten()
            .all(|(k, v)| have.as_ref().and_then(|h| h.get(k)) == Some(v))
    };
    cm.binary_data != desired.binary_data
        || cm.data.clone().unwrap_or_default() != desired.data.clone().unwrap_or_default()
        || !subset(&desired.metadata.annotations, &cm.metadata.annotations)
        || !subset(&desired.metadata.labels, &cm.metadata.labels)
        || cm.metadata.owner_references != desired.metadata.owner_references
}

/// The outcome of loading the trust anchor.
enum AnchorLoad {
    Ok(Box<TrustAnchor>),
    Problem(Outcome),
}

async fn load_anchor(
    ctx: &Context,
    ns: &str,
    br: &BundleReplica,
) -> Result<AnchorLoad, ReconcileError> {
    let r = &br.spec.trust_anchor_ref;
    let problem =
        |reason, message| AnchorLoad::Problem(Outcome::AnchorUnavailable { reason, message });
    let api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), ns);
    let Some(cm) = api.get_opt(&r.config_map_name).await? else {
        return Ok(problem(
            "TrustAnchorMissing",
            format!(
                "trust anchor ConfigMap {ns}/{} not found",
                r.config_map_name
            ),
        ));
    };
    let Some(text) = cm.data.as_ref().and_then(|d| d.get(&r.key)) else {
        return Ok(problem(
            "TrustAnchorMissing",
            format!(
                "ConfigMap {ns}/{} has no key {:?}",
                r.config_map_name, r.key
            ),
        ));
    };
    Ok(match TrustAnchor::from_json(text) {
        Ok(anchor) => AnchorLoad::Ok(Box::new(anchor)),
        Err(e) => problem(
            "TrustAnchorInvalid",
            format!("{ns}/{} key {:?}: {e}", r.config_map_name, r.key),
        ),
    })
}

/// Tries the sources in order; the first that yields the verified bytes wins. A proven
/// oversize ends the search: every source serves the same bytes.
async fn fetch_from_sources(
    hash: &BundleHash,
    sources: &[String],
) -> Result<(usize, Vec<u8>), Vec<Attempt>> {
    let options = FetchOptions {
        max_size: Some(MAX_FETCH_BYTES),
        timeout: FETCH_TIMEOUT,
        ..FetchOptions::default()
    };
    let mut attempts = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        let ticket: NodeTicket = match source.parse() {
            Ok(t) => t,
            Err(e) => {
                attempts.push(Attempt {
                    source: i,
                    class: FailureClass::Unreachable,
                    message: format!("{e}"),
                });
                continue;
            }
        };
        match fetch(&ticket, hash, &options).await {
            Ok(fetched) => return Ok((i, fetched.bytes)),
            Err(e) => {
                let class = classify(&e);
                attempts.push(Attempt {
                    source: i,
                    class,
                    message: e.to_string(),
                });
                if class == FailureClass::TooLarge {
                    break;
                }
            }
        }
    }
    Err(attempts)
}

async fn reconcile(br: Arc<BundleReplica>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    let ns = br
        .namespace()
        .ok_or(ReconcileError::Incomplete("metadata.namespace"))?;
    let uid = br
        .metadata
        .uid
        .clone()
        .ok_or(ReconcileError::Incomplete("metadata.uid"))?;
    let api: Api<BundleReplica> = Api::namespaced(ctx.client.clone(), &ns);
    let cms: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &ns);
    let now = Timestamp::now();
    let mut status = br.status.clone().unwrap_or_default();

    let (outcome, fetched_at) = replicate(&br, &ctx, &ns, &uid, &cms).await?;
    if outcome == Outcome::Interrupted {
        return Ok(next_action(&outcome, ctx.settings.resync));
    }
    if fetched_at {
        status.last_attempt = Some(Time(now));
    }
    status.observed_generation = br.metadata.generation;
    for verdict in verdicts(&outcome) {
        set_condition(&mut status.conditions, verdict, br.metadata.generation, now);
    }
    record_replica(&mut status, &outcome);

    // `lastAttempt` alone changing is not worth a write.
    let previous = br.status.as_ref();
    let mut comparable = status.clone();
    if let Some(prev) = previous {
        comparable.last_attempt = prev.last_attempt.clone();
    }
    if previous != Some(&comparable) {
        apply_status(&api, &br, previous, &status).await?;
    }
    announce(&ctx, &br, previous, &status).await;
    Ok(next_action(&outcome, ctx.settings.resync))
}

/// Does the work; returns the outcome and whether a fetch was attempted.
async fn replicate(
    br: &BundleReplica,
    ctx: &Context,
    ns: &str,
    uid: &str,
    cms: &Api<ConfigMap>,
) -> Result<(Outcome, bool), ReconcileError> {
    let hash: BundleHash = match br.spec.hash.parse() {
        Ok(h) => h,
        Err(e) => return Ok((Outcome::InvalidHash(format!("spec.hash: {e}")), false)),
    };
    let anchor = match load_anchor(ctx, ns, br).await? {
        AnchorLoad::Ok(a) => a,
        AnchorLoad::Problem(outcome) => return Ok((outcome, false)),
    };
    let target = target_name(br);
    let existing = cms.get_opt(&target).await?;

    // The bytes: the stored replica when it still hashes right, else a fresh fetch.
    let (bytes, from_store, source_used) = match inspect_target(existing.as_ref(), uid, &hash) {
        Stored::Foreign => {
            let msg = format!(
                "ConfigMap {ns}/{target} exists and is not controlled by this BundleReplica; \
                 refusing to overwrite it (delete it or set spec.target.configMapName)"
            );
            return Ok((Outcome::TargetConflict(msg), false));
        }
        Stored::Intact(bytes) => (
            bytes,
            true,
            br.status.as_ref().and_then(|s| s.source_used.clone()),
        ),
        Stored::Absent | Stored::Damaged => {
            // A fetch can take FETCH_TIMEOUT per source: it must not hold up a shutdown.
            let fetched = tokio::select! {
                r = fetch_from_sources(&hash, &br.spec.sources) => r,
                () = ctx.shutdown.clone() => return Ok((Outcome::Interrupted, false)),
            };
            match fetched {
                Ok((i, bytes)) => (bytes, false, br.spec.sources.get(i).cloned()),
                Err(attempts) => {
                    let outcome = match attempts.iter().find(|a| a.class == FailureClass::TooLarge)
                    {
                        Some(a) => Outcome::TooLarge {
                            message: format!(
                                "source {}: {}; a ConfigMap holds at most {MAX_CONFIGMAP_BYTES} bytes",
                                a.source, a.message
                            ),
                            verified: false,
                        },
                        None => Outcome::FetchFailed(attempts),
                    };
                    return Ok((outcome, true));
                }
            }
        }
    };

    let report = match verify_bundle(&bytes, &anchor) {
        Ok(report) => report,
        Err(e) => {
            let r = &br.spec.trust_anchor_ref;
            let message = format!(
                "the {} bytes match BLAKE3 {hash}, but byte integrity is not provenance: \
                 verify_bundle against {ns}/{} key {:?} failed ({}): {e}; {}",
                bytes.len(),
                r.config_map_name,
                r.key,
                e.kind(),
                if from_store {
                    "the stored copy is kept, marked provenance=failed, without its report"
                } else {
                    "not stored"
                }
            );
            if from_store {
                let desired = desired_config_map(br, &target, &hash, &bytes, None)?;
                if needs_write(existing.as_ref(), &desired) {
                    apply(cms, &target, &desired).await?;
                }
            }
            return Ok((
                Outcome::ProvenanceFailed {
                    message,
                    from_store,
                },
                !from_store,
            ));
        }
    };

    let report_json = serde_json::to_string_pretty(&report)?;
    let desired = desired_config_map(br, &target, &hash, &bytes, Some(&report_json))?;
    let payload = payload_bytes(&desired);
    if payload > MAX_CONFIGMAP_BYTES {
        let message = format!(
            "the verified bundle ({} bytes) and its report ({} bytes) take {payload} bytes, \
             more than the {MAX_CONFIGMAP_BYTES} a ConfigMap holds; not stored",
            bytes.len(),
            report_json.len()
        );
        return Ok((
            Outcome::TooLarge {
                message,
                verified: true,
            },
            !from_store,
        ));
    }
    if needs_write(existing.as_ref(), &desired) {
        apply(cms, &target, &desired).await?;
    }
    let replica = Replica {
        size: bytes.len() as u64,
        config_map: target,
        source_used,
        summary: summarize(&report),
    };
    Ok((
        Outcome::Replicated {
            replica,
            from_store,
        },
        !from_store,
    ))
}

/// An event when readiness flips, or when a not-ready replica changes its reason.
async fn announce(
    ctx: &Context,
    br: &BundleReplica,
    previous: Option<&BundleReplicaStatus>,
    status: &BundleReplicaStatus,
) {
    let before = previous.and_then(|s| conditions::find(&s.conditions, types::READY));
    let Some(now) = conditions::find(&status.conditions, types::READY) else {
        return;
    };
    let is_ready = now.status == conditions::TRUE;
    let was_ready = before.is_some_and(|c| c.status == conditions::TRUE);
    let reason_changed = before.is_none_or(|c| c.reason != now.reason);
    if was_ready != is_ready || (!is_ready && reason_changed) {
        publish_event(
            ctx,
            br,
            !is_ready,
            &now.reason,
            "Replicate",
            now.message.clone(),
        )
        .await;
    }
}

#[cfg(test)]
#[path = "../../../crates/bundle-cas/benches/support/bundles.rs"]
mod test_bundles;

#[cfg(test)]
mod tests {
    use super::test_bundles as bundles;
    use super::*;
    use crate::api::v1alpha1::BundleReplicaSpec;
    use crate::api::v1alpha1::bundle_replica::{ReplicaTarget, TrustAnchorRef};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

    const UID: &str = "0f3c6a52-8d0e-4a8e-9a57-3f1b2f2c9d11";

    fn replica(target: Option<&str>) -> BundleReplica {
        let mut br = BundleReplica::new(
            "r1",
            BundleReplicaSpec {
                hash: BundleHash::of(b"x").to_hex(),
                sources: vec!["blobticket".into()],
                trust_anchor_ref: TrustAnchorRef {
                    config_map_name: "policy".into(),
                    key: "trust-anchor.json".into(),
                },
                target: target.map(|t| ReplicaTarget {
                    config_map_name: Some(t.into()),
                }),
            },
        );
        br.metadata.namespace = Some("ns".into());
        br.metadata.uid = Some(UID.into());
        br
    }

    fn attempt(class: FailureClass) -> Attempt {
        Attempt {
            source: 0,
            class,
            message: format!("{class:?}"),
        }
    }

    fn find<'a>(v: &'a [Verdict], type_: &str) -> &'a Verdict {
        v.iter()
            .find(|c| c.type_ == type_)
            .unwrap_or_else(|| panic!("no {type_} verdict in {v:?}"))
    }

    /// The anchor a QuorumPolicy renders for the test log: issuer JWKS, 2-of-3 witnesses
    /// by policy, the log key and origin.
    fn rendered_anchor() -> TrustAnchor {
        let a = bundles::anchor();
        let witnesses = &a.trusted_witnesses_hex;
        let text = format!(
            "log {}\nwitness w0 {}\nwitness w1 {}\nwitness w2 {}\ngroup q 2 w0 w1 w2\nquorum q\n",
            a.trust_witness_pubkey_hex.as_deref().unwrap(),
            witnesses[0],
            witnesses[1],
            witnesses[2]
        );
        let policy = super::super::quorum_policy::validate(&text).unwrap();
        let doc = super::super::quorum_policy::trust_anchor(
            &policy,
            &text,
            Some(bundles::ORIGIN),
            Some(serde_json::to_value(a.trust_jwks.as_ref().unwrap()).unwrap()),
        );
        TrustAnchor::from_json(&serde_json::to_string(&doc).unwrap()).unwrap()
    }

    #[test]
    fn target_defaults_to_bundle_name() {
        assert_eq!(target_name(&replica(None)), "bundle-r1");
        assert_eq!(target_name(&replica(Some("dr-copy"))), "dr-copy");
    }

    #[test]
    fn fetch_errors_map_to_conditions() {
        let h = BundleHash::of(b"a");
        assert_eq!(
            classify(&FetchError::Connect("refused".into())),
            FailureClass::Unreachable
        );
        assert_eq!(
            classify(&FetchError::Timeout(FETCH_TIMEOUT)),
            FailureClass::Unreachable
        );
        assert_eq!(
            classify(&FetchError::NoDirectAddress),
            FailureClass::Unreachable
        );
        assert_eq!(
            classify(&FetchError::TicketHashMismatch {
                ticket: h,
                requested: BundleHash::of(b"b")
            }),
            FailureClass::HashMismatch
        );
        assert_eq!(
            classify(&FetchError::NotServed {
                hash: h,
                reason: "not found".into()
            }),
            FailureClass::HashMismatch
        );
        assert_eq!(
            classify(&FetchError::Transfer {
                hash: h,
                reason: "bao".into()
            }),
            FailureClass::HashMismatch
        );
        assert_eq!(
            classify(&FetchError::TooLarge { size: 2, limit: 1 }),
            FailureClass::TooLarge
        );
    }

    #[test]
    fn unreachable_only_when_every_source_was() {
        use FailureClass::*;
        let v = verdicts(&Outcome::FetchFailed(vec![attempt(Unreachable)]));
        assert_eq!(v[0].type_, types::READY);
        assert!(!v[0].is_true());
        assert_eq!(v[0].reason, types::SOURCE_UNREACHABLE);
        assert!(find(&v, types::SOURCE_UNREACHABLE).is_true());
        assert!(!find(&v, types::HASH_MISMATCH).is_true());
        assert_eq!(
            find(&v, types::PROVENANCE_FAILED).status,
            conditions::UNKNOWN
        );

        let v = verdicts(&Outcome::FetchFailed(vec![
            attempt(Unreachable),
            attempt(HashMismatch),
        ]));
        assert_eq!(v[0].reason, types::HASH_MISMATCH);
        assert!(find(&v, types::HASH_MISMATCH).is_true());
        assert!(!find(&v, types::SOURCE_UNREACHABLE).is_true());
        assert!(v[0].message.contains("Unreachable") && v[0].message.contains("HashMismatch"));
    }

    #[test]
    fn provenance_failure_is_never_ready_and_clears_a_fetched_replica() {
        let mut status = BundleReplicaStatus {
            size: Some(10),
            config_map: Some("bundle-r1".into()),
            source_used: Some("blob…".into()),
            verified: Some(VerifiedSummary::default()),
            ..BundleReplicaStatus::default()
        };
        let fresh = Outcome::ProvenanceFailed {
            message: "byte integrity is not provenance".into(),
            from_store: false,
        };
        let v = verdicts(&fresh);
        assert!(!v[0].is_true());
        assert_eq!(v[0].reason, types::PROVENANCE_FAILED);
        assert!(find(&v, types::PROVENANCE_FAILED).is_true());
        assert!(!find(&v, types::HASH_MISMATCH).is_true());
        let mut kept = status.clone();
        record_replica(&mut status, &fresh);
        assert_eq!(status.size, None);
        assert_eq!(status.verified, None);

        // A stored copy the anchor no longer accepts: bytes stay, the summary goes.
        record_replica(
            &mut kept,
            &Outcome::ProvenanceFailed {
                message: String::new(),
                from_store: true,
            },
        );
        assert_eq!(kept.size, Some(10));
        assert_eq!(kept.config_map.as_deref(), Some("bundle-r1"));
        assert_eq!(kept.verified, None);
    }

    #[test]
    fn outcomes_that_looked_at_nothing_keep_the_status() {
        let status = BundleReplicaStatus {
            size: Some(10),
            verified: Some(VerifiedSummary::default()),
            ..BundleReplicaStatus::default()
        };
        for outcome in [
            Outcome::Interrupted,
            Outcome::InvalidHash("bad".into()),
            Outcome::AnchorUnavailable {
                reason: "TrustAnchorMissing",
                message: "gone".into(),
            },
        ] {
            let mut s = status.clone();
            record_replica(&mut s, &outcome);
            assert_eq!(s, status);
            let v = verdicts(&outcome);
            if outcome == Outcome::Interrupted {
                assert!(
                    v.is_empty(),
                    "an interrupted reconcile decides nothing: {v:?}"
                );
            } else {
                assert_eq!(v.len(), 1, "only Ready is decided: {v:?}");
                assert!(!v[0].is_true());
            }
        }
        let mut s = status.clone();
        record_replica(
            &mut s,
            &Outcome::FetchFailed(vec![attempt(FailureClass::Unreachable)]),
        );
        assert_eq!(s.size, None, "no verified replica is stored");
    }

    #[test]
    fn retries_and_waits() {
        let resync = Duration::from_secs(300);
        assert_eq!(
            next_action(&Outcome::InvalidHash(String::new()), resync),
            Action::await_change()
        );
        assert_eq!(
            next_action(
                &Outcome::TooLarge {
                    message: String::new(),
                    verified: false
                },
                resync
            ),
            Action::await_change()
        );
        assert_eq!(
            next_action(&Outcome::FetchFailed(vec![]), resync),
            Action::requeue(RETRY)
        );
        assert_eq!(
            next_action(&Outcome::TargetConflict(String::new()), resync),
            Action::requeue(RETRY)
        );
    }

    #[test]
    fn target_is_reused_only_when_ours_and_intact() {
        let br = replica(None);
        let bytes = bundles::bundle(&bundles::issuer(), 2, 50);
        let hash = BundleHash::of(&bytes);
        let cm = desired_config_map(&br, "bundle-r1", &hash, &bytes, Some("{}")).unwrap();
        assert_eq!(inspect_target(None, UID, &hash), Stored::Absent);
        assert_eq!(
            inspect_target(Some(&cm), UID, &hash),
            Stored::Intact(bytes.clone())
        );
        // Another object's ConfigMap, or one nobody controls, is never taken over.
        assert_eq!(
            inspect_target(Some(&cm), "another-uid", &hash),
            Stored::Foreign
        );
        let mut unowned = cm.clone();
        unowned.metadata.owner_references = None;
        assert_eq!(inspect_target(Some(&unowned), UID, &hash), Stored::Foreign);
        let mut not_controller = cm.clone();
        not_controller.metadata.owner_references = Some(vec![OwnerReference {
            controller: None,
            ..owner_ref(&br).unwrap()
        }]);
        assert_eq!(
            inspect_target(Some(&not_controller), UID, &hash),
            Stored::Foreign
        );
        // Edited bytes (one byte off, or gone) are fetched again.
        let mut edited = cm.clone();
        edited
            .binary_data
            .as_mut()
            .unwrap()
            .get_mut(BUNDLE_KEY)
            .unwrap()
            .0[0] ^= 1;
        assert_eq!(inspect_target(Some(&edited), UID, &hash), Stored::Damaged);
        let mut emptied = cm;
        emptied.binary_data = None;
        assert_eq!(inspect_target(Some(&emptied), UID, &hash), Stored::Damaged);
    }

    #[test]
    fn config_map_holds_exact_bytes_and_report_only_when_verified() {
        let br = replica(Some("dr"));
        let bytes = bundles::bundle(&bundles::issuer(), 2, 50);
        let hash = BundleHash::of(&bytes);
        let cm = desired_config_map(&br, "dr", &hash, &bytes, Some("{\"r\":1}")).unwrap();
        assert_eq!(cm.metadata.name.as_deref(), Some("dr"));
        assert_eq!(cm.metadata.namespace.as_deref(), Some("ns"));
        assert_eq!(cm.binary_data.as_ref().unwrap()[BUNDLE_KEY].0, bytes);
        assert_eq!(cm.data.as_ref().unwrap()[REPORT_KEY], "{\"r\":1}");
        let ann = cm.metadata.annotations.as_ref().unwrap();
        assert_eq!(ann[HASH_ANNOTATION], hash.to_hex());
        assert_eq!(ann[PROVENANCE_ANNOTATION], "verified");
        let owner = &cm.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!((owner.uid.as_str(), owner.controller), (UID, Some(true)));
        assert_eq!(
            payload_bytes(&cm),
            (BUNDLE_KEY.len() + bytes.len() + REPORT_KEY.len() + 7) as u64
        );

        let failed = desired_config_map(&br, "dr", &hash, &bytes, None).unwrap();
        assert_eq!(failed.data, None);
        assert_eq!(
            failed.metadata.annotations.as_ref().unwrap()[PROVENANCE_ANNOTATION],
            "failed"
        );
        assert_eq!(failed.binary_data, cm.binary_data);
    }

    #[test]
    fn a_stored_replica_that_is_right_costs_no_write() {
        let br = replica(None);
        let bytes = bundles::bundle(&bundles::issuer(), 1, 10);
        let hash = BundleHash::of(&bytes);
        let desired = desired_config_map(&br, "bundle-r1", &hash, &bytes, Some("{}")).unwrap();
        assert!(needs_write(None, &desired));
        // What the apiserver returns carries more than we sent; that is not a difference.
        let mut stored = desired.clone();
        stored.metadata.resource_version = Some("42".into());
        stored
            .metadata
            .annotations
            .as_mut()
            .unwrap()
            .insert("other/annotation".into(), "x".into());
        assert!(!needs_write(Some(&stored), &desired));
        // A changed report (new anchor) or a provenance flip is written.
        let newer = desired_config_map(&br, "bundle-r1", &hash, &bytes, Some("{\"v\":2}")).unwrap();
        assert!(needs_write(Some(&stored), &newer));
        let failed = desired_config_map(&br, "bundle-r1", &hash, &bytes, None).unwrap();
        assert!(needs_write(Some(&stored), &failed));
    }

    #[test]
    fn fetch_limit_leaves_room_for_the_key_only() {
        assert_eq!(
            MAX_FETCH_BYTES + BUNDLE_KEY.len() as u64,
            MAX_CONFIGMAP_BYTES
        );
    }

    #[test]
    fn verified_bundle_summary_names_the_policy_witnesses() {
        let bytes = bundles::bundle(&bundles::issuer(), 3, 100);
        let report = verify_bundle(&bytes, &rendered_anchor()).unwrap();
        let summary = summarize(&report);
        assert_eq!(summary.edges, 3);
        assert_eq!(summary.witnesses_counted, vec!["w0", "w1"]);
        assert!(summary.quorum_satisfied);
        let replica = Replica {
            size: bytes.len() as u64,
            config_map: "bundle-r1".into(),
            source_used: Some("blob…".into()),
            summary,
        };
        let v = verdicts(&Outcome::Replicated {
            replica,
            from_store: false,
        });
        assert!(v[0].is_true());
        assert!(
            v[0].message
                .ends_with("3 edges, 2 witnesses counted, quorum satisfied"),
            "{}",
            v[0].message
        );
        for t in [
            types::HASH_MISMATCH,
            types::SOURCE_UNREACHABLE,
            types::PROVENANCE_FAILED,
        ] {
            assert!(!find(&v, t).is_true(), "{t}");
        }
    }

    #[test]
    fn hash_perfect_forgery_fails_the_rendered_anchor() {
        // Signed, logged and cosigned, with a hash that matches its bytes exactly, but by an
        // issuer the anchor does not trust.
        let forged = bundles::bundle(&bundles::forger(), 2, 100);
        let hash = BundleHash::of(&forged);
        assert!(hash.matches(&forged));
        let err = verify_bundle(&forged, &rendered_anchor()).unwrap_err();
        assert_eq!(err.kind(), "unknown_kid");
    }
}
