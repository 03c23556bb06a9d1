//! What every reconciler receives: the client, metrics, the event recorder, operator
//! settings, and the shutdown signal.

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};
use k8s_openapi::NamespaceResourceScope;
use kube::runtime::events::{Recorder, Reporter};
use kube::{Api, Client, Resource};

use crate::metrics::Metrics;

/// The one server-side-apply field manager of this operator.
pub const FIELD_MANAGER: &str = "nucleus-operator";

/// Operator settings that reconcilers read.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Witness image used when `Witness.spec.image` is unset.
    pub witness_image: String,
    /// Periodic resync of healthy objects.
    pub resync: Duration,
    /// Shortest and longest error backoff.
    pub backoff: (Duration, Duration),
    /// Watch namespaced kinds (Witness, QuorumPolicy, BundleReplica and their children) in
    /// this namespace only; `None`: every namespace. FederatesWith is cluster-scoped and
    /// always watched.
    pub watch_namespace: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            witness_image: "ghcr.io/nucleus/nucleus-witness:latest".to_owned(),
            resync: Duration::from_secs(300),
            backoff: (Duration::from_secs(1), Duration::from_secs(300)),
            watch_namespace: None,
        }
    }
}

/// A cloneable future that resolves when the operator must stop (signal or lost lease).
pub type ShutdownSignal = Shared<BoxFuture<'static, ()>>;

/// Shared state handed to every controller as `Arc<Context>`.
pub struct Context {
    /// Kubernetes client.
    pub client: Client,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Kubernetes event recorder (events.k8s.io).
    pub recorder: Recorder,
    /// Operator settings.
    pub settings: Settings,
    /// Resolves when controllers must drain and stop.
    pub shutdown: ShutdownSignal,
}

impl Context {
    /// An API handle for a namespaced kind, scoped to the watched namespace if one is set.
    pub fn watched<K>(&self) -> Api<K>
    where
        K: Resource<Scope = NamespaceResourceScope>,
        K::DynamicType: Default,
    {
        match &self.settings.watch_namespace {
            Some(ns) => Api::namespaced(self.client.clone(), ns),
            None => Api::all(self.client.clone()),
        }
    }

    /// Builds a context; `shutdown` resolves when controllers must stop.
    pub fn new(
        client: Client,
        metrics: Arc<Metrics>,
        settings: Settings,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Self {
        let reporter = Reporter {
            controller: FIELD_MANAGER.to_owned(),
            instance: std::env::var("POD_NAME").ok(),
        };
        Self {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            metrics,
            settings,
            shutdown: shutdown.boxed().shared(),
        }
    }
}
