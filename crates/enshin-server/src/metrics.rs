//! Metrics in the Prometheus text format (`GET /metrics`, operator listener only): requests by
//! listener, route pattern and status, latency histograms, open sessions, the access log's queue
//! and batch (fsync) times, refused TLS handshakes, open call sockets and the earliest expiry of
//! each clinic's certificates. Labels are route patterns and ids, never values from a request,
//! so nothing personal reaches a scraper and the number of series stays bounded.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::clock::now_ms;
use crate::error::ApiError;
use crate::listener::ListenerKind;
use crate::routes::AppState;

/// Upper bounds of the latency buckets, in seconds.
const BOUNDS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// A latency histogram (cumulative buckets are made when rendered).
#[derive(Debug, Default, Clone)]
pub struct Histogram {
    counts: [u64; BOUNDS.len()],
    over: u64,
    sum: f64,
}

impl Histogram {
    /// Adds one observation, in seconds.
    pub fn observe(&mut self, seconds: f64) {
        match BOUNDS.iter().position(|b| seconds <= *b) {
            Some(i) => self.counts[i] += 1,
            None => self.over += 1,
        }
        self.sum += seconds;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str) {
        let mut cumulative = 0;
        let sep = if labels.is_empty() { "" } else { "," };
        for (bound, count) in BOUNDS.iter().zip(self.counts) {
            cumulative += count;
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {cumulative}"
            );
        }
        cumulative += self.over;
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {cumulative}"
        );
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", self.sum);
        let _ = writeln!(out, "{name}_count{{{labels}}} {cumulative}");
    }
}

/// The counters of one instance, shared by its three listeners.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: Mutex<BTreeMap<(&'static str, String, u16), u64>>,
    latency: Mutex<BTreeMap<(&'static str, String), Histogram>>,
    handshakes_refused: [AtomicU64; 3],
    calls_open: AtomicI64,
}

fn slot(kind: ListenerKind) -> usize {
    match kind {
        ListenerKind::Patient => 0,
        ListenerKind::Clinic => 1,
        ListenerKind::Operator => 2,
    }
}

const LISTENERS: [ListenerKind; 3] = [
    ListenerKind::Patient,
    ListenerKind::Clinic,
    ListenerKind::Operator,
];

impl Metrics {
    /// Counts a TLS handshake a listener refused (or that timed out).
    pub fn handshake_refused(&self, kind: ListenerKind) {
        self.handshakes_refused[slot(kind)].fetch_add(1, Ordering::Relaxed);
    }

    /// A call socket opened (`1`) or closed (`-1`).
    pub fn call_sockets(&self, change: i64) {
        self.calls_open.fetch_add(change, Ordering::Relaxed);
    }

    fn request(&self, kind: ListenerKind, route: String, status: u16, seconds: f64) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests
                .entry((kind.name(), route.clone(), status))
                .or_default() += 1;
        }
        if let Ok(mut latency) = self.latency.lock() {
            latency
                .entry((kind.name(), route))
                .or_default()
                .observe(seconds);
        }
    }
}

/// The layer on every route: counts the answer and its time under the route's pattern.
pub async fn measure(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let start = Instant::now();
    let response = next.run(request).await;
    state.metrics.request(
        state.listener,
        route,
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    response
}

/// A label value with `\`, `"` and line breaks escaped.
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// `GET /metrics` (operator listener): the Prometheus text exposition format 0.0.4.
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let m = &state.metrics;
    let now = now_ms();
    let mut out = String::new();

    family(
        &mut out,
        "enshin_http_requests_total",
        "counter",
        "Requests answered, by listener, route pattern and status.",
    );
    if let Ok(requests) = m.requests.lock() {
        for ((listener, route, status), n) in requests.iter() {
            let _ = writeln!(
                out,
                "enshin_http_requests_total{{listener=\"{listener}\",route=\"{}\",status=\"{status}\"}} {n}",
                label(route)
            );
        }
    }
    family(
        &mut out,
        "enshin_http_request_duration_seconds",
        "histogram",
        "Time to answer, by listener and route pattern.",
    );
    let latency = m.latency.lock().map(|l| l.clone()).unwrap_or_default();
    for ((listener, route), h) in &latency {
        let labels = format!("listener=\"{listener}\",route=\"{}\"", label(route));
        h.render(&mut out, "enshin_http_request_duration_seconds", &labels);
    }

    family(
        &mut out,
        "enshin_sessions_open",
        "gauge",
        "Sessions not ended and used within the idle time, by kind of account.",
    );
    let idle_since = now - state.sessions.idle_ms;
    for (kind, n) in state.store.open_session_counts(idle_since).await? {
        let _ = writeln!(out, "enshin_sessions_open{{kind=\"{}\"}} {n}", label(&kind));
    }

    let audit = state.audit.health();
    family(
        &mut out,
        "enshin_audit_queue_depth",
        "gauge",
        "Access-log entries waiting to be written.",
    );
    let _ = writeln!(out, "enshin_audit_queue_depth {}", state.audit.queued());
    family(
        &mut out,
        "enshin_audit_entries_written_total",
        "counter",
        "Access-log entries made durable since start.",
    );
    let _ = writeln!(
        out,
        "enshin_audit_entries_written_total {}",
        audit.written()
    );
    family(
        &mut out,
        "enshin_audit_failing",
        "gauge",
        "1 while the access log cannot be written (requests fail closed).",
    );
    let _ = writeln!(out, "enshin_audit_failing {}", u8::from(audit.failing()));
    family(
        &mut out,
        "enshin_audit_batch_seconds",
        "histogram",
        "Time for one access-log batch to become durable (its fsync).",
    );
    audit
        .batches()
        .render(&mut out, "enshin_audit_batch_seconds", "");

    family(
        &mut out,
        "enshin_tls_handshakes_refused_total",
        "counter",
        "TLS handshakes refused or timed out, by listener.",
    );
    for kind in LISTENERS {
        let n = m.handshakes_refused[slot(kind)].load(Ordering::Relaxed);
        let _ = writeln!(
            out,
            "enshin_tls_handshakes_refused_total{{listener=\"{}\"}} {n}",
            kind.name()
        );
    }
    family(
        &mut out,
        "enshin_tls_client_certificates_refused_total",
        "counter",
        "Clinic client certificates refused at the handshake (revoked, unknown CA, expired).",
    );
    let _ = writeln!(
        out,
        "enshin_tls_client_certificates_refused_total {}",
        state.refused_certificates.load(Ordering::Relaxed)
    );
    family(
        &mut out,
        "enshin_clinic_certificate_expiry_timestamp_seconds",
        "gauge",
        "When the clinic's last valid client certificate expires (unix seconds); a clinic without one is absent.",
    );
    for (clinic, not_after) in state.store.certificate_expiries(now).await? {
        let _ = writeln!(
            out,
            "enshin_clinic_certificate_expiry_timestamp_seconds{{clinic_id=\"{}\"}} {}",
            label(&clinic),
            not_after / 1000
        );
    }
    if let Some(dir) = state.backups.as_deref() {
        let b = crate::backup::state(dir);
        family(
            &mut out,
            "enshin_backup_last_success_timestamp_seconds",
            "gauge",
            "When the newest backup was taken (unix seconds); absent before the first.",
        );
        if let Some(at) = b.last_at {
            let _ = writeln!(
                out,
                "enshin_backup_last_success_timestamp_seconds {}",
                at / 1000
            );
            family(
                &mut out,
                "enshin_backup_age_seconds",
                "gauge",
                "Age of the newest backup: the recovery point if the data were lost now.",
            );
            let _ = writeln!(out, "enshin_backup_age_seconds {}", (now - at) / 1000);
        }
        family(
            &mut out,
            "enshin_backup_failing",
            "gauge",
            "1 when the last backup attempt failed and none succeeded since.",
        );
        let _ = writeln!(
            out,
            "enshin_backup_failing {}",
            u8::from(b.failed_at.is_some())
        );
    }
    family(
        &mut out,
        "enshin_call_sockets_open",
        "gauge",
        "Video-call signalling sockets open on this instance.",
    );
    let _ = writeln!(
        out,
        "enshin_call_sockets_open {}",
        m.calls_open.load(Ordering::Relaxed)
    );

    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        out,
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_render_cumulative_buckets() {
        let mut h = Histogram::default();
        for s in [0.0005, 0.003, 0.003, 20.0] {
            h.observe(s);
        }
        let mut out = String::new();
        h.render(&mut out, "x", "a=\"b\"");
        assert!(out.contains("x_bucket{a=\"b\",le=\"0.001\"} 1\n"));
        assert!(out.contains("x_bucket{a=\"b\",le=\"0.005\"} 3\n"));
        assert!(out.contains("x_bucket{a=\"b\",le=\"10\"} 3\n"));
        assert!(out.contains("x_bucket{a=\"b\",le=\"+Inf\"} 4\n"));
        assert!(out.contains("x_count{a=\"b\"} 4\n"));
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
