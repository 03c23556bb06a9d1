//! HTTP: `POST /add-checkpoint`, `GET /<hex sha256(origin)>/checkpoint`, `GET /info`,
//! `/healthz`, `/readyz`, `/metrics`.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;

use crate::metrics::Metrics;
use crate::witness::{Rejection, Witness};

/// The largest request body accepted (larger ones get 413 before any parsing).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Content type of a 409 body, per the spec.
pub const TLOG_SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// Shared state of the HTTP handlers.
#[derive(Debug)]
pub struct AppState {
    /// The witness.
    pub witness: Witness,
    /// Its metrics.
    pub metrics: Metrics,
}

/// The router for a witness.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/add-checkpoint", post(add_checkpoint))
        .route("/{origin_hash}/checkpoint", get(monitor_checkpoint))
        .route("/info", get(info))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

async fn add_checkpoint(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let start = Instant::now();
    let result = state.witness.add_checkpoint(&body).await;
    let (origin, response) = match result {
        Ok(c) => {
            state.metrics.cosigned(c.origin.clone(), c.size);
            tracing::debug!(origin = %c.origin, size = c.size, "cosigned");
            (
                Some(c.origin),
                text(StatusCode::OK, "text/plain; charset=utf-8", c.body),
            )
        }
        Err(rejection) => {
            let origin = origin_of(&body);
            (origin, rejection_response(&rejection))
        }
    };
    let label = state.witness.metrics_origin(origin.as_deref());
    state.metrics.observe(
        label,
        response.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    response
}

/// The origin line of a body, for metrics only (not trusted for anything else).
fn origin_of(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let (_, note) = text.split_once("\n\n")?;
    note.lines().next().map(str::to_owned)
}

fn rejection_response(rejection: &Rejection) -> Response {
    let status = StatusCode::from_u16(rejection.status()).unwrap_or(StatusCode::BAD_REQUEST);
    match rejection {
        Rejection::Conflict { stored } => {
            text(status, TLOG_SIZE_CONTENT_TYPE, format!("{stored}\n"))
        }
        Rejection::Unavailable(reason) => {
            tracing::warn!(%reason, "database unavailable, not cosigning");
            let mut r = text(
                status,
                "text/plain; charset=utf-8",
                "witness state unavailable, try again later\n".into(),
            );
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            r
        }
        other => {
            tracing::debug!(status = status.as_u16(), reason = %other, "rejected");
            text(status, "text/plain; charset=utf-8", format!("{other}\n"))
        }
    }
}

async fn monitor_checkpoint(
    State(state): State<Arc<AppState>>,
    Path(origin_hash): Path<String>,
) -> Response {
    let well_formed = origin_hash.len() == 64
        && origin_hash
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    if !well_formed {
        return text(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "expected /<lowercase hex SHA-256 of the origin>/checkpoint\n".into(),
        );
    }
    match state.witness.latest_checkpoint(&origin_hash).await {
        Ok(Some(note)) => {
            let mut r = (StatusCode::OK, note).into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            r
        }
        Ok(None) => text(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "no checkpoint cosigned for this origin\n".into(),
        ),
        Err(e) => rejection_response(&e),
    }
}

/// `GET /info` body.
#[derive(Debug, Serialize)]
pub struct Info {
    /// Witness name.
    pub name: String,
    /// Ed25519 public key, hex.
    pub public_key_hex: String,
    /// Cosignature vkey (type 0x04).
    pub vkey: String,
    /// `sqlite` or `postgres`.
    pub store: &'static str,
    /// Configured origins.
    pub origins: Vec<InfoOrigin>,
}

/// One origin in `/info`.
#[derive(Debug, Serialize)]
pub struct InfoOrigin {
    /// The origin line.
    pub origin: String,
    /// Lowercase hex SHA-256 of the origin (the monitoring path segment).
    pub origin_hash: String,
    /// The trusted log keys, as vkeys.
    pub log_keys: Vec<String>,
}

/// The `/info` document for a witness.
pub fn info_of(witness: &Witness) -> Info {
    let origins = witness.origins();
    Info {
        name: witness.name().to_owned(),
        public_key_hex: hex::encode(&witness.vkey().public_key),
        vkey: witness.vkey().to_string(),
        store: witness.store().kind(),
        origins: origins
            .iter()
            .map(|(o, keys)| InfoOrigin {
                origin: o.to_owned(),
                origin_hash: crate::config::origin_hash_hex(o),
                log_keys: keys.iter().map(ToString::to_string).collect(),
            })
            .collect(),
    }
}

async fn info(State(state): State<Arc<AppState>>) -> axum::Json<Info> {
    axum::Json(info_of(&state.witness))
}

async fn readyz(State(state): State<Arc<AppState>>) -> Response {
    match state.witness.ready().await {
        Ok(()) => text(
            StatusCode::OK,
            "text/plain; charset=utf-8",
            "ready\n".into(),
        ),
        Err(e) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain; charset=utf-8",
            format!("{e}\n"),
        ),
    }
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    text(
        StatusCode::OK,
        "application/openmetrics-text; version=1.0.0; charset=utf-8",
        state.metrics.encode(),
    )
}
