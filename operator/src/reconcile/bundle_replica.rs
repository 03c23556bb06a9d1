//! BundleReplica reconciler: fetch a bundle by BLAKE3 hash from its source tickets over
//! iroh-blobs, check the bytes against the hash, verify provenance with
//! `nucleus_envelope::verify_bundle` against the referenced trust-anchor ConfigMap, and only
//! then store it (bytes and report) in the target ConfigMap.
//!
//! Fetched is not trusted: a hash-perfect bundle that fails provenance is never stored, and
//! a failed fetch or verification never blanks a replica stored earlier. A stored replica is
//! re-verified against the current anchor on every resync without fetching again.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
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
/// Target ConfigMap key holding the exact bundle bytes.
pub const BUNDLE_KEY: &str = "bundle.json";
/// Target ConfigMap key holding the verification report.
pub const REPORT_KEY: &str = "report.json";
/// Annotation on the target ConfigMap: BLAKE3 of the stored bundle bytes.
pub const HASH_ANNOTATION: &str = "trust.nucleus.dev/blake3";
/// Largest bundle stored: a ConfigMap holds at most 1 MiB in total, and the report and
/// metadata need room too.
pub const MAX_REPLICA_BYTES: u64 = 768 * 1024;
/// Largest ConfigMap payload (all keys) this reconciler writes.
pub const MAX_CONFIGMAP_BYTES: usize = 1_000_000;
// The limits nest: a stored bundle leaves room for its report inside a 1 MiB ConfigMap.
const _: () =
    assert!(MAX_REPLICA_BYTES < MAX_CONFIGMAP_BYTES as u64 && MAX_CONFIGMAP_BYTES < 1024 * 1024);

const FETCH_TIMEOUT: Duration = Duration::from_secs(60);
const RETRY: Duration = Duration::from_secs(30);

/// Starts the BundleReplica controller; returns after shutdown.
pub async fn run(ctx: Arc<Context>) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let controller = Controller::new(
        Api::<BundleReplica>::all(client.clone()),
        watcher::Config::default(),
    )
    .owns(
        Api::<ConfigMap>::all(client.clone()),
        watcher::Config::default().labels(MANAGED_SELECTOR),
    );
    let store = controller.store();
    // A rendered trust anchor (a QuorumPolicy's ConfigMap) that changes re-verifies every
    // replica that uses it.
    let controller = controller.watches(
        Api::<ConfigMap>::all(client),
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

/// How a failed fetch from one source counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailureClass {
    /// The source could not be reached or its ticket is unusable.
    Unreachable,
    /// The source answered, but not with bytes that hash to `spec.hash`.
    HashMismatch,
    /// The bundle is larger than a ConfigMap can hold.
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
        | FetchError::Transfer { .. }
        | FetchError::Read(_)
        | FetchError::HashMismatch { .. } => FailureClass::HashMismatch,
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

/// The conditions for a set of failed attempts (none succeeded): `(type, reason)` of the
/// Ready condition and whether each specific condition holds.
pub fn failure_verdicts(attempts: &[Attempt]) -> (&'static str, bool, bool) {
    let too_large = attempts.iter().any(|a| a.class == FailureClass::TooLarge);
    let mismatch = attempts
        .iter()
        .any(|a| a.class == FailureClass::HashMismatch);
    let unreachable = attempts
        .iter()
        .all(|a| a.class == FailureClass::Unreachable);
    let reason = if too_large {
        "BundleTooLarge"
    } else if mismatch {
        types::HASH_MISMATCH
    } else {
        types::SOURCE_UNREACHABLE
    };
    (reason, mismatch, unreachable)
}

/// The status summary of a verified report.
pub fn summarize(report: &VerificationReport) -> VerifiedSummary {
    let witnesses_counted = report
        .cosigners
        .iter()
        .map(|c| {
            c.policy_name
                .clone()
                .or_else(|| c.name.clone())
                .unwrap_or_else(|| c.key_hex.clone())
        })
        .collect();
    VerifiedSummary {
        edges: i64::try_from(report.edge_count).unwrap_or(i64::MAX),
        witnesses_counted,
        quorum_satisfied: report
            .quorum_satisfied
            .unwrap_or(report.cosigners.len() >= report.cosignature_threshold),
    }
}

/// The bytes stored in `cm` when they hash to `hash`.
pub fn stored_bytes(cm: &ConfigMap, hash: &BundleHash) -> Option<Vec<u8>> {
    let text = cm.data.as_ref()?.get(BUNDLE_KEY)?;
    hash.matches(text.as_bytes())
        .then(|| text.as_bytes().to_vec())
}

/// The outcome of loading the trust anchor.
enum AnchorLoad {
    Ok(TrustAnchor),
    Problem(&'static str, String),
}

async fn load_anchor(
    ctx: &Context,
    ns: &str,
    br: &BundleReplica,
) -> Result<AnchorLoad, ReconcileError> {
    let r = &br.spec.trust_anchor_ref;
    let api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), ns);
    let Some(cm) = api.get_opt(&r.config_map_name).await? else {
        return Ok(AnchorLoad::Problem(
            "TrustAnchorMissing",
            format!(
                "trust anchor ConfigMap {ns}/{} not found",
                r.config_map_name
            ),
        ));
    };
    let Some(text) = cm.data.as_ref().and_then(|d| d.get(&r.key)) else {
        return Ok(AnchorLoad::Problem(
            "TrustAnchorMissing",
            format!(
                "ConfigMap {ns}/{} has no key {:?}",
                r.config_map_name, r.key
            ),
        ));
    };
    Ok(match TrustAnchor::from_json(text) {
        Ok(anchor) => AnchorLoad::Ok(anchor),
        Err(e) => AnchorLoad::Problem(
            "TrustAnchorInvalid",
            format!("{ns}/{} key {:?}: {e}", r.config_map_name, r.key),
        ),
    })
}

/// Tries every source in order; the first that yields the verified bytes wins.
async fn fetch_from_sources(
    hash: &BundleHash,
    sources: &[String],
) -> Result<(usize, Vec<u8>), Vec<Attempt>> {
    let options = FetchOptions {
        max_size: Some(MAX_REPLICA_BYTES),
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
                    message: e.to_string(),
                });
                continue;
            }
        };
        match fetch(&ticket, hash, &options).await {
            Ok(fetched) => return Ok((i, fetched.bytes)),
            Err(e) => attempts.push(Attempt {
                source: i,
                class: classify(&e),
                message: e.to_string(),
            }),
        }
    }
    Err(attempts)
}

async fn reconcile(br: Arc<BundleReplica>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    let ns = br
        .namespace()
        .ok_or(ReconcileError::Incomplete("metadata.namespace"))?;
    let name = br.name_any();
    let generation = br.metadata.generation;
    let now = Timestamp::now();
    let api: Api<BundleReplica> = Api::namespaced(ctx.client.clone(), &ns);
    let cms: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &ns);
    let previous = br.status.clone();
    let mut status = previous.clone().unwrap_or_default();
    status.observed_generation = generation;
    let was_ready = conditions::is_true(&status.conditions, types::READY);
    let done = Finish {
        br: &br,
        ctx: &ctx,
        api: &api,
        previous,
        was_ready,
        generation,
        now,
    };

    let hash: BundleHash = match br.spec.hash.parse() {
        Ok(h) => h,
        Err(e) => {
            let msg = format!("spec.hash: {e}");
            return done
                .finish(
                    status,
                    Verdict::falsy(types::READY, "InvalidHash", msg),
                    Action::await_change(),
                )
                .await;
        }
    };

    let anchor = match load_anchor(&ctx, &ns, &br).await? {
        AnchorLoad::Ok(a) => a,
        AnchorLoad::Problem(reason, msg) => {
            return done
                .finish(
                    status,
                    Verdict::falsy(types::READY, reason, msg),
                    Action::requeue(RETRY),
                )
                .await;
        }
    };

    // The bytes: the stored replica when it still hashes right, else a fresh fetch.
    let target = target_name(&br);
    let existing = cms.get_opt(&target).await?;
    let (bytes, source_used) = match existing.as_ref().and_then(|cm| stored_bytes(cm, &hash)) {
        Some(bytes) => (bytes, status.source_used.clone()),
        None => match fetch_from_sources(&hash, &br.spec.sources).await {
            Ok((i, bytes)) => (bytes, br.spec.sources.get(i).cloned()),
            Err(attempts) => {
                let (reason, mismatch, unreachable) = failure_verdicts(&attempts);
                let msg = attempts
                    .iter()
                    .map(|a| format!("source {}: {}", a.source, a.message))
                    .collect::<Vec<_>>()
                    .join("; ");
                set_flag(
                    &mut status,
                    types::HASH_MISMATCH,
                    mismatch,
                    reason,
                    &msg,
                    &done,
                );
                set_flag(
                    &mut status,
                    types::SOURCE_UNREACHABLE,
                    unreachable,
                    reason,
                    &msg,
                    &done,
                );
                status.last_attempt = Some(Time(now));
                return done
                    .finish(
                        status,
                        Verdict::falsy(types::READY, reason, msg),
                        Action::requeue(RETRY),
                    )
                    .await;
            }
        },
    };
    set_flag(
        &mut status,
        types::HASH_MISMATCH,
        false,
        "Verified",
        "bytes hash to spec.hash",
        &done,
    );
    set_flag(
        &mut status,
        types::SOURCE_UNREACHABLE,
        false,
        "Fetched",
        "a source served the bundle",
        &done,
    );
    status.last_attempt = Some(Time(now));

    let report = match verify_bundle(&bytes, &anchor) {
        Ok(report) => report,
        Err(e) => {
            let msg = format!(
                "bytes match BLAKE3 {hash}, but byte integrity is not provenance: \
                 verify_bundle against {}/{} failed: {e} ({}); not stored",
                br.spec.trust_anchor_ref.config_map_name,
                br.spec.trust_anchor_ref.key,
                e.kind()
            );
            set_flag(
                &mut status,
                types::PROVENANCE_FAILED,
                true,
                "ProvenanceFailed",
                &msg,
                &done,
            );
            return done
                .finish(
                    status,
                    Verdict::falsy(types::READY, types::PROVENANCE_FAILED, msg),
                    Action::requeue(ctx.settings.resync),
                )
                .await;
        }
    };
    set_flag(
        &mut status,
        types::PROVENANCE_FAILED,
        false,
        "Verified",
        "verify_bundle accepted the bundle",
        &done,
    );

    // verify_bundle parsed the bytes as JSON, so they are UTF-8: stored exactly as fetched.
    let text = String::from_utf8(bytes).map_err(|_| ReconcileError::Incomplete("UTF-8 bundle"))?;
    let report_json = serde_json::to_string_pretty(&report)?;
    if text.len() + report_json.len() > MAX_CONFIGMAP_BYTES {
        let msg = format!(
            "bundle ({} bytes) and report ({} bytes) exceed the {MAX_CONFIGMAP_BYTES} bytes a ConfigMap can hold",
            text.len(),
            report_json.len()
        );
        return done
            .finish(
                status,
                Verdict::falsy(types::READY, "BundleTooLarge", msg),
                Action::await_change(),
            )
            .await;
    }
    let size = text.len();
    let cm = ConfigMap {
        metadata: ObjectMeta {
            name: Some(target.clone()),
            namespace: Some(ns.clone()),
            labels: Some(child_labels("bundle-replica", &name)),
            annotations: Some([(HASH_ANNOTATION.to_owned(), hash.to_hex())].into()),
            owner_references: Some(vec![owner_ref(br.as_ref())?]),
            ..Default::default()
        },
        data: Some(
            [
                (BUNDLE_KEY.to_owned(), text),
                (REPORT_KEY.to_owned(), report_json),
            ]
            .into(),
        ),
        ..Default::default()
    };
    apply(&cms, &target, &cm).await?;

    let summary = summarize(&report);
    let ready_msg = format!(
        "{size} bytes in ConfigMap {target}: {} edges, {} witnesses counted, quorum {}",
        summary.edges,
        summary.witnesses_counted.len(),
        if summary.quorum_satisfied {
            "satisfied"
        } else {
            "not satisfied"
        }
    );
    status.size = i64::try_from(size).ok();
    status.source_used = source_used;
    status.verified = Some(summary);
    status.config_map = Some(target);
    let resync = ctx.settings.resync;
    done.finish(
        status,
        Verdict::truthy(types::READY, "Replicated", ready_msg),
        Action::requeue(resync),
    )
    .await
}

fn set_flag(
    status: &mut BundleReplicaStatus,
    type_: &str,
    holds: bool,
    reason: &str,
    message: &str,
    done: &Finish<'_>,
) {
    let verdict = if holds {
        Verdict::truthy(type_, reason, message)
    } else {
        Verdict::falsy(type_, reason, message)
    };
    set_condition(&mut status.conditions, verdict, done.generation, done.now);
}

/// Writes the status with its Ready verdict and emits an event when readiness changes.
struct Finish<'a> {
    br: &'a BundleReplica,
    ctx: &'a Context,
    api: &'a Api<BundleReplica>,
    previous: Option<BundleReplicaStatus>,
    was_ready: bool,
    generation: Option<i64>,
    now: Timestamp,
}

impl Finish<'_> {
    async fn finish(
        &self,
        mut status: BundleReplicaStatus,
        ready: Verdict,
        action: Action,
    ) -> Result<Action, ReconcileError> {
        let is_ready = ready.is_true();
        let (reason, message) = (ready.reason.clone(), ready.message.clone());
        let changed_reason =
            conditions::find(&status.conditions, types::READY).is_none_or(|c| c.reason != reason);
        set_condition(&mut status.conditions, ready, self.generation, self.now);
        // `lastAttempt` alone changing is not worth a write.
        let mut comparable = status.clone();
        if let Some(prev) = &self.previous {
            comparable.last_attempt = prev.last_attempt.clone();
        }
        if self.previous.as_ref() != Some(&comparable) {
            apply_status(self.api, self.br, self.previous.as_ref(), &status).await?;
        }
        if self.was_ready != is_ready || (!is_ready && changed_reason) {
            publish_event(self.ctx, self.br, !is_ready, &reason, "Replicate", message).await;
        }
        Ok(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(class: FailureClass) -> Attempt {
        Attempt {
            source: 0,
            class,
            message: String::new(),
        }
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
            classify(&FetchError::TicketHashMismatch {
                ticket: h,
                requested: BundleHash::of(b"b")
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
    fn failure_verdicts_prefer_the_most_specific_reason() {
        use FailureClass::*;
        assert_eq!(
            failure_verdicts(&[attempt(Unreachable)]),
            (types::SOURCE_UNREACHABLE, false, true)
        );
        assert_eq!(
            failure_verdicts(&[attempt(Unreachable), attempt(HashMismatch)]),
            (types::HASH_MISMATCH, true, false)
        );
        assert_eq!(
            failure_verdicts(&[attempt(HashMismatch), attempt(TooLarge)]),
            ("BundleTooLarge", true, false)
        );
    }

    #[test]
    fn stored_bytes_are_reused_only_when_they_hash_right() {
        let bundle = "{\"format\":\"nucleus-bundle/v2\"}";
        let cm = ConfigMap {
            data: Some([(BUNDLE_KEY.to_owned(), bundle.to_owned())].into()),
            ..Default::default()
        };
        assert_eq!(
            stored_bytes(&cm, &BundleHash::of(bundle.as_bytes())),
            Some(bundle.as_bytes().to_vec())
        );
        assert_eq!(stored_bytes(&cm, &BundleHash::of(b"other")), None);
        assert_eq!(
            stored_bytes(&ConfigMap::default(), &BundleHash::of(b"")),
            None
        );
    }
}
