//! Witness reconciler: seed Secret (read, or generated once), origins ConfigMap,
//! Deployment, Service, PodDisruptionBudget (replicas > 1), and the status with the public
//! key derived from the seed.
//!
//! Nothing is rolled out while a precondition fails (seed missing or invalid, pinned key
//! mismatch, database URL missing): existing children are left as they are and the reason
//! is a condition. Secrets are read with `get` only (no cluster-wide Secret watch); a
//! missing Secret is retried on a short requeue.

use std::sync::Arc;
use std::time::Duration;

use ed25519_dalek::{SigningKey, VerifyingKey};
use jiff::Timestamp;
use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Capabilities, ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource,
    EnvVar, EnvVarSource, HTTPGetAction, KeyToPath, PodSecurityContext, PodSpec, PodTemplateSpec,
    Probe, SeccompProfile, Secret, SecretKeySelector, SecretVolumeSource, SecurityContext, Service,
    ServicePort, ServiceSpec, Volume, VolumeMount,
};
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{DeleteParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Api, ResourceExt};
use nucleus_lineage::vkey::{Vkey, parse_ed25519_public_key};
use sha2::{Digest, Sha256};

use super::common::{
    MANAGED_SELECTOR, ReconcileError, apply, apply_status, child_labels, owner_ref, publish_event,
};
use crate::api::v1alpha1::conditions::{self, Verdict, set_condition, types};
use crate::api::v1alpha1::{Witness, WitnessSpec};
use crate::context::Context;

/// Metric and log label of this controller.
pub const CONTROLLER: &str = "witness";
/// Annotation on a seed Secret the operator generated: the creating Witness's UID.
pub const GENERATED_BY_ANNOTATION: &str = "trust.nucleus.dev/generated-by-witness";
/// Pod-template annotation whose change rolls the Deployment (origins + key).
pub const CONFIG_HASH_ANNOTATION: &str = "trust.nucleus.dev/config-hash";
/// Where the seed file is mounted.
pub const SEED_DIR: &str = "/etc/nucleus-witness/seed";
/// Where the origins file is mounted.
pub const ORIGINS_DIR: &str = "/etc/nucleus-witness/origins";
/// File name of the origins list in the ConfigMap and the mount.
pub const ORIGINS_KEY: &str = "origins.txt";
/// File name of the seed in the mount.
pub const SEED_FILE: &str = "seed";
/// UID the witness container runs as.
pub const RUN_AS_USER: i64 = 65532;

const MISSING_REQUEUE: Duration = Duration::from_secs(15);
const PROGRESS_REQUEUE: Duration = Duration::from_secs(30);

/// Starts the Witness controller; returns after shutdown.
pub async fn run(ctx: Arc<Context>) -> anyhow::Result<()> {
    let children = watcher::Config::default().labels(MANAGED_SELECTOR);
    let controller = Controller::new(ctx.watched::<Witness>(), watcher::Config::default())
        .owns(ctx.watched::<Deployment>(), children.clone())
        .owns(ctx.watched::<Service>(), children.clone())
        .owns(ctx.watched::<ConfigMap>(), children.clone())
        .owns(ctx.watched::<PodDisruptionBudget>(), children);
    super::common::drive(controller, ctx, CONTROLLER, reconcile).await;
    Ok(())
}

/// The witness key derived from a seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessKey {
    /// Ed25519 public key, lowercase hex.
    pub public_key_hex: String,
    /// Cosignature vkey (type 0x04) under the witness name.
    pub vkey: String,
    /// Key ID of that vkey, 8 hex digits.
    pub key_id: String,
}

/// Why a seed could not be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SeedError {
    /// The Secret has no such key.
    #[error("secret has no key {0:?}")]
    MissingKey(String),
    /// The value is neither 64 hex digits nor 32 raw bytes.
    #[error("seed must be 64 hex digits or 32 raw bytes, got {0} bytes")]
    BadLength(usize),
    /// The witness name cannot form a vkey.
    #[error("witness name cannot form a vkey: {0}")]
    BadName(String),
}

/// Parses a seed value (64 hex digits, surrounding whitespace ignored, or 32 raw bytes).
pub fn parse_seed(bytes: &[u8]) -> Result<[u8; 32], SeedError> {
    let text = std::str::from_utf8(bytes).map(str::trim).unwrap_or("");
    if text.len() == 64
        && let Ok(v) = hex::decode(text)
        && let Ok(seed) = <[u8; 32]>::try_from(v.as_slice())
    {
        return Ok(seed);
    }
    <[u8; 32]>::try_from(bytes).map_err(|_| SeedError::BadLength(bytes.len()))
}

/// Derives the public key, cosignature vkey and key ID of `witness_name` from a seed.
pub fn derive_key(witness_name: &str, seed: &[u8; 32]) -> Result<WitnessKey, SeedError> {
    let verifying: VerifyingKey = SigningKey::from_bytes(seed).verifying_key();
    let vkey = Vkey::cosignature(witness_name, &verifying)
        .map_err(|e| SeedError::BadName(e.to_string()))?;
    Ok(WitnessKey {
        public_key_hex: hex::encode(verifying.as_bytes()),
        key_id: format!("{:08x}", vkey.key_id),
        vkey: vkey.to_string(),
    })
}

/// The origins file: `origin|keyName|publicKey`, one per line, as `--origins-file` reads it.
pub fn origins_file(spec: &WitnessSpec) -> String {
    let mut out = String::from("# Rendered by nucleus-operator from Witness.spec.origins.\n");
    for o in &spec.origins {
        out.push_str(&format!("{}|{}|{}\n", o.origin, o.key_name, o.public_key));
    }
    out
}

/// The container arguments the Deployment runs the witness with.
pub fn witness_args(spec: &WitnessSpec) -> Vec<String> {
    vec![
        format!("--bind=0.0.0.0:{}", spec.service.port),
        format!("--witness-name={}", spec.witness_name),
        format!("--origins-file={ORIGINS_DIR}/{ORIGINS_KEY}"),
        format!("--witness-seed-file={SEED_DIR}/{SEED_FILE}"),
        "--log-format=json".to_owned(),
    ]
}

fn origins_config_map_name(w: &Witness) -> String {
    format!("{}-origins", w.name_any())
}

fn endpoint(w: &Witness, ns: &str) -> String {
    format!("http://{}.{}.svc:{}", w.name_any(), ns, w.spec.service.port)
}

async fn reconcile(w: Arc<Witness>, ctx: Arc<Context>) -> Result<Action, ReconcileError> {
    let ns = w
        .namespace()
        .ok_or(ReconcileError::Incomplete("metadata.namespace"))?;
    let name = w.name_any();
    let generation = w.metadata.generation;
    let now = Timestamp::now();
    let api: Api<Witness> = Api::namespaced(ctx.client.clone(), &ns);
    let secrets: Api<Secret> = Api::namespaced(ctx.client.clone(), &ns);
    let previous = w.status.clone();
    let mut status = previous.clone().unwrap_or_default();
    status.observed_generation = generation;
    status.endpoint = Some(endpoint(&w, &ns));
    let was_ready = conditions::is_true(&status.conditions, types::READY);

    // Seed: read it, or create it once when asked.
    let seed_ref = &w.spec.seed.secret_ref;
    let mut seed_secret = secrets.get_opt(&seed_ref.name).await?;
    if seed_secret.is_none() && w.spec.seed.generate {
        seed_secret = Some(generate_seed_secret(&w, &ns, &secrets).await?);
        publish_event(
            &ctx,
            w.as_ref(),
            false,
            "SeedGenerated",
            "GenerateSeed",
            format!("generated immutable seed Secret {}", seed_ref.name),
        )
        .await;
    }
    let key = match &seed_secret {
        None => Err(Verdict::falsy(
            types::SEED_AVAILABLE,
            "SeedSecretNotFound",
            format!(
                "Secret {}/{} not found (set seed.generate to create it)",
                ns, seed_ref.name
            ),
        )),
        Some(secret) => {
            status.seed_generated = Some(
                secret
                    .annotations()
                    .get(GENERATED_BY_ANNOTATION)
                    .is_some_and(|uid| Some(uid) == w.uid().as_ref()),
            );
            secret_value(secret, &seed_ref.key)
                .and_then(parse_seed)
                .and_then(|seed| derive_key(&w.spec.witness_name, &seed))
                .map_err(|e| {
                    Verdict::falsy(
                        types::SEED_AVAILABLE,
                        "SeedInvalid",
                        format!(
                            "Secret {}/{} key {:?}: {e}",
                            ns, seed_ref.name, seed_ref.key
                        ),
                    )
                })
        }
    };
    let mut blocked: Vec<Verdict> = Vec::new();
    match &key {
        Ok(k) => {
            set_condition(
                &mut status.conditions,
                Verdict::truthy(
                    types::SEED_AVAILABLE,
                    "SeedLoaded",
                    format!("key ID {}", k.key_id),
                ),
                generation,
                now,
            );
            status.public_key_hex = Some(k.public_key_hex.clone());
            status.vkey = Some(k.vkey.clone());
            status.key_id = Some(k.key_id.clone());
        }
        Err(v) => {
            blocked.push(v.clone());
            set_condition(&mut status.conditions, v.clone(), generation, now);
        }
    }

    // Pinned key: a mismatch is a condition and blocks the rollout, never a silent update.
    let pin = match (&w.spec.public_key, &key) {
        (None, _) => Verdict::truthy(types::KEY_PINNED, "NotPinned", "spec.publicKey is not set"),
        (Some(_), Err(_)) => {
            Verdict::unknown(types::KEY_PINNED, "SeedUnavailable", "no seed to compare")
        }
        (Some(pinned), Ok(k)) => match parse_ed25519_public_key(pinned) {
            Err(e) => Verdict::falsy(
                types::KEY_PINNED,
                "PinnedKeyInvalid",
                format!("spec.publicKey: {e}"),
            ),
            Ok(p) if hex::encode(p.as_bytes()) == k.public_key_hex => Verdict::truthy(
                types::KEY_PINNED,
                "KeyMatches",
                "seed matches spec.publicKey",
            ),
            Ok(p) => Verdict::falsy(
                types::KEY_PINNED,
                "KeyMismatch",
                format!(
                    "seed key {} differs from pinned spec.publicKey {}; not rolling out",
                    k.public_key_hex,
                    hex::encode(p.as_bytes())
                ),
            ),
        },
    };
    if pin.status == conditions::FALSE {
        blocked.push(pin.clone());
    }
    set_condition(&mut status.conditions, pin, generation, now);

    // Database URL.
    let db_ref = &w.spec.database.postgres.url_secret_ref;
    let db = match secrets.get_opt(&db_ref.name).await? {
        None => Verdict::falsy(
            types::DATABASE_CONFIGURED,
            "DatabaseSecretNotFound",
            format!("Secret {}/{} not found", ns, db_ref.name),
        ),
        Some(s) => match secret_value(&s, &db_ref.key) {
            Err(e) => Verdict::falsy(
                types::DATABASE_CONFIGURED,
                "DatabaseSecretInvalid",
                e.to_string(),
            ),
            Ok(v) if v.starts_with(b"postgres://") || v.starts_with(b"postgresql://") => {
                Verdict::truthy(
                    types::DATABASE_CONFIGURED,
                    "PostgresConfigured",
                    format!("URL from Secret {}/{}", ns, db_ref.name),
                )
            }
            Ok(_) => Verdict::falsy(
                types::DATABASE_CONFIGURED,
                "DatabaseSecretInvalid",
                format!(
                    "Secret {}/{} key {:?} is not a postgres:// URL",
                    ns, db_ref.name, db_ref.key
                ),
            ),
        },
    };
    if !db.is_true() {
        blocked.push(db.clone());
    }
    set_condition(&mut status.conditions, db, generation, now);

    // Children, only when nothing blocks.
    let ready = if let (true, Ok(k)) = (blocked.is_empty(), &key) {
        let deployment = match apply_children(&w, &ns, k, &ctx).await {
            Ok(deployment) => deployment,
            Err(e) => {
                // Say why in status before backing off: an object the API refused (quota,
                // a full Service IP range, admission) is otherwise visible only in our logs.
                let failed = Verdict::falsy(
                    types::READY,
                    "ChildrenNotApplied",
                    format!("applying the Deployment, Service or PodDisruptionBudget failed: {e}"),
                );
                set_condition(&mut status.conditions, failed, generation, now);
                apply_status(&api, w.as_ref(), previous.as_ref(), &status).await?;
                return Err(e);
            }
        };
        let dstatus = deployment.status.unwrap_or_default();
        status.replicas = dstatus.replicas;
        status.ready_replicas = Some(dstatus.ready_replicas.unwrap_or(0));
        let available = dstatus
            .conditions
            .unwrap_or_default()
            .into_iter()
            .find(|c| c.type_ == "Available");
        let avail = match available {
            Some(c) if c.status == conditions::TRUE => Verdict::truthy(
                types::AVAILABLE,
                "DeploymentAvailable",
                c.message.unwrap_or_default(),
            ),
            Some(c) => Verdict::falsy(
                types::AVAILABLE,
                &c.reason
                    .unwrap_or_else(|| "DeploymentUnavailable".to_owned()),
                c.message.unwrap_or_default(),
            ),
            None => Verdict::unknown(
                types::AVAILABLE,
                "DeploymentPending",
                "Deployment has no status yet",
            ),
        };
        let ready = if avail.is_true() {
            Verdict::truthy(types::READY, "Available", format!("{} ready", name))
        } else {
            Verdict::falsy(
                types::READY,
                "DeploymentNotAvailable",
                avail.message.clone(),
            )
        };
        set_condition(&mut status.conditions, avail, generation, now);
        ready
    } else {
        let first = blocked
            .first()
            .cloned()
            .unwrap_or_else(|| Verdict::falsy(types::READY, "Blocked", "a precondition failed"));
        Verdict::falsy(types::READY, &first.reason, first.message)
    };
    let is_ready = ready.is_true();
    let ready_reason = ready.reason.clone();
    let ready_message = ready.message.clone();
    set_condition(&mut status.conditions, ready, generation, now);

    apply_status(&api, w.as_ref(), previous.as_ref(), &status).await?;
    if was_ready != is_ready {
        publish_event(
            &ctx,
            w.as_ref(),
            !is_ready,
            &ready_reason,
            "Reconcile",
            if is_ready {
                format!(
                    "witness ready, key ID {}",
                    status.key_id.clone().unwrap_or_default()
                )
            } else {
                ready_message
            },
        )
        .await;
    }
    Ok(if is_ready {
        Action::requeue(ctx.settings.resync)
    } else if blocked.is_empty() {
        Action::requeue(PROGRESS_REQUEUE)
    } else {
        Action::requeue(MISSING_REQUEUE)
    })
}

fn secret_value<'a>(secret: &'a Secret, key: &str) -> Result<&'a [u8], SeedError> {
    secret
        .data
        .as_ref()
        .and_then(|d| d.get(key))
        .map(|b| b.0.as_slice())
        .ok_or_else(|| SeedError::MissingKey(key.to_owned()))
}

/// Creates the seed Secret with a fresh random seed. `create`, not apply: an existing
/// Secret (a race with another writer) is kept and re-read, never overwritten.
async fn generate_seed_secret(
    w: &Witness,
    ns: &str,
    secrets: &Api<Secret>,
) -> Result<Secret, ReconcileError> {
    let seed_ref = &w.spec.seed.secret_ref;
    let mut seed = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut seed);
    let mut labels = child_labels("nucleus-witness", &w.name_any());
    labels.insert("trust.nucleus.dev/seed".to_owned(), "true".to_owned());
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some(seed_ref.name.clone()),
            namespace: Some(ns.to_owned()),
            labels: Some(labels),
            annotations: Some(
                [(
                    GENERATED_BY_ANNOTATION.to_owned(),
                    w.uid().unwrap_or_default(),
                )]
                .into(),
            ),
            owner_references: if w.spec.seed.retain_on_delete {
                None
            } else {
                Some(vec![owner_ref(w)?])
            },
            ..Default::default()
        },
        immutable: Some(true),
        type_: Some("Opaque".to_owned()),
        data: Some(
            [(
                seed_ref.key.clone(),
                ByteString(hex::encode(seed).into_bytes()),
            )]
            .into(),
        ),
        ..Default::default()
    };
    match secrets.create(&PostParams::default(), &secret).await {
        Ok(s) => Ok(s),
        Err(kube::Error::Api(e)) if e.code == 409 => Ok(secrets.get(&seed_ref.name).await?),
        Err(e) => Err(e.into()),
    }
}

/// Server-side applies the origins ConfigMap, Deployment, Service and PDB; returns the
/// Deployment as the apiserver has it.
async fn apply_children(
    w: &Witness,
    ns: &str,
    key: &WitnessKey,
    ctx: &Context,
) -> Result<Deployment, ReconcileError> {
    let client = ctx.client.clone();
    let name = w.name_any();
    let oref = owner_ref(w)?;
    let labels = child_labels("nucleus-witness", &name);
    let meta = |n: String| ObjectMeta {
        name: Some(n),
        namespace: Some(ns.to_owned()),
        labels: Some(labels.clone()),
        owner_references: Some(vec![oref.clone()]),
        ..Default::default()
    };

    let origins = origins_file(&w.spec);
    let cm_name = origins_config_map_name(w);
    let cm = ConfigMap {
        metadata: meta(cm_name.clone()),
        data: Some([(ORIGINS_KEY.to_owned(), origins.clone())].into()),
        ..Default::default()
    };
    apply(
        &Api::<ConfigMap>::namespaced(client.clone(), ns),
        &cm_name,
        &cm,
    )
    .await?;

    let deployment = desired_deployment(
        w,
        key,
        &ctx.settings.witness_image,
        &origins,
        meta(name.clone()),
    );
    let deployment = apply(
        &Api::<Deployment>::namespaced(client.clone(), ns),
        &name,
        &deployment,
    )
    .await?;

    let svc = Service {
        metadata: meta(name.clone()),
        spec: Some(ServiceSpec {
            type_: Some(w.spec.service.type_.as_str().to_owned()),
            selector: Some(labels.clone()),
            ports: Some(vec![ServicePort {
                name: Some("http".to_owned()),
                port: w.spec.service.port,
                target_port: Some(IntOrString::String("http".to_owned())),
                protocol: Some("TCP".to_owned()),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    };
    apply(&Api::<Service>::namespaced(client.clone(), ns), &name, &svc).await?;

    let pdbs: Api<PodDisruptionBudget> = Api::namespaced(client, ns);
    if w.spec.replicas > 1 {
        let pdb = PodDisruptionBudget {
            metadata: meta(name.clone()),
            spec: Some(PodDisruptionBudgetSpec {
                max_unavailable: Some(IntOrString::Int(1)),
                selector: Some(LabelSelector {
                    match_labels: Some(labels.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        apply(&pdbs, &name, &pdb).await?;
    } else if let Some(existing) = pdbs.get_opt(&name).await?
        && existing
            .owner_references()
            .iter()
            .any(|o| Some(&o.uid) == w.uid().as_ref())
    {
        pdbs.delete(&name, &DeleteParams::default()).await?;
    }
    Ok(deployment)
}

/// The witness Deployment: hardened pod, probes, seed and origins mounted as files, the
/// database URL from its Secret as `NUCLEUS_WITNESS_DB_URL`.
pub fn desired_deployment(
    w: &Witness,
    key: &WitnessKey,
    default_image: &str,
    origins: &str,
    metadata: ObjectMeta,
) -> Deployment {
    let spec = &w.spec;
    let labels = child_labels("nucleus-witness", &w.name_any());
    let config_hash = {
        let mut h = Sha256::new();
        h.update(origins.as_bytes());
        h.update(key.public_key_hex.as_bytes());
        hex::encode(&h.finalize()[..8])
    };
    let probe = |path: &str, period: i32| Probe {
        http_get: Some(HTTPGetAction {
            path: Some(path.to_owned()),
            port: IntOrString::String("http".to_owned()),
            ..Default::default()
        }),
        period_seconds: Some(period),
        timeout_seconds: Some(3),
        failure_threshold: Some(3),
        ..Default::default()
    };
    let container = Container {
        name: "witness".to_owned(),
        image: Some(
            spec.image
                .clone()
                .unwrap_or_else(|| default_image.to_owned()),
        ),
        image_pull_policy: spec.image_pull_policy.map(|p| p.as_str().to_owned()),
        args: Some(witness_args(spec)),
        env: Some(vec![EnvVar {
            name: "NUCLEUS_WITNESS_DB_URL".to_owned(),
            value_from: Some(EnvVarSource {
                secret_key_ref: Some(SecretKeySelector {
                    name: spec.database.postgres.url_secret_ref.name.clone(),
                    key: spec.database.postgres.url_secret_ref.key.clone(),
                    optional: Some(false),
                }),
                ..Default::default()
            }),
            ..Default::default()
        }]),
        ports: Some(vec![ContainerPort {
            name: Some("http".to_owned()),
            container_port: spec.service.port,
            protocol: Some("TCP".to_owned()),
            ..Default::default()
        }]),
        readiness_probe: Some(probe("/readyz", 5)),
        liveness_probe: Some(probe("/healthz", 10)),
        resources: spec.resources.clone(),
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            privileged: Some(false),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".to_owned()]),
                ..Default::default()
            }),
            ..Default::default()
        }),
        volume_mounts: Some(vec![
            VolumeMount {
                name: "seed".to_owned(),
                mount_path: SEED_DIR.to_owned(),
                read_only: Some(true),
                ..Default::default()
            },
            VolumeMount {
                name: "origins".to_owned(),
                mount_path: ORIGINS_DIR.to_owned(),
                read_only: Some(true),
                ..Default::default()
            },
            VolumeMount {
                name: "tmp".to_owned(),
                mount_path: "/tmp".to_owned(),
                ..Default::default()
            },
        ]),
        ..Default::default()
    };
    let pod = PodSpec {
        automount_service_account_token: Some(false),
        enable_service_links: Some(false),
        security_context: Some(PodSecurityContext {
            run_as_non_root: Some(true),
            run_as_user: Some(RUN_AS_USER),
            run_as_group: Some(RUN_AS_USER),
            fs_group: Some(RUN_AS_USER),
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".to_owned(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        containers: vec![container],
        volumes: Some(vec![
            Volume {
                name: "seed".to_owned(),
                secret: Some(SecretVolumeSource {
                    secret_name: Some(spec.seed.secret_ref.name.clone()),
                    items: Some(vec![KeyToPath {
                        key: spec.seed.secret_ref.key.clone(),
                        path: SEED_FILE.to_owned(),
                        mode: Some(0o400),
                    }]),
                    default_mode: Some(0o400),
                    optional: Some(false),
                }),
                ..Default::default()
            },
            Volume {
                name: "origins".to_owned(),
                config_map: Some(ConfigMapVolumeSource {
                    name: origins_config_map_name(w),
                    items: Some(vec![KeyToPath {
                        key: ORIGINS_KEY.to_owned(),
                        path: ORIGINS_KEY.to_owned(),
                        mode: None,
                    }]),
                    ..Default::default()
                }),
                ..Default::default()
            },
            Volume {
                name: "tmp".to_owned(),
                empty_dir: Some(EmptyDirVolumeSource {
                    size_limit: None,
                    medium: None,
                }),
                ..Default::default()
            },
        ]),
        ..Default::default()
    };
    Deployment {
        metadata,
        spec: Some(DeploymentSpec {
            replicas: Some(spec.replicas),
            selector: LabelSelector {
                match_labels: Some(labels.clone()),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    annotations: Some([(CONFIG_HASH_ANNOTATION.to_owned(), config_hash)].into()),
                    ..Default::default()
                }),
                spec: Some(pod),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nucleus_lineage::vkey::KeyType;

    fn witness() -> Witness {
        let spec: WitnessSpec = serde_json::from_value(serde_json::json!({
            "witnessName": "nucleus.witness/aws-use1",
            "origins": [{
                "origin": "example.nucleus.dev/log",
                "keyName": "example.nucleus.dev/log",
                "publicKey": "de192ec3cc4e5c2c037b4980dda1b3e95fccb4fe7d90d0284cbd16661a06be9f"
            }],
            "seed": {"secretRef": {"name": "seed", "key": "seed"}},
            "database": {"postgres": {"urlSecretRef": {"name": "db", "key": "url"}}}
        }))
        .unwrap();
        let mut w = Witness::new("witness-a", spec);
        w.metadata.namespace = Some("ns".into());
        w
    }

    #[test]
    fn seed_parses_hex_and_raw_and_rejects_others() {
        let seed = [7u8; 32];
        assert_eq!(parse_seed(hex::encode(seed).as_bytes()).unwrap(), seed);
        assert_eq!(
            parse_seed(format!(" {}\n", hex::encode(seed)).as_bytes()).unwrap(),
            seed
        );
        assert_eq!(parse_seed(&seed).unwrap(), seed);
        assert_eq!(parse_seed(b"abcd"), Err(SeedError::BadLength(4)));
        assert!(
            parse_seed(&[b'z'; 64]).is_err(),
            "64 non-hex chars are not a seed"
        );
    }

    #[test]
    fn derived_key_is_the_lineage_cosignature_vkey() {
        let seed = [9u8; 32];
        let k = derive_key("nucleus.witness/aws-use1", &seed).unwrap();
        let expected = SigningKey::from_bytes(&seed).verifying_key();
        assert_eq!(k.public_key_hex, hex::encode(expected.as_bytes()));
        let parsed = Vkey::parse(&k.vkey).unwrap();
        assert_eq!(parsed.key_type, KeyType::Cosignature);
        assert_eq!(parsed.name, "nucleus.witness/aws-use1");
        assert_eq!(format!("{:08x}", parsed.key_id), k.key_id);
        assert_eq!(
            parsed.key_id,
            nucleus_lineage::vkey::key_id(
                "nucleus.witness/aws-use1",
                KeyType::Cosignature,
                expected.as_bytes()
            )
        );
        assert!(
            derive_key("bad name", &seed).is_err(),
            "a name with a space cannot form a vkey"
        );
    }

    #[test]
    fn origins_file_has_one_line_per_origin() {
        let w = witness();
        let text = origins_file(&w.spec);
        let lines: Vec<_> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            lines,
            [
                "example.nucleus.dev/log|example.nucleus.dev/log|de192ec3cc4e5c2c037b4980dda1b3e95fccb4fe7d90d0284cbd16661a06be9f"
            ]
        );
    }

    #[test]
    fn deployment_is_hardened_and_wired() {
        let w = witness();
        let key = derive_key(&w.spec.witness_name, &[1u8; 32]).unwrap();
        let d = desired_deployment(
            &w,
            &key,
            "img:1",
            &origins_file(&w.spec),
            ObjectMeta::default(),
        );
        let pod = d.spec.as_ref().unwrap().template.spec.as_ref().unwrap();
        let psc = pod.security_context.as_ref().unwrap();
        assert_eq!(psc.run_as_non_root, Some(true));
        assert_eq!(
            psc.seccomp_profile.as_ref().unwrap().type_,
            "RuntimeDefault"
        );
        assert_eq!(pod.automount_service_account_token, Some(false));
        let c = &pod.containers[0];
        let sc = c.security_context.as_ref().unwrap();
        assert_eq!(sc.read_only_root_filesystem, Some(true));
        assert_eq!(sc.allow_privilege_escalation, Some(false));
        assert_eq!(
            sc.capabilities.as_ref().unwrap().drop.as_deref(),
            Some(&["ALL".to_owned()][..])
        );
        assert_eq!(c.image.as_deref(), Some("img:1"));
        let path = |p: &Option<Probe>| {
            p.as_ref()
                .unwrap()
                .http_get
                .as_ref()
                .unwrap()
                .path
                .clone()
                .unwrap()
        };
        assert_eq!(path(&c.readiness_probe), "/readyz");
        assert_eq!(path(&c.liveness_probe), "/healthz");
        let args = c.args.as_ref().unwrap();
        assert!(args.contains(&"--witness-seed-file=/etc/nucleus-witness/seed/seed".to_owned()));
        assert!(
            args.contains(&"--origins-file=/etc/nucleus-witness/origins/origins.txt".to_owned())
        );
        assert!(args.contains(&"--witness-name=nucleus.witness/aws-use1".to_owned()));
        assert!(
            args.iter().all(|a| !a.contains(&hex::encode([1u8; 32]))),
            "no seed on the command line"
        );
        let env = &c.env.as_ref().unwrap()[0];
        assert_eq!(env.name, "NUCLEUS_WITNESS_DB_URL");
        assert!(env.value.is_none(), "the URL is never inlined");
        let sel = env
            .value_from
            .as_ref()
            .unwrap()
            .secret_key_ref
            .as_ref()
            .unwrap();
        assert_eq!((sel.name.as_str(), sel.key.as_str()), ("db", "url"));
        let seed_vol = pod
            .volumes
            .as_ref()
            .unwrap()
            .iter()
            .find(|v| v.name == "seed")
            .unwrap();
        assert_eq!(
            seed_vol.secret.as_ref().unwrap().secret_name.as_deref(),
            Some("seed")
        );
    }

    #[test]
    fn config_hash_follows_origins_and_key() {
        let w = witness();
        let k1 = derive_key(&w.spec.witness_name, &[1u8; 32]).unwrap();
        let k2 = derive_key(&w.spec.witness_name, &[2u8; 32]).unwrap();
        let hash = |k: &WitnessKey, origins: &str| {
            desired_deployment(&w, k, "img", origins, ObjectMeta::default())
                .spec
                .unwrap()
                .template
                .metadata
                .unwrap()
                .annotations
                .unwrap()[CONFIG_HASH_ANNOTATION]
                .clone()
        };
        let base = hash(&k1, "a");
        assert_eq!(base, hash(&k1, "a"));
        assert_ne!(base, hash(&k1, "b"), "origins change rolls the pods");
        assert_ne!(base, hash(&k2, "a"), "key change rolls the pods");
    }
}
