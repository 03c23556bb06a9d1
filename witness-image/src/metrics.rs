//! Prometheus metrics: requests by origin and status, request latency, and the last
//! cosigned tree size per origin.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a request counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// A configured origin, or `unknown`.
    pub origin: String,
    /// The HTTP status answered.
    pub status: u16,
}

/// Labels of a per-origin gauge.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OriginLabels {
    /// A configured origin.
    pub origin: String,
}

/// The witness's metrics and their registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Histogram,
    cosigned_size: Family<OriginLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Registers every metric under the `nucleus_witness` prefix.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("nucleus_witness");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "add_checkpoint_requests",
            "add-checkpoint requests by origin and HTTP status",
            requests.clone(),
        );
        // 100 µs .. ~3.3 s
        let latency = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
        registry.register(
            "add_checkpoint_duration_seconds",
            "add-checkpoint handling time, from body received to response ready",
            latency.clone(),
        );
        let cosigned_size = Family::<OriginLabels, Gauge>::default();
        registry.register(
            "last_cosigned_tree_size",
            "tree size of the last checkpoint cosigned by this process, per origin",
            cosigned_size.clone(),
        );
        Metrics {
            registry,
            requests,
            latency,
            cosigned_size,
        }
    }

    /// Records one add-checkpoint request.
    pub fn observe(&self, origin: String, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels { origin, status })
            .inc();
        self.latency.observe(seconds);
    }

    /// Records a committed cosignature.
    pub fn cosigned(&self, origin: String, size: u64) {
        self.cosigned_size
            .get_or_create(&OriginLabels { origin })
            .set(i64::try_from(size).unwrap_or(i64::MAX));
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exposes_requests_latency_and_sizes() {
        let m = Metrics::new();
        m.observe("example.com/log".into(), 200, 0.002);
        m.observe("unknown".into(), 404, 0.001);
        m.cosigned("example.com/log".into(), 42);
        let text = m.encode();
        assert!(text.contains(
            "nucleus_witness_add_checkpoint_requests_total{origin=\"example.com/log\",status=\"200\"} 1"
        ));
        assert!(text.contains("status=\"404\""));
        assert!(text.contains("nucleus_witness_add_checkpoint_duration_seconds_count 2"));
        assert!(
            text.contains("nucleus_witness_last_cosigned_tree_size{origin=\"example.com/log\"} 42")
        );
    }
}
