//! Prometheus metrics: reconcile runs, failures by error kind, reconcile duration, and a
//! ready gauge per kind, all labelled by controller.

use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of per-controller metrics.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ControllerLabels {
    /// Controller (kind) name, e.g. `witness`.
    pub controller: String,
}

/// Labels of failure counters.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    /// Controller (kind) name.
    pub controller: String,
    /// Error kind, from the reconciler's error `metric_label`.
    pub error: String,
}

/// The operator's metrics and the registry that exposes them.
pub struct Metrics {
    registry: Mutex<Registry>,
    reconciles: Family<ControllerLabels, Counter>,
    failures: Family<FailureLabels, Counter>,
    duration: Family<ControllerLabels, Histogram>,
    ready: Family<ControllerLabels, Gauge>,
    leader: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("nucleus_operator");
        let reconciles = Family::<ControllerLabels, Counter>::default();
        let failures = Family::<FailureLabels, Counter>::default();
        let duration = Family::<ControllerLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.005, 2.0, 12))
        });
        let ready = Family::<ControllerLabels, Gauge>::default();
        let leader = Gauge::default();
        registry.register("reconciles", "Reconcile runs", reconciles.clone());
        registry.register(
            "reconcile_failures",
            "Reconcile errors by kind",
            failures.clone(),
        );
        registry.register(
            "reconcile_duration_seconds",
            "Reconcile duration",
            duration.clone(),
        );
        registry.register(
            "objects_ready",
            "Objects whose Ready condition is True",
            ready.clone(),
        );
        registry.register(
            "leader",
            "1 while this process holds the leader Lease",
            leader.clone(),
        );
        Self {
            registry: Mutex::new(registry),
            reconciles,
            failures,
            duration,
            ready,
            leader,
        }
    }
}

impl Metrics {
    /// Counts one reconcile of `controller` that took `elapsed`.
    pub fn reconciled(&self, controller: &str, elapsed: Duration) {
        let l = ControllerLabels {
            controller: controller.to_owned(),
        };
        self.reconciles.get_or_create(&l).inc();
        self.duration
            .get_or_create(&l)
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one failed reconcile of `controller` with error kind `error`.
    pub fn failed(&self, controller: &str, error: &str) {
        self.failures
            .get_or_create(&FailureLabels {
                controller: controller.to_owned(),
                error: error.to_owned(),
            })
            .inc();
    }

    /// Sets how many objects of `controller` are Ready.
    pub fn set_ready(&self, controller: &str, count: i64) {
        self.ready
            .get_or_create(&ControllerLabels {
                controller: controller.to_owned(),
            })
            .set(count);
    }

    /// Records whether this process leads.
    pub fn set_leader(&self, leading: bool) {
        self.leader.set(i64::from(leading));
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|p| p.into_inner());
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_contains_counters() {
        let m = Metrics::default();
        m.reconciled("witness", Duration::from_millis(12));
        m.failed("witness", "kube");
        m.set_leader(true);
        let text = m.render();
        assert!(
            text.contains("nucleus_operator_reconciles_total{controller=\"witness\"} 1"),
            "{text}"
        );
        assert!(text.contains(
            "nucleus_operator_reconcile_failures_total{controller=\"witness\",error=\"kube\"} 1"
        ));
        assert!(text.contains("nucleus_operator_leader 1"));
    }
}
