//! mamori's web portal and REST API.
//!
//! # What it serves
//!
//! Server-rendered pages over the store, in Japanese and English: an overview,
//! the asset list (sort, filter, page, CSV export as UTF-8 with a BOM, so that
//! Excel opens Japanese names right) and a page per asset, a 16x16 device matrix,
//! a network map, traffic charts, a diff of two periods, the alerts with their
//! evidence (acknowledge, accept into the baseline), a flow search and settings
//! (zones and conduits, the OT command watch list, notification targets, users
//! and API tokens). Charts, the matrix and the map are SVG drawn here
//! ([`svg`], [`graph`]), so a page needs no script and no network beyond the
//! portal: plants are air-gapped. A little vanilla JavaScript (`static/app.js`)
//! adds the map's PNG download and confirmation prompts; CSS and scripts are
//! compiled into the binary. The REST API lives under `/api/v1/`, described by
//! an OpenAPI document at `/api/openapi.json` and a vendored Swagger UI at
//! `/api/docs`.
//!
//! # How it is built
//!
//! axum routes ([`router`]); maud templates (compiled, checked and escaped at
//! build time); Fluent messages ([`i18n`]); everything that reads the store runs
//! on tokio's blocking pool ([`blocking`]), because the SQLite back end is
//! synchronous. The portal reads what the CLI writes (assets, alerts,
//! baselines, hourly flows, runs) through [`PortalStore`], which also keeps its
//! own rows: users, sessions, API tokens, login attempts and settings (see
//! [`auth`] for the security model).
//!
//! # Binding
//!
//! [`PortalConfig::default`] binds `127.0.0.1:8080`. An address beyond loopback
//! must be allowed explicitly ([`PortalConfig::allow_remote`]); put TLS in front of
//! it, since session cookies are `Secure` by default.
//!
//! # Speed
//!
//! Pages ask the store for what they draw: counts, one page of rows, sums over
//! `flow_hourly` grouped in SQL ([`PortalStore::flow_edges`],
//! [`PortalStore::flow_buckets`]). The `page_bench` binary seeds 10,000 assets and
//! 100,000 alerts and times every page.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use mamori_store::{AlertRow, PortalStore};

pub mod api;
pub mod auth;
mod error;
mod flowcache;
pub mod graph;
pub mod i18n;
mod jsonview;
mod labels;
mod layout;
pub(crate) mod pages;
pub mod seed;
mod static_files;
pub mod svg;
mod util;

pub use auth::{
    CurrentUser, create_api_token, ensure_admin, hash_password, set_password, totp_code,
};
pub use error::{ApiError, AppError};
pub use i18n::Lang;
pub use mamori_store::Role;

/// Called when an operator accepts an alert into the baseline: the detect crate
/// turns the alert into baseline entries. An `Err` is shown to the operator and
/// leaves the alert's status unchanged.
pub type AcceptHook = Arc<dyn Fn(&AlertRow) -> Result<(), String> + Send + Sync>;

/// How the portal runs.
#[derive(Debug, Clone)]
pub struct PortalConfig {
    /// Address to listen on (default `127.0.0.1:8080`).
    pub bind: SocketAddr,
    /// Allow a non-loopback `bind` (off by default).
    pub allow_remote: bool,
    /// Mark cookies `Secure` (default on; browsers accept them over plain HTTP
    /// on loopback only).
    pub secure_cookies: bool,
    /// Admins must enrol a TOTP second factor before doing anything else
    /// (default on; the demo turns it off).
    pub require_admin_totp: bool,
    /// A session ends after this long without a request (default 8 hours).
    pub session_idle: Duration,
    /// Failed logins for one user name within the window that block it (default 5).
    pub max_failures_per_user: u64,
    /// Failed logins from one address within the window that block it (default 20).
    pub max_failures_per_ip: u64,
    /// The rate-limit window (default 15 minutes).
    pub failure_window: Duration,
    /// Rows per page in lists (default 50).
    pub page_size: u32,
}

impl Default for PortalConfig {
    fn default() -> Self {
        PortalConfig {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            allow_remote: false,
            secure_cookies: true,
            require_admin_totp: true,
            session_idle: Duration::from_secs(8 * 3600),
            max_failures_per_user: 5,
            max_failures_per_ip: 20,
            failure_window: Duration::from_secs(15 * 60),
            page_size: 50,
        }
    }
}

impl PortalConfig {
    fn session_idle_nanos(&self) -> i64 {
        i64::try_from(self.session_idle.as_nanos()).unwrap_or(i64::MAX / 2)
    }

    fn failure_window_nanos(&self) -> i64 {
        i64::try_from(self.failure_window.as_nanos()).unwrap_or(i64::MAX / 2)
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Arc<dyn PortalStore>,
    /// The configuration.
    pub config: Arc<PortalConfig>,
    /// What accepting an alert into the baseline does besides setting its status.
    pub accept: Option<AcceptHook>,
    /// Asset labels by address, shared between requests.
    pub(crate) labels: Arc<labels::LabelCache>,
    /// Flow summaries, shared between requests.
    pub(crate) flows: Arc<flowcache::FlowCache>,
}

impl AppState {
    /// A state over `store` with no accept hook.
    pub fn new(store: Arc<dyn PortalStore>, config: PortalConfig) -> Self {
        AppState {
            store,
            config: Arc::new(config),
            accept: None,
            labels: Arc::default(),
            flows: Arc::default(),
        }
    }

    /// Sets the hook called when an alert is accepted into the baseline.
    pub fn with_accept(mut self, hook: AcceptHook) -> Self {
        self.accept = Some(hook);
        self
    }
}

/// Runs store work on the blocking pool.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, AppError>
where
    F: FnOnce() -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(format!("a page task failed: {e}")))?
}

/// Every route of the portal and the API.
pub fn router(state: AppState) -> Router {
    use pages::*;
    Router::new()
        .route("/", get(overview::page))
        .route("/login", get(login::get_login).post(login::post_login))
        .route("/logout", post(login::logout))
        .route("/account", get(login::account))
        .route("/account/password", post(login::change_password))
        .route("/account/totp", post(login::enrol_totp))
        .route("/assets", get(assets::list))
        .route("/assets.csv", get(assets::csv))
        .route("/assets/{key}", get(assets::detail))
        .route("/matrix", get(matrix::page))
        .route("/map", get(map::page))
        .route("/map.svg", get(map::download))
        .route("/traffic", get(traffic::page))
        .route("/diff", get(diff::page))
        .route("/flows", get(traffic::flows))
        .route("/alerts", get(alerts::list))
        .route("/alerts/{id}", get(alerts::detail))
        .route("/alerts/{id}/status", post(alerts::set_status))
        .route("/settings", get(settings::page))
        .route("/settings/json/{key}", post(settings::save_json))
        .route("/settings/users", post(settings::create_user))
        .route("/settings/users/{id}", post(settings::update_user))
        .route("/settings/tokens", post(settings::create_token))
        .route("/settings/tokens/{id}/delete", post(settings::delete_token))
        .route("/static/{*file}", get(static_files::serve))
        .merge(api::routes())
        .layer(middleware::from_fn(headers_middleware))
        .with_state(state)
}

/// Security headers on every response, and the language cookie when the query
/// switched language.
async fn headers_middleware(req: Request, next: Next) -> Response {
    let lang = req.uri().query().and_then(i18n::query_lang);
    let is_docs = req.uri().path().starts_with("/api/docs");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let csp = if is_docs {
        // Swagger UI sets inline styles.
        "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
    } else {
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; frame-ancestors 'none'; form-action 'self'"
    };
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(csp),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(l) = lang
        && let Ok(v) = HeaderValue::from_str(&format!(
            "lang={}; Path=/; SameSite=Strict; Max-Age=31536000",
            l.code()
        ))
    {
        h.append(header::SET_COOKIE, v);
    }
    res
}

/// Why the portal could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address is not loopback and remote access was not allowed.
    #[error(
        "refusing to listen on {0}: not a loopback address (set allow_remote to serve beyond this machine)"
    )]
    NotLoopback(SocketAddr),
    /// Binding or serving failed.
    #[error("cannot serve on {addr}: {source}")]
    Io {
        /// The address.
        addr: SocketAddr,
        /// The error.
        #[source]
        source: std::io::Error,
    },
}

/// Binds `config.bind` (loopback unless allowed) and serves the portal over
/// `store` until Ctrl-C. Call [`ensure_admin`] first to have a login.
pub async fn serve(config: PortalConfig, store: Arc<dyn PortalStore>) -> Result<(), ServeError> {
    serve_state(AppState::new(store, config), async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}

/// Serves `state` on `state.config.bind` until `shutdown` completes.
pub async fn serve_state(
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let addr = state.config.bind;
    if !addr.ip().is_loopback() && !state.config.allow_remote {
        return Err(ServeError::NotLoopback(addr));
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Io { addr, source })?;
    let addr = listener.local_addr().unwrap_or(addr);
    // Sum the flows once before the first visitor asks: the overview, traffic
    // page and map then answer from the cache until a run writes new flows.
    let warm = state.clone();
    tokio::task::spawn_blocking(move || {
        let all = mamori_store::FlowFilter::default();
        let _ = warm.flows.buckets(&*warm.store, &all);
        let _ = warm.flows.edges(&*warm.store, &all);
        let _ = warm.labels.get(&*warm.store);
    });
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(|source| ServeError::Io { addr, source })
}

/// [`serve_state`] on a runtime of its own, for callers without tokio: blocks
/// until Ctrl-C.
pub fn serve_blocking(state: AppState) -> Result<(), ServeError> {
    let addr = state.config.bind;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|source| ServeError::Io { addr, source })?;
    rt.block_on(serve_state(state, async {
        let _ = tokio::signal::ctrl_c().await;
    }))
}
