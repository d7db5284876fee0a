//! A small Prometheus registry of our own: per-server (tests run several servers in one
//! process, which a global recorder would mix), lock-light, and exactly the series we need.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

/// Latency buckets in seconds, from 100 µs to 10 s.
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

#[derive(Default)]
struct Histogram {
    buckets: Vec<AtomicU64>,
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn new() -> Self {
        Histogram {
            buckets: BUCKETS.iter().map(|_| AtomicU64::new(0)).collect(),
            ..Default::default()
        }
    }

    /// One atomic add per observation: each bucket counts only its own range, and
    /// [`Metrics::render`] sums them into Prometheus's cumulative form.
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_micros
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
    }
}

#[derive(Default)]
pub struct Metrics {
    /// (operation, error code or "" for success) -> count. A read lock and an atomic add on the
    /// hot path; the write lock only the first time a pair is seen.
    requests: RwLock<BTreeMap<(&'static str, &'static str), Arc<AtomicU64>>>,
    /// operation -> latency
    latency: RwLock<BTreeMap<&'static str, Arc<Histogram>>>,
    purged_secrets: AtomicU64,
    /// outcome ("succeeded", "failed", ...) -> finished rotations.
    rotations: RwLock<BTreeMap<&'static str, u64>>,
    /// step -> failed invocations (each attempt counted).
    rotation_step_failures: RwLock<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn record_request(
        &self,
        operation: &'static str,
        error_code: Option<&'static str>,
        elapsed: Duration,
    ) {
        let key = (operation, error_code.unwrap_or(""));
        let counter = self
            .requests
            .read()
            .expect("metrics lock")
            .get(&key)
            .cloned();
        let counter = counter.unwrap_or_else(|| {
            self.requests
                .write()
                .expect("metrics lock")
                .entry(key)
                .or_default()
                .clone()
        });
        counter.fetch_add(1, Ordering::Relaxed);
        let histogram = self
            .latency
            .read()
            .expect("metrics lock")
            .get(operation)
            .cloned();
        let histogram = histogram.unwrap_or_else(|| {
            self.latency
                .write()
                .expect("metrics lock")
                .entry(operation)
                .or_insert_with(|| Arc::new(Histogram::new()))
                .clone()
        });
        histogram.observe(elapsed);
    }

    pub fn record_purged(&self, n: usize) {
        self.purged_secrets.fetch_add(n as u64, Ordering::Relaxed);
    }

    pub fn record_rotation(&self, outcome: &'static str) {
        *self
            .rotations
            .write()
            .expect("metrics lock")
            .entry(outcome)
            .or_default() += 1;
    }

    pub fn record_rotation_step_failure(&self, step: &'static str) {
        *self
            .rotation_step_failures
            .write()
            .expect("metrics lock")
            .entry(step)
            .or_default() += 1;
    }

    /// The Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP tumbler_requests_total API requests by operation and error code (empty for success).\n");
        out.push_str("# TYPE tumbler_requests_total counter\n");
        for ((op, code), n) in self.requests.read().expect("metrics lock").iter() {
            let n = n.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "tumbler_requests_total{{operation=\"{op}\",error_code=\"{code}\"}} {n}"
            );
        }
        out.push_str("# HELP tumbler_request_duration_seconds API request latency by operation.\n");
        out.push_str("# TYPE tumbler_request_duration_seconds histogram\n");
        for (op, h) in self.latency.read().expect("metrics lock").iter() {
            let mut cumulative = 0;
            for (i, b) in BUCKETS.iter().enumerate() {
                cumulative += h.buckets[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "tumbler_request_duration_seconds_bucket{{operation=\"{op}\",le=\"{b}\"}} {cumulative}"
                );
            }
            let count = h.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "tumbler_request_duration_seconds_bucket{{operation=\"{op}\",le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "tumbler_request_duration_seconds_sum{{operation=\"{op}\"}} {}",
                h.sum_micros.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "tumbler_request_duration_seconds_count{{operation=\"{op}\"}} {count}"
            );
        }
        out.push_str(
            "# HELP tumbler_purged_secrets_total Secrets removed after their recovery window.\n",
        );
        out.push_str("# TYPE tumbler_purged_secrets_total counter\n");
        let _ = writeln!(
            out,
            "tumbler_purged_secrets_total {}",
            self.purged_secrets.load(Ordering::Relaxed)
        );
        out.push_str("# HELP tumbler_rotations_total Rotations that ended, by outcome.\n");
        out.push_str("# TYPE tumbler_rotations_total counter\n");
        for (outcome, n) in self.rotations.read().expect("metrics lock").iter() {
            let _ = writeln!(out, "tumbler_rotations_total{{outcome=\"{outcome}\"}} {n}");
        }
        out.push_str("# HELP tumbler_rotation_step_failures_total Failed invocations of rotation functions, by step.\n");
        out.push_str("# TYPE tumbler_rotation_step_failures_total counter\n");
        for (step, n) in self
            .rotation_step_failures
            .read()
            .expect("metrics lock")
            .iter()
        {
            let _ = writeln!(
                out,
                "tumbler_rotation_step_failures_total{{step=\"{step}\"}} {n}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_histograms() {
        let m = Metrics::new();
        m.record_request("GetSecretValue", None, Duration::from_micros(300));
        m.record_request(
            "GetSecretValue",
            Some("ResourceNotFoundException"),
            Duration::from_millis(3),
        );
        let text = m.render();
        assert!(
            text.contains("tumbler_requests_total{operation=\"GetSecretValue\",error_code=\"\"} 1")
        );
        assert!(text.contains("tumbler_requests_total{operation=\"GetSecretValue\",error_code=\"ResourceNotFoundException\"} 1"));
        assert!(text.contains(
            "tumbler_request_duration_seconds_bucket{operation=\"GetSecretValue\",le=\"0.0005\"} 1"
        ));
        assert!(text.contains(
            "tumbler_request_duration_seconds_bucket{operation=\"GetSecretValue\",le=\"0.005\"} 2"
        ));
        assert!(
            text.contains("tumbler_request_duration_seconds_count{operation=\"GetSecretValue\"} 2")
        );
    }
}
