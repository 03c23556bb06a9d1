//! FederatesWith reconciler: fetches the foreign trust domain's SPIFFE bundle over
//! `https_web`, applies the strict anti-rollback rules of `nucleus_federation`, and writes
//! the accepted bundle to a ConfigMap (`bundle.json`, `keys.json`, `trust-domain`).
//!
//! * The accepted sequence is kept in `status.sequence` **and** in the ConfigMap annotation
//!   [`SEQUENCE_ANNOTATION`]; every reconcile rebuilds the anti-rollback state from both
//!   (the higher wins) plus the stored `bundle.json`, so an operator restart cannot roll it
//!   back: there is no in-memory state to lose.
//! * A refusal, a malformed body or a fetch error never touches the ConfigMap: the last
//!   good keys stay in force (`Stale=True`, `RollbackRefused=True` for a refusal).
//! * A higher sequence with an empty `keys` array is a revocation and is written.
//! * `spec.sequenceReset` with a new `id` lets the next bundle in at any sequence, once;
//!   the applied id is recorded in status and on the ConfigMap.
//! * Fetches happen when due: at the bundle's refresh hint (bounded) or
//!   `spec.refreshInterval`, on a spec change, or when a reset is pending. Status writes
//!   (which re-trigger reconciles) do not cause extra fetches.
//! * `profile: https_spiffe` is not implemented: `Ready=False`, reason
//!   `ProfileNotSupported`, nothing fetched.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Api, ResourceExt};
use nucleus_federation::bundle::KeyMaterial;
use nucleus_federation::config::parse_endpoint_url;
use nucleus_federation::{
    FetchOptions, HttpsWebFetcher, Ingested, RefreshBounds, RefreshError, Refusal, RollbackGuard,
    RollbackPolicy, SpiffeBundle, TrustDomain, TrustRoots, refresh_once,
};

use super::common::{
    MANAGED_SELECTOR, ReconcileError, apply, apply_status, child_labels, owner_ref, publish_event,
};
use crate::api::v1alpha1::conditions::{self, Verdict, set_condition, types};
use crate::api::v1alpha1::federates_with::BundleEndpointProfile;
use crate::api::v1alpha1::{FederatesWith, FederatesWithStatus};
use crate::context::Context;

/// Metric and log label of this controller.
pub const CONTROLLER: &str = "federates-with";
/// ConfigMap key of the accepted bundle (only usable entries, re-parseable).
pub const BUNDLE_KEY: &str = "bundle.json";
/// ConfigMap key of the per-key listing.
pub const KEYS_KEY: &str = "keys.json";
/// ConfigMap key naming the trust domain the bundle belongs to.
pub const TRUST_DOMAIN_KEY: &str = "trust-domain";
/// ConfigMap annotation holding the accepted `spiffe_sequence` (exact u64).
pub const SEQUENCE_ANNOTATION: &str = "trust.nucleus.dev/spiffe-sequence";
/// ConfigMap annotation holding the last applied `spec.sequenceReset.id`.
pub const RESET_ANNOTATION: &str = "trust.nucleus.dev/last-reset-id";

const RETRY_MISSING: Duration = Duration::from_secs(15);

/// Starts the FederatesWith controller; returns after shutdown.
pub async fn run(ctx: Arc<Context>) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let controller = Controller::new(
        Api::<FederatesWith>::all(client.clone()),
        watcher::Config::default(),
    )
    .owns(
        Api::<ConfigMap>::all(client),
        watcher::Config::default().labels(MANAGED_SELECTOR),
    );
    super::common::drive(controller, ctx, CONTROLLER, reconcile).await;
    Ok(())
}

/// Name of the bundle ConfigMap of `fw`.
pub fn config_map_name(fw: &FederatesWith) -> String {
    fw.spec
        .target
        .config_map_name
        .clone()
        .unwrap_or_else(|| format!("federation-{}", fw.name_any()))
}

/// Parses a Go-style duration (`90s`, `5m`, `1h30m`, `250ms`).
pub fn parse_go_duration(text: &str) -> Option<Duration> {
    let mut total = Duration::ZERO;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit() && c != '.')?;
        let (number, tail) = rest.split_at(digits);
        let value: f64 = number.parse().ok()?;
        let unit_len = tail
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(tail.len());
        let (unit, tail) = tail.split_at(unit_len);
        let secs = match unit {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 0.001,
            _ => return None,
        };
        total = total.checked_add(Duration::try_from_secs_f64(value * secs).ok()?)?;
        rest = tail;
    }
    Some(total)
}

/// The anti-rollback state rebuilt from what was persisted: the higher of the status and
/// annotation sequences, and the stored bundle copy. A stored copy that no longer parses is
/// dropped (its sequence still counts through the annotation).
pub fn restore_guard(
    policy: RollbackPolicy,
    status: Option<&FederatesWithStatus>,
    config_map: Option<&ConfigMap>,
) -> RollbackGuard {
    let from_status = status
        .and_then(|s| s.sequence)
        .and_then(|s| u64::try_from(s).ok());
    let from_annotation = config_map
        .and_then(|cm| cm.metadata.annotations.as_ref())
        .and_then(|a| a.get(SEQUENCE_ANNOTATION))
        .and_then(|v| v.parse::<u64>().ok());
    let last = match (from_status, from_annotation) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    let stored = config_map
        .and_then(|cm| cm.data.as_ref())
        .and_then(|d| d.get(BUNDLE_KEY))
        .and_then(|text| SpiffeBundle::parse(text.as_bytes()).ok());
    RollbackGuard::restore(policy, last, stored)
}

/// The reset id already applied, from status or the ConfigMap annotation.
pub fn applied_reset_id(
    status: Option<&FederatesWithStatus>,
    config_map: Option<&ConfigMap>,
) -> Vec<String> {
    let mut ids = Vec::new();
    if let Some(id) = status.and_then(|s| s.last_reset_id.clone()) {
        ids.push(id);
    }
    if let Some(id) = config_map
        .and_then(|cm| cm.metadata.annotations.as_ref())
        .and_then(|a| a.get(RESET_ANNOTATION))
    {
        ids.push(id.clone());
    }
    ids
}

/// The per-key listing written to `keys.json`.
pub fn key_listing(bundle: &SpiffeBundle) -> serde_json::Value {
    let jwt: Vec<serde_json::Value> = bundle
        .jwt_keys()
        .iter()
        .map(|k| {
            let (kty, detail) = match k.material() {
                KeyMaterial::Ec { .. } => ("EC", k.material().describe()),
                KeyMaterial::Rsa { .. } => ("RSA", k.material().describe()),
            };
            serde_json::json!({
                "use": "jwt-svid",
                "kid": k.kid(),
                "kty": kty,
                "key": detail,
                "thumbprint": k.material().thumbprint(),
            })
        })
        .collect();
    serde_json::json!({
        "sequence": bundle.sequence(),
        "refreshHintSeconds": bundle.refresh_hint_secs(),
        "jwtSvid": jwt,
        "x509SvidAuthorities": bundle.x509_authorities().count(),
        "ignoredEntries": bundle.ignored().iter().map(|i| serde_json::json!({
            "index": i.index, "kid": i.kid, "reason": i.reason.to_string()
        })).collect::<Vec<_>>(),
    })
}

/// Condition reason of a refresh failure.
pub fn failure_reason(err: &RefreshError) -> &'static str {
    match err {
        RefreshError::Fetch(_) => "FetchFailed",
        RefreshError::Malformed(_) => "MalformedBundle",
        RefreshError::Refused(Refusal::Rollback { .. }) => "SequenceRollback",
        RefreshError::Refused(Refusal::SameSequenceDifferentKeys { .. }) => {
            "SameSequenceDifferentKeys"
        }
        RefreshError::Refused(Refusal::MissingSequence) => "MissingSequence",
        RefreshError::Refused(Refusal::SequenceDropped { .. }) => "SequenceDropped",
    }
}

fn to_time(t: Timestamp) -> Time {
    Time(t)
}

fn add(t: Timestamp, d: Duration) -> Timestamp {
    jiff::SignedDuration::try_from(d)
        .ok()
        .and_then(|d| t.checked_add(d).ok())
        .unwrap_or(Timestamp::MAX)
}

async fn reconcile(fw: Arc<FederatesWith>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    let generation = fw.metadata.generation;
    let now = Timestamp::now();
    let api: Api<FederatesWith> = Api::all(ctx.client.clone());
    let previous = fw.status.clone();
    let mut status = previous.clone().unwrap_or_default();
    let spec_changed = status.observed_generation != generation;
    status.observed_generation = generation;
    let was_ready = conditions::is_true(&status.conditions, types::READY);
    let finish = Finish {
        fw: &fw,
        ctx: &ctx,
        api: &api,
        previous: previous.as_ref(),
        was_ready,
        generation,
        now,
    };

    // 1. Spec checks the schema cannot express.
    if fw.spec.profile != BundleEndpointProfile::HttpsWeb {
        let msg = "profile https_spiffe is not implemented; only https_web is supported";
        return finish
            .done(
                status,
                Verdict::falsy(types::READY, "ProfileNotSupported", msg),
                Action::await_change(),
            )
            .await;
    }
    let trust_domain = match TrustDomain::new(&fw.spec.trust_domain) {
        Ok(td) => td,
        Err(e) => {
            let v = Verdict::falsy(types::READY, "InvalidSpec", format!("trustDomain: {e}"));
            return finish.done(status, v, Action::await_change()).await;
        }
    };
    let url = match parse_endpoint_url(&fw.spec.bundle_endpoint_url) {
        Ok(u) => u,
        Err(e) => {
            let v = Verdict::falsy(types::READY, "InvalidSpec", e.to_string());
            return finish.done(status, v, Action::await_change()).await;
        }
    };
    let override_interval = match fw.spec.refresh_interval.as_deref().map(parse_go_duration) {
        None => None,
        Some(Some(d)) => Some(d),
        Some(None) => {
            let v = Verdict::falsy(
                types::READY,
                "InvalidSpec",
                "refreshInterval is not a duration like 30s, 5m or 1h",
            );
            return finish.done(status, v, Action::await_change()).await;
        }
    };

    // 2. Persisted anti-rollback state.
    let cm_ns = fw.spec.target.namespace.clone();
    let cm_name = config_map_name(&fw);
    let cm_api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &cm_ns);
    let stored_cm = cm_api.get_opt(&cm_name).await?;
    let policy = RollbackPolicy {
        accept_unsequenced: fw.spec.accept_unsequenced,
    };
    let mut guard = restore_guard(policy, previous.as_ref(), stored_cm.as_ref());
    let applied = applied_reset_id(previous.as_ref(), stored_cm.as_ref());
    let pending_reset = fw
        .spec
        .sequence_reset
        .as_ref()
        .filter(|r| !applied.contains(&r.id))
        .cloned();
    if pending_reset.is_some() {
        guard.reset();
    }

    // 3. Due?
    let bounds = RefreshBounds::default();
    let hint = guard.current().and_then(SpiffeBundle::refresh_hint_secs);
    let interval = bounds.interval(hint, override_interval);
    let due = spec_changed
        || pending_reset.is_some()
        || stored_cm.is_none() && status.last_error.is_none()
        || status.next_refresh.as_ref().is_none_or(|t| t.0 <= now);
    if !due {
        let wait = status
            .next_refresh
            .as_ref()
            .and_then(|t| (t.0 - now).try_into().ok())
            .unwrap_or(interval);
        apply_status(&api, fw.as_ref(), previous.as_ref(), &status).await?;
        return Ok(Action::requeue(wait));
    }

    // 4. Trust roots.
    let roots = match &fw.spec.ca_bundle_ref {
        None => TrustRoots::WebPki,
        Some(r) => {
            let ca_api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &r.namespace);
            let pem = ca_api
                .get_opt(&r.name)
                .await?
                .and_then(|cm| cm.data)
                .and_then(|d| d.get(&r.key).cloned());
            match pem {
                Some(pem) => TrustRoots::Custom(pem.into_bytes()),
                None => {
                    let msg = format!(
                        "CA bundle ConfigMap {}/{} key {:?} not found",
                        r.namespace, r.name, r.key
                    );
                    status.last_error = Some(msg.clone());
                    let v = Verdict::falsy(types::READY, "CABundleMissing", msg);
                    return finish.done(status, v, Action::requeue(RETRY_MISSING)).await;
                }
            }
        }
    };
    let options = FetchOptions {
        roots,
        ..FetchOptions::default()
    };
    let fetcher = match HttpsWebFetcher::new(url, &options) {
        Ok(f) => f,
        Err(e) => {
            status.last_error = Some(e.to_string());
            let v = Verdict::falsy(types::READY, "CABundleInvalid", e.to_string());
            return finish.done(status, v, Action::requeue(RETRY_MISSING)).await;
        }
    };

    // 5. Fetch, parse, anti-rollback.
    let outcome = refresh_once(&fetcher, &mut guard).await;
    let current = guard.current().cloned();
    let interval = bounds.interval(
        current.as_ref().and_then(SpiffeBundle::refresh_hint_secs),
        override_interval,
    );
    status.next_refresh = Some(to_time(add(now, interval)));
    status.config_map = Some(format!("{cm_ns}/{cm_name}"));
    let ready = match outcome {
        Ok(ingested) => {
            let bundle = current.expect("an accepted or unchanged ingest leaves a bundle in force");
            let reset_id = match &ingested {
                Ingested::Accepted {
                    after_reset: true, ..
                } => pending_reset.as_ref().map(|r| r.id.clone()),
                _ => applied.first().cloned(),
            };
            if matches!(ingested, Ingested::Accepted { .. }) || stored_cm.is_none() {
                let cm = desired_config_map(
                    &fw,
                    &trust_domain,
                    &cm_ns,
                    &cm_name,
                    &bundle,
                    reset_id.as_deref(),
                )?;
                apply(&cm_api, &cm_name, &cm).await?;
            }
            status.last_reset_id = reset_id;
            status.sequence = bundle.sequence().and_then(|s| i64::try_from(s).ok());
            status.jwt_key_count = Some(bundle.jwt_keys().len() as i32);
            status.x509_key_count = Some(bundle.x509_authorities().count() as i32);
            status.key_count =
                Some((bundle.jwt_keys().len() + bundle.x509_authorities().count()) as i32);
            status.last_refresh = Some(to_time(now));
            status.last_error = None;
            set_condition(
                &mut status.conditions,
                Verdict::falsy(types::STALE, "Fresh", "the last refresh succeeded"),
                generation,
                now,
            );
            set_condition(
                &mut status.conditions,
                Verdict::falsy(
                    types::ROLLBACK_REFUSED,
                    "NoRollback",
                    "the last fetched bundle was not a rollback",
                ),
                generation,
                now,
            );
            announce(&ctx, &fw, &ingested, &bundle).await;
            let seq = bundle
                .sequence()
                .map_or_else(|| "none".to_owned(), |s| s.to_string());
            Verdict::truthy(
                types::READY,
                "BundleAccepted",
                format!(
                    "sequence {seq}, {} jwt-svid keys in {cm_ns}/{cm_name}",
                    bundle.jwt_keys().len()
                ),
            )
        }
        Err(err) => {
            let reason = failure_reason(&err);
            let kept = match guard.current() {
                Some(b) => format!(
                    "; keeping the keys of sequence {}",
                    b.sequence()
                        .map_or_else(|| "none".to_owned(), |s| s.to_string())
                ),
                None => "; no bundle accepted yet".to_owned(),
            };
            let message = format!("{err}{kept}");
            let repeated = status.last_error.as_deref() == Some(message.as_str());
            status.last_error = Some(message.clone());
            set_condition(
                &mut status.conditions,
                Verdict::truthy(types::STALE, reason, message.clone()),
                generation,
                now,
            );
            if let RefreshError::Refused(_) = &err {
                set_condition(
                    &mut status.conditions,
                    Verdict::truthy(types::ROLLBACK_REFUSED, reason, message.clone()),
                    generation,
                    now,
                );
                // One event per distinct refusal, not one per poll.
                if !repeated {
                    publish_event(
                        &ctx,
                        fw.as_ref(),
                        true,
                        "RollbackRefused",
                        "Refresh",
                        message.clone(),
                    )
                    .await;
                }
            }
            Verdict::falsy(types::READY, reason, message)
        }
    };
    finish.done(status, ready, Action::requeue(interval)).await
}

struct Finish<'a> {
    fw: &'a FederatesWith,
    ctx: &'a Context,
    api: &'a Api<FederatesWith>,
    previous: Option<&'a FederatesWithStatus>,
    was_ready: bool,
    generation: Option<i64>,
    now: Timestamp,
}

impl Finish<'_> {
    async fn done(
        &self,
        mut status: FederatesWithStatus,
        ready: Verdict,
        action: Action,
    ) -> Result<Action, ReconcileError> {
        let is_ready = ready.is_true();
        let (reason, message) = (ready.reason.clone(), ready.message.clone());
        let changed_reason =
            conditions::find(&status.conditions, types::READY).is_none_or(|c| c.reason != reason);
        set_condition(&mut status.conditions, ready, self.generation, self.now);
        apply_status(self.api, self.fw, self.previous, &status).await?;
        if !is_ready && (self.was_ready || changed_reason) {
            publish_event(self.ctx, self.fw, true, &reason, "Reconcile", message).await;
        }
        Ok(action)
    }
}

async fn announce(ctx: &Context, fw: &FederatesWith, ingested: &Ingested, bundle: &SpiffeBundle) {
    let Ingested::Accepted {
        previous_sequence,
        sequence,
        added,
        removed,
        after_reset,
    } = ingested
    else {
        return;
    };
    let seq = |s: &Option<u64>| s.map_or_else(|| "none".to_owned(), |s| s.to_string());
    if bundle.jwt_keys().is_empty() && !removed.is_empty() {
        let note = format!(
            "sequence {} revokes every jwt-svid key (removed: {})",
            seq(sequence),
            removed.join(", ")
        );
        publish_event(ctx, fw, true, "KeysRevoked", "Refresh", note).await;
    } else if *after_reset {
        let note = format!(
            "sequence reset applied: accepted sequence {} after {}",
            seq(sequence),
            seq(previous_sequence)
        );
        publish_event(ctx, fw, true, "SequenceReset", "Refresh", note).await;
    } else if previous_sequence.is_none() {
        let note = format!(
            "first bundle accepted: sequence {}, {} jwt-svid keys",
            seq(sequence),
            bundle.jwt_keys().len()
        );
        publish_event(ctx, fw, false, "BundleAccepted", "Refresh", note).await;
    } else {
        let note = format!(
            "rotated from sequence {} to {}: added [{}], removed [{}]",
            seq(previous_sequence),
            seq(sequence),
            added.join(", "),
            removed.join(", ")
        );
        publish_event(ctx, fw, false, "BundleRotated", "Refresh", note).await;
    }
}

fn desired_config_map(
    fw: &FederatesWith,
    trust_domain: &TrustDomain,
    ns: &str,
    name: &str,
    bundle: &SpiffeBundle,
    reset_id: Option<&str>,
) -> Result<ConfigMap, ReconcileError> {
    let mut annotations = BTreeMap::new();
    if let Some(seq) = bundle.sequence() {
        annotations.insert(SEQUENCE_ANNOTATION.to_owned(), seq.to_string());
    }
    if let Some(id) = reset_id {
        annotations.insert(RESET_ANNOTATION.to_owned(), id.to_owned());
    }
    let data = BTreeMap::from([
        (BUNDLE_KEY.to_owned(), bundle.to_json()),
        (
            KEYS_KEY.to_owned(),
            serde_json::to_string_pretty(&key_listing(bundle))?,
        ),
        (TRUST_DOMAIN_KEY.to_owned(), trust_domain.to_string()),
    ]);
    Ok(ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(ns.to_owned()),
            labels: Some(child_labels("FederatesWith", &fw.name_any())),
            annotations: Some(annotations),
            owner_references: Some(vec![owner_ref(fw)?]),
            ..ObjectMeta::default()
        },
        data: Some(data),
        ..ConfigMap::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEQ1: &str =
        include_str!("../../../crates/federation/testdata/generated/bundle_seq1.json");
    const SEQ2: &str =
        include_str!("../../../crates/federation/testdata/generated/bundle_seq2_rotated.json");

    fn cm(seq: Option<&str>, bundle: Option<&str>) -> ConfigMap {
        ConfigMap {
            metadata: ObjectMeta {
                annotations: seq
                    .map(|s| BTreeMap::from([(SEQUENCE_ANNOTATION.to_owned(), s.to_owned())])),
                ..ObjectMeta::default()
            },
            data: bundle.map(|b| BTreeMap::from([(BUNDLE_KEY.to_owned(), b.to_owned())])),
            ..ConfigMap::default()
        }
    }

    #[test]
    fn go_durations() {
        assert_eq!(parse_go_duration("10s"), Some(Duration::from_secs(10)));
        assert_eq!(parse_go_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_go_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_go_duration("250ms"), Some(Duration::from_millis(250)));
        assert_eq!(parse_go_duration("5"), None);
        assert_eq!(parse_go_duration("5d"), None);
        assert_eq!(parse_go_duration(""), None);
    }

    #[test]
    fn restore_takes_the_higher_persisted_sequence() {
        let status = FederatesWithStatus {
            sequence: Some(1),
            ..Default::default()
        };
        let stored = SpiffeBundle::parse(SEQ2.as_bytes()).unwrap().to_json();
        // Annotation says 2, status says 1 (e.g. the status write was lost): 2 wins.
        let mut g = restore_guard(
            RollbackPolicy::default(),
            Some(&status),
            Some(&cm(Some("2"), Some(&stored))),
        );
        assert_eq!(g.last_sequence(), Some(2));
        assert!(
            g.ingest(SpiffeBundle::parse(SEQ1.as_bytes()).unwrap())
                .is_err()
        );
        assert_eq!(g.current().unwrap().jwt_keys().len(), 4);
        // The ConfigMap is gone (deleted): the status sequence alone still pins.
        let status = FederatesWithStatus {
            sequence: Some(2),
            ..Default::default()
        };
        let mut g = restore_guard(RollbackPolicy::default(), Some(&status), None);
        assert!(matches!(
            g.ingest(SpiffeBundle::parse(SEQ1.as_bytes()).unwrap()),
            Err(Refusal::Rollback {
                fetched: 1,
                last: 2
            })
        ));
        // Status lost (object recreated) but the ConfigMap survived: the annotation pins.
        let mut g = restore_guard(RollbackPolicy::default(), None, Some(&cm(Some("2"), None)));
        assert!(
            g.ingest(SpiffeBundle::parse(SEQ1.as_bytes()).unwrap())
                .is_err()
        );
        // A same-sequence replay of the stored copy is a no-op.
        let mut g = restore_guard(
            RollbackPolicy::default(),
            None,
            Some(&cm(Some("2"), Some(&stored))),
        );
        assert_eq!(
            g.ingest(SpiffeBundle::parse(SEQ2.as_bytes()).unwrap()),
            Ok(Ingested::Unchanged { sequence: Some(2) })
        );
    }

    #[test]
    fn reset_ids_come_from_status_or_annotation() {
        let status = FederatesWithStatus {
            last_reset_id: Some("r1".into()),
            ..Default::default()
        };
        let mut c = cm(None, None);
        c.metadata.annotations = Some(BTreeMap::from([(
            RESET_ANNOTATION.to_owned(),
            "r2".to_owned(),
        )]));
        assert_eq!(applied_reset_id(Some(&status), Some(&c)), ["r1", "r2"]);
        assert!(applied_reset_id(None, None).is_empty());
    }

    #[test]
    fn listing_names_every_usable_key() {
        let b = SpiffeBundle::parse(SEQ1.as_bytes()).unwrap();
        let listing = key_listing(&b);
        let kids: Vec<&str> = listing["jwtSvid"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert_eq!(kids, ["k-es256", "k-es384", "k-rsa"]);
        assert_eq!(listing["sequence"], 1);
        assert_eq!(listing["x509SvidAuthorities"], 1);
        assert_eq!(listing["ignoredEntries"].as_array().unwrap().len(), 5);
        assert_eq!(listing["jwtSvid"][2]["key"], "RSA 2048");
    }

    #[test]
    fn failure_reasons_are_distinct() {
        use nucleus_federation::FetchError;
        assert_eq!(
            failure_reason(&RefreshError::Refused(Refusal::Rollback {
                fetched: 1,
                last: 2
            })),
            "SequenceRollback"
        );
        assert_eq!(
            failure_reason(&RefreshError::Refused(Refusal::MissingSequence)),
            "MissingSequence"
        );
        assert_eq!(
            failure_reason(&RefreshError::Fetch(FetchError::Status {
                url: "u".into(),
                status: 503
            })),
            "FetchFailed"
        );
    }
}
