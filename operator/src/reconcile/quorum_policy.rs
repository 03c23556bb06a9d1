//! QuorumPolicy reconciler: builds the Sigsum policy text (from `policyText`, or from the
//! structured spec with referenced Witnesses' keys read from their status), validates it
//! with `nucleus_lineage::policy` (fail closed), and renders a ConfigMap with `policy.txt`
//! and `trust-anchor.json`.
//!
//! When the policy is invalid or a referenced Witness has no key yet, nothing is rendered:
//! the last good ConfigMap (if any) is kept, and the reason is a `Ready=False` condition.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::ObjectRef;
use kube::runtime::watcher;
use kube::{Api, ResourceExt};
use nucleus_lineage::policy::{Policy, PolicyKey, Quorum};
use nucleus_lineage::vkey::parse_ed25519_public_key;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::common::{
    MANAGED_SELECTOR, ReconcileError, apply, apply_status, child_labels, owner_ref, publish_event,
};
use crate::api::v1alpha1::conditions::{self, Verdict, set_condition, types};
use crate::api::v1alpha1::quorum_policy::ResolvedWitness;
use crate::api::v1alpha1::{QuorumPolicy, QuorumPolicySpec, QuorumPolicyStatus, Witness};
use crate::context::Context;

/// Metric and log label of this controller.
pub const CONTROLLER: &str = "quorum-policy";
/// ConfigMap key of the policy text.
pub const POLICY_KEY: &str = "policy.txt";
/// ConfigMap key of the trust anchor.
pub const TRUST_ANCHOR_KEY: &str = "trust-anchor.json";
/// Largest witness count for which the minimal quorum size is computed exactly.
pub const MAX_EXACT_THRESHOLD_WITNESSES: usize = 20;

const MISSING_REQUEUE: Duration = Duration::from_secs(15);

/// Starts the QuorumPolicy controller; returns after shutdown.
pub async fn run(ctx: Arc<Context>) -> anyhow::Result<()> {
    let controller = Controller::new(ctx.watched::<QuorumPolicy>(), watcher::Config::default())
        .owns(
            ctx.watched::<ConfigMap>(),
            watcher::Config::default().labels(MANAGED_SELECTOR),
        );
    let store = controller.store();
    // A Witness whose status changes re-triggers every policy that references it.
    let controller = controller.watches(
        ctx.watched::<Witness>(),
        watcher::Config::default(),
        move |w: Witness| {
            let ns = w.namespace().unwrap_or_default();
            let name = w.name_any();
            store
                .state()
                .iter()
                .filter(|p| references(p, &ns, &name))
                .map(|p| ObjectRef::from_obj(p.as_ref()))
                .collect::<Vec<_>>()
        },
    );
    super::common::drive(controller, ctx, CONTROLLER, reconcile).await;
    Ok(())
}

/// Whether `policy` references the Witness `ns/name`.
pub fn references(policy: &QuorumPolicy, ns: &str, name: &str) -> bool {
    let own_ns = policy.namespace().unwrap_or_default();
    policy.spec.witnesses.iter().flatten().any(|w| {
        w.witness_ref
            .as_ref()
            .is_some_and(|r| r.name == name && r.namespace.as_deref().unwrap_or(&own_ns) == ns)
    })
}

/// A witness key the structured spec needs: resolved, or missing with a reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// Key (hex or vkey, as it goes into the policy) and URL.
    Found {
        /// Key text for the `witness` line.
        key: String,
        /// Optional URL.
        url: Option<String>,
        /// Where the key came from (`ns/name` or `raw`).
        source: String,
    },
    /// Why the key is not available.
    Missing(String),
}

/// Renders the structured spec to Sigsum policy text, given each witness's lookup result
/// (in spec order). Returns the names of missing witnesses instead when any is missing.
pub fn render_structured(
    spec: &QuorumPolicySpec,
    lookups: &[Lookup],
) -> Result<String, Vec<String>> {
    let missing: Vec<String> = lookups
        .iter()
        .filter_map(|l| match l {
            Lookup::Missing(why) => Some(why.clone()),
            Lookup::Found { .. } => None,
        })
        .collect();
    if !missing.is_empty() {
        return Err(missing);
    }
    let mut out = String::new();
    if let Some(log) = &spec.log {
        out.push_str(&format!("log {}", log.public_key));
        if let Some(url) = &log.url {
            out.push_str(&format!(" {url}"));
        }
        out.push('\n');
    }
    for (w, l) in spec.witnesses.iter().flatten().zip(lookups) {
        if let Lookup::Found { key, url, .. } = l {
            out.push_str(&format!("witness {} {}", w.name, key));
            if let Some(url) = url {
                out.push_str(&format!(" {url}"));
            }
            out.push('\n');
        }
    }
    for g in spec.groups.iter().flatten() {
        out.push_str(&format!(
            "group {} {} {}\n",
            g.name,
            g.threshold,
            g.members.join(" ")
        ));
    }
    if let Some(q) = &spec.quorum {
        out.push_str(&format!("quorum {q}\n"));
    }
    Ok(out)
}

/// Why a policy text is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Condition reason.
    pub reason: &'static str,
    /// Condition message (the parser's line and message for parse errors).
    pub message: String,
}

/// Validates policy text with `nucleus_lineage::policy`. `quorum none` is refused too: a
/// QuorumPolicy that requires no cosignature would fail open.
pub fn validate(text: &str) -> Result<Policy, Refusal> {
    let policy = Policy::parse(text).map_err(|e| Refusal {
        reason: "PolicyInvalid",
        message: format!("line {}: {}", e.line, e.kind),
    })?;
    if policy.quorum == Quorum::None {
        return Err(Refusal {
            reason: "QuorumNone",
            message:
                "`quorum none` requires no cosignature; a QuorumPolicy must name a witness or group"
                    .to_owned(),
        });
    }
    Ok(policy)
}

/// The smallest number of distinct witnesses that satisfies the policy, computed exactly
/// for up to [`MAX_EXACT_THRESHOLD_WITNESSES`] witnesses (None above that).
pub fn min_quorum_size(policy: &Policy) -> Option<usize> {
    let names: Vec<&str> = policy.witnesses.iter().map(|w| w.name.as_str()).collect();
    let n = names.len();
    if n > MAX_EXACT_THRESHOLD_WITNESSES {
        return None;
    }
    (0..=n).find(|&k| {
        (0u32..(1u32 << n))
            .filter(|mask| mask.count_ones() as usize == k)
            .any(|mask| {
                let set: BTreeSet<String> = (0..n)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| names[i].to_owned())
                    .collect();
                policy.is_satisfied(&set)
            })
    })
}

/// `trust-anchor.json` in the verifier's trust-anchor shape (crates/envelope `TrustAnchor`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrustAnchorDoc {
    /// Issuer JWKS, when the spec gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_jwks: Option<serde_json::Value>,
    /// The policy's witness keys, 64 hex each.
    pub trusted_witnesses_hex: Vec<String>,
    /// Minimal number of distinct witnesses that satisfies the policy.
    pub cosignature_threshold: usize,
    /// The policy text (its quorum is enforced too).
    pub policy: String,
    /// The log origin checkpoints must name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// The log key, 64 hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trust_witness_pubkey_hex: Option<String>,
}

fn key_hex(key: &PolicyKey) -> String {
    hex::encode(key.public_key())
}

/// Builds the trust anchor for a validated policy.
pub fn trust_anchor(
    policy: &Policy,
    text: &str,
    origin: Option<&str>,
    trust_jwks: Option<serde_json::Value>,
) -> TrustAnchorDoc {
    TrustAnchorDoc {
        trust_jwks,
        trusted_witnesses_hex: policy.witnesses.iter().map(|w| key_hex(&w.key)).collect(),
        cosignature_threshold: min_quorum_size(policy).unwrap_or(1),
        policy: text.to_owned(),
        origin: origin.map(str::to_owned),
        trust_witness_pubkey_hex: policy.logs.first().map(|l| key_hex(&l.key)),
    }
}

async fn lookup(
    ctx: &Context,
    policy_ns: &str,
    w: &crate::api::v1alpha1::quorum_policy::PolicyWitness,
) -> Result<Lookup, ReconcileError> {
    if let Some(key) = &w.public_key {
        return Ok(match parse_ed25519_public_key(key) {
            Ok(_) => Lookup::Found {
                key: key.clone(),
                url: w.url.clone(),
                source: "raw".to_owned(),
            },
            Err(e) => Lookup::Missing(format!("{}: publicKey is not an Ed25519 key: {e}", w.name)),
        });
    }
    let Some(r) = &w.witness_ref else {
        return Ok(Lookup::Missing(format!(
            "{}: neither witnessRef nor publicKey",
            w.name
        )));
    };
    let ns = r.namespace.as_deref().unwrap_or(policy_ns);
    let api: Api<Witness> = Api::namespaced(ctx.client.clone(), ns);
    Ok(match api.get_opt(&r.name).await? {
        None => Lookup::Missing(format!("{}: Witness {ns}/{} not found", w.name, r.name)),
        Some(found) => match found.status.as_ref().and_then(|s| s.public_key_hex.clone()) {
            None => Lookup::Missing(format!(
                "{}: Witness {ns}/{} has no public key yet",
                w.name, r.name
            )),
            Some(hex) => Lookup::Found {
                key: hex,
                url: w
                    .url
                    .clone()
                    .or_else(|| found.status.as_ref().and_then(|s| s.endpoint.clone())),
                source: format!("{ns}/{}", r.name),
            },
        },
    })
}

async fn reconcile(p: Arc<QuorumPolicy>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    let ns = p
        .namespace()
        .ok_or(ReconcileError::Incomplete("metadata.namespace"))?;
    let name = p.name_any();
    let generation = p.metadata.generation;
    let now = Timestamp::now();
    let api: Api<QuorumPolicy> = Api::namespaced(ctx.client.clone(), &ns);
    let previous = p.status.clone();
    let mut status = previous.clone().unwrap_or_default();
    status.observed_generation = generation;
    let was_ready = conditions::is_true(&status.conditions, types::READY);

    // 1. The policy text, and the sources of its witness keys.
    let (text, sources) = if let Some(text) = &p.spec.policy_text {
        set_condition(
            &mut status.conditions,
            Verdict::truthy(
                types::WITNESSES_RESOLVED,
                "PolicyText",
                "keys are given in policyText",
            ),
            generation,
            now,
        );
        status.missing.clear();
        (text.clone(), None)
    } else {
        let mut lookups = Vec::new();
        for w in p.spec.witnesses.iter().flatten() {
            lookups.push(lookup(&ctx, &ns, w).await?);
        }
        match render_structured(&p.spec, &lookups) {
            Ok(text) => {
                set_condition(
                    &mut status.conditions,
                    Verdict::truthy(
                        types::WITNESSES_RESOLVED,
                        "AllResolved",
                        format!("{} witnesses resolved", lookups.len()),
                    ),
                    generation,
                    now,
                );
                status.missing.clear();
                let sources: Vec<String> = lookups
                    .iter()
                    .map(|l| match l {
                        Lookup::Found { source, .. } => source.clone(),
                        Lookup::Missing(_) => String::new(),
                    })
                    .collect();
                (text, Some(sources))
            }
            Err(missing) => {
                let message = missing.join("; ");
                status.missing = missing;
                set_condition(
                    &mut status.conditions,
                    Verdict::falsy(
                        types::WITNESSES_RESOLVED,
                        "WitnessesMissing",
                        message.clone(),
                    ),
                    generation,
                    now,
                );
                return finish(
                    &p,
                    &ctx,
                    &api,
                    previous,
                    status,
                    was_ready,
                    Verdict::falsy(types::READY, "WitnessesMissing", message),
                    generation,
                    now,
                    Action::requeue(MISSING_REQUEUE),
                )
                .await;
            }
        }
    };

    // 2. Validate with the library (fail closed).
    let policy = match validate(&text) {
        Ok(policy) => policy,
        Err(refusal) => {
            set_condition(
                &mut status.conditions,
                Verdict::falsy(types::POLICY_VALID, refusal.reason, refusal.message.clone()),
                generation,
                now,
            );
            let ready = Verdict::falsy(types::READY, refusal.reason, refusal.message);
            // A spec error: nothing to retry until the spec changes.
            return finish(
                &p,
                &ctx,
                &api,
                previous,
                status,
                was_ready,
                ready,
                generation,
                now,
                Action::await_change(),
            )
            .await;
        }
    };
    let jwks = match p
        .spec
        .trust_jwks
        .as_deref()
        .map(serde_json::from_str::<serde_json::Value>)
    {
        None => None,
        Some(Ok(v)) if v.get("keys").is_some_and(serde_json::Value::is_array) => Some(v),
        Some(_) => {
            let msg = "spec.trustJwks must be a JSON object with a \"keys\" array".to_owned();
            set_condition(
                &mut status.conditions,
                Verdict::falsy(types::POLICY_VALID, "TrustJwksInvalid", msg.clone()),
                generation,
                now,
            );
            return finish(
                &p,
                &ctx,
                &api,
                previous,
                status,
                was_ready,
                Verdict::falsy(types::READY, "TrustJwksInvalid", msg),
                generation,
                now,
                Action::await_change(),
            )
            .await;
        }
    };
    let threshold = min_quorum_size(&policy);
    status.threshold = Some(match threshold {
        Some(k) => format!("{k} of {}", policy.witnesses.len()),
        None => policy.describe_quorum(),
    });
    set_condition(
        &mut status.conditions,
        Verdict::truthy(types::POLICY_VALID, "Parsed", policy.describe_quorum()),
        generation,
        now,
    );
    status.resolved = policy
        .witnesses
        .iter()
        .enumerate()
        .map(|(i, w)| ResolvedWitness {
            name: w.name.clone(),
            public_key_hex: key_hex(&w.key),
            source: sources
                .as_ref()
                .and_then(|s| s.get(i).cloned())
                .unwrap_or_else(|| "policyText".to_owned()),
        })
        .collect();
    status.resolved_count = i32::try_from(status.resolved.len()).ok();

    // 3. Render.
    let anchor = trust_anchor(&policy, &text, p.spec.origin.as_deref(), jwks);
    let anchor_json = serde_json::to_string_pretty(&anchor)?;
    let cm_name = p
        .spec
        .config_map_name
        .clone()
        .unwrap_or_else(|| format!("{name}-policy"));
    let cm = ConfigMap {
        metadata: ObjectMeta {
            name: Some(cm_name.clone()),
            namespace: Some(ns.clone()),
            labels: Some(child_labels("quorum-policy", &name)),
            owner_references: Some(vec![owner_ref(p.as_ref())?]),
            ..Default::default()
        },
        data: Some(
            [
                (POLICY_KEY.to_owned(), text.clone()),
                (TRUST_ANCHOR_KEY.to_owned(), anchor_json),
            ]
            .into(),
        ),
        ..Default::default()
    };
    apply(
        &Api::<ConfigMap>::namespaced(ctx.client.clone(), &ns),
        &cm_name,
        &cm,
    )
    .await?;
    status.config_map = Some(cm_name.clone());
    status.policy_sha256 = Some(hex::encode(Sha256::digest(text.as_bytes())));
    let ready = Verdict::truthy(
        types::READY,
        "Rendered",
        format!(
            "ConfigMap {cm_name}: {}",
            status.threshold.clone().unwrap_or_default()
        ),
    );
    let resync = ctx.settings.resync;
    finish(
        &p,
        &ctx,
        &api,
        previous,
        status,
        was_ready,
        ready,
        generation,
        now,
        Action::requeue(resync),
    )
    .await
}

#[allow(clippy::too_many_arguments)]
async fn finish(
    p: &QuorumPolicy,
    ctx: &Context,
    api: &Api<QuorumPolicy>,
    previous: Option<QuorumPolicyStatus>,
    mut status: QuorumPolicyStatus,
    was_ready: bool,
    ready: Verdict,
    generation: Option<i64>,
    now: Timestamp,
    action: Action,
) -> Result<Action, ReconcileError> {
    let is_ready = ready.is_true();
    let (reason, message) = (ready.reason.clone(), ready.message.clone());
    let changed_reason =
        conditions::find(&status.conditions, types::READY).is_none_or(|c| c.reason != reason);
    set_condition(&mut status.conditions, ready, generation, now);
    apply_status(api, p, previous.as_ref(), &status).await?;
    if was_ready != is_ready || (!is_ready && changed_reason) {
        publish_event(ctx, p, !is_ready, &reason, "Render", message).await;
    }
    Ok(action)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "de192ec3cc4e5c2c037b4980dda1b3e95fccb4fe7d90d0284cbd16661a06be9f";

    fn key(i: u8) -> String {
        hex::encode(
            ed25519_dalek::SigningKey::from_bytes(&[i; 32])
                .verifying_key()
                .as_bytes(),
        )
    }

    fn spec() -> QuorumPolicySpec {
        serde_json::from_value(serde_json::json!({
            "log": {"publicKey": LOG},
            "witnesses": [
                {"name": "a", "witnessRef": {"name": "witness-a"}},
                {"name": "b", "witnessRef": {"name": "witness-b", "namespace": "other"}},
                {"name": "c", "publicKey": key(3), "url": "https://c.example"}
            ],
            "groups": [{"name": "q", "threshold": "2", "members": ["a", "b", "c"]}],
            "quorum": "q"
        }))
        .unwrap()
    }

    fn found(k: String) -> Lookup {
        Lookup::Found {
            key: k,
            url: None,
            source: "raw".into(),
        }
    }

    #[test]
    fn renders_a_policy_the_library_accepts() {
        let text =
            render_structured(&spec(), &[found(key(1)), found(key(2)), found(key(3))]).unwrap();
        assert!(text.starts_with(&format!("log {LOG}\n")));
        assert!(text.contains("group q 2 a b c\n"));
        assert!(text.ends_with("quorum q\n"));
        let policy = validate(&text).unwrap();
        assert_eq!(policy.witnesses.len(), 3);
        assert_eq!(min_quorum_size(&policy), Some(2));
        let one: BTreeSet<String> = ["a".to_owned()].into();
        let two: BTreeSet<String> = ["a".to_owned(), "c".to_owned()].into();
        assert!(!policy.is_satisfied(&one));
        assert!(policy.is_satisfied(&two));
    }

    #[test]
    fn missing_witness_renders_nothing() {
        let err = render_structured(
            &spec(),
            &[
                found(key(1)),
                Lookup::Missing("b: not found".into()),
                found(key(3)),
            ],
        )
        .unwrap_err();
        assert_eq!(err, ["b: not found"]);
    }

    #[test]
    fn parse_errors_carry_line_and_message() {
        let text = format!(
            "witness a {}\nwitness b {}\ngroup g 3 a b\nquorum g\n",
            key(1),
            key(2)
        );
        let r = validate(&text).unwrap_err();
        assert_eq!(r.reason, "PolicyInvalid");
        assert!(r.message.starts_with("line 3: "), "{}", r.message);
        let r = validate("witness a nothex\nquorum a\n").unwrap_err();
        assert!(r.message.starts_with("line 1: "), "{}", r.message);
    }

    #[test]
    fn quorum_none_is_refused() {
        let r = validate(&format!("witness a {}\nquorum none\n", key(1))).unwrap_err();
        assert_eq!(r.reason, "QuorumNone");
    }

    #[test]
    fn min_quorum_size_handles_nesting() {
        let text = format!(
            "witness a {}\nwitness b {}\nwitness c {}\nwitness d {}\ngroup eu any a b\ngroup us any c d\ngroup both all eu us\nquorum both\n",
            key(1),
            key(2),
            key(3),
            key(4)
        );
        let policy = validate(&text).unwrap();
        assert_eq!(min_quorum_size(&policy), Some(2));
    }

    #[test]
    fn trust_anchor_has_the_verifier_shape() {
        let text =
            render_structured(&spec(), &[found(key(1)), found(key(2)), found(key(3))]).unwrap();
        let policy = validate(&text).unwrap();
        let jwks = serde_json::json!({"keys": []});
        let anchor = trust_anchor(
            &policy,
            &text,
            Some("example.nucleus.dev/log"),
            Some(jwks.clone()),
        );
        let v = serde_json::to_value(&anchor).unwrap();
        assert_eq!(
            v["trusted_witnesses_hex"],
            serde_json::json!([key(1), key(2), key(3)])
        );
        assert_eq!(v["cosignature_threshold"], 2);
        assert_eq!(v["policy"], text);
        assert_eq!(v["origin"], "example.nucleus.dev/log");
        assert_eq!(v["trust_witness_pubkey_hex"], LOG);
        assert_eq!(v["trust_jwks"], jwks);
        let no_jwks = serde_json::to_value(trust_anchor(&policy, &text, None, None)).unwrap();
        assert!(no_jwks.get("trust_jwks").is_none() && no_jwks.get("origin").is_none());
    }

    #[test]
    fn references_resolve_default_namespace() {
        let mut p = QuorumPolicy::new("p", spec());
        p.metadata.namespace = Some("ns".into());
        assert!(references(&p, "ns", "witness-a"));
        assert!(!references(&p, "other", "witness-a"));
        assert!(references(&p, "other", "witness-b"));
        assert!(!references(&p, "ns", "witness-b"));
    }
}
