//! Helpers every reconciler shares: server-side apply with the one field manager, status
//! writes that skip no-ops, events, per-object error backoff, and the controller driver
//! that adds metrics and graceful shutdown around a reconcile function.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Debug;
use std::hash::Hash;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::events::{Event, EventType};
use kube::runtime::reflector::ObjectRef;
use kube::{Api, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::context::{Context, FIELD_MANAGER};

/// Label put on every object the operator creates.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY_LABEL`].
pub const MANAGED_BY: &str = "nucleus-operator";
/// Label selector matching the operator's children (used to narrow `owns` watches).
pub const MANAGED_SELECTOR: &str = "app.kubernetes.io/managed-by=nucleus-operator";

/// Errors common to all reconcilers; each maps to a metric label.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    /// The apiserver refused or failed a request.
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
    /// The object lacks something the apiserver always sets (namespace, uid…).
    #[error("object is missing {0}")]
    Incomplete(&'static str),
    /// Serializing a desired object failed.
    #[error("serializing: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// A reconcile error with a short, bounded label for the failures metric.
pub trait MetricLabel {
    /// e.g. `kube`, `fetch`, `invalid`.
    fn metric_label(&self) -> &'static str;
}

impl MetricLabel for ReconcileError {
    fn metric_label(&self) -> &'static str {
        match self {
            Self::Kube(_) => "kube",
            Self::Incomplete(_) => "incomplete",
            Self::Serialize(_) => "serialize",
        }
    }
}

/// Labels of a child of `owner`: managed-by plus `app.kubernetes.io/instance`.
pub fn child_labels(kind: &str, owner_name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (MANAGED_BY_LABEL.to_owned(), MANAGED_BY.to_owned()),
        ("app.kubernetes.io/name".to_owned(), kind.to_owned()),
        (
            "app.kubernetes.io/instance".to_owned(),
            owner_name.to_owned(),
        ),
    ])
}

/// The controller owner reference to put on children of `owner`.
pub fn owner_ref<K: Resource<DynamicType = ()>>(
    owner: &K,
) -> Result<OwnerReference, ReconcileError> {
    owner
        .controller_owner_ref(&())
        .ok_or(ReconcileError::Incomplete("metadata.uid"))
}

/// Server-side applies `obj` (full desired state, `apiVersion`/`kind` included) with the
/// operator's field manager, forcing ownership of the fields it sends.
pub async fn apply<K>(api: &Api<K>, name: &str, obj: &K) -> Result<K, ReconcileError>
where
    K: Resource + Serialize + DeserializeOwned + Clone + Debug,
{
    let params = PatchParams::apply(FIELD_MANAGER).force();
    Ok(api.patch(name, &params, &Patch::Apply(obj)).await?)
}

/// Writes `status` of `obj` with server-side apply on the status subresource, unless it
/// equals `current` (then nothing is sent). Returns whether a write happened.
pub async fn apply_status<K, S>(
    api: &Api<K>,
    obj: &K,
    current: Option<&S>,
    status: &S,
) -> Result<bool, ReconcileError>
where
    K: Resource<DynamicType = ()> + DeserializeOwned + Clone + Debug,
    S: Serialize + PartialEq,
{
    if current == Some(status) {
        return Ok(false);
    }
    let body = serde_json::json!({
        "apiVersion": K::api_version(&()),
        "kind": K::kind(&()),
        "status": status,
    });
    let params = PatchParams::apply(FIELD_MANAGER).force();
    api.patch_status(&obj.name_any(), &params, &Patch::Apply(body))
        .await?;
    Ok(true)
}

/// Publishes an event about `obj`; failures are logged, never fatal.
pub async fn publish_event<K: Resource<DynamicType = ()>>(
    ctx: &Context,
    obj: &K,
    warning: bool,
    reason: &str,
    action: &str,
    note: impl Into<String>,
) {
    let event = Event {
        type_: if warning {
            EventType::Warning
        } else {
            EventType::Normal
        },
        reason: reason.to_owned(),
        note: Some(truncate(note.into(), 1000)),
        action: action.to_owned(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&event, &obj.object_ref(&())).await {
        tracing::warn!(error = %e, reason, "publishing event failed");
    }
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

/// Per-object exponential error backoff: `min`, doubling per consecutive failure, capped
/// at `max`; a successful reconcile resets it.
#[derive(Debug)]
pub struct Backoff<Key> {
    failures: Mutex<HashMap<Key, u32>>,
    min: Duration,
    max: Duration,
}

impl<Key: Hash + Eq> Backoff<Key> {
    /// A backoff between `min` and `max`.
    pub fn new(min: Duration, max: Duration) -> Self {
        Self {
            failures: Mutex::new(HashMap::new()),
            min,
            max,
        }
    }

    /// Records a failure of `key` and returns how long to wait before retrying.
    pub fn failed(&self, key: Key) -> Duration {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let n = map.entry(key).or_insert(0);
        let delay = self
            .min
            .saturating_mul(2u32.saturating_pow(*n))
            .min(self.max);
        *n = n.saturating_add(1);
        delay
    }

    /// Forgets the failures of `key`.
    pub fn succeeded(&self, key: &Key) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

/// Runs `controller` until the context's shutdown signal, wrapping `reconcile` with the
/// reconcile metrics and turning errors into per-object exponential backoff.
/// `name` labels metrics and logs (e.g. `witness`).
pub async fn drive<K, E, F, Fut>(
    controller: Controller<K>,
    ctx: Arc<Context>,
    name: &'static str,
    reconcile: F,
) where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    E: std::error::Error + MetricLabel + Send + Sync + 'static,
    F: Fn(Arc<K>, Arc<Context>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Action, E>> + Send + 'static,
{
    let backoff = Arc::new(Backoff::<ObjectRef<K>>::new(
        ctx.settings.backoff.0,
        ctx.settings.backoff.1,
    ));
    let on_ok = backoff.clone();
    let wrapped = move |obj: Arc<K>, ctx: Arc<Context>| {
        let started = Instant::now();
        let key = ObjectRef::from_obj(obj.as_ref());
        let fut = reconcile(obj, ctx.clone());
        let backoff = on_ok.clone();
        async move {
            let result = fut.await;
            ctx.metrics.reconciled(name, started.elapsed());
            if result.is_ok() {
                backoff.succeeded(&key);
            }
            result
        }
    };
    let error_policy = move |obj: Arc<K>, error: &E, ctx: Arc<Context>| {
        ctx.metrics.failed(name, error.metric_label());
        let delay = backoff.failed(ObjectRef::from_obj(obj.as_ref()));
        tracing::warn!(controller = name, object = %obj.name_any(), error = %error, retry_in = ?delay, "reconcile failed");
        Action::requeue(delay)
    };
    controller
        .graceful_shutdown_on(ctx.shutdown.clone())
        .run(wrapped, error_policy, ctx.clone())
        .for_each(|res| async move {
            if let Err(e) = res {
                tracing::debug!(controller = name, error = %e, "controller event");
            }
        })
        .await;
    tracing::info!(controller = name, "controller stopped");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_caps_and_resets() {
        let b = Backoff::new(Duration::from_secs(1), Duration::from_secs(5));
        assert_eq!(b.failed("a"), Duration::from_secs(1));
        assert_eq!(b.failed("a"), Duration::from_secs(2));
        assert_eq!(b.failed("a"), Duration::from_secs(4));
        assert_eq!(b.failed("a"), Duration::from_secs(5));
        assert_eq!(b.failed("b"), Duration::from_secs(1));
        b.succeeded(&"a");
        assert_eq!(b.failed("a"), Duration::from_secs(1));
    }

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("ééé".to_owned(), 3), "é");
        assert_eq!(truncate("abc".to_owned(), 10), "abc");
    }
}
