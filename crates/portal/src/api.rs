//! The REST API under `/api/v1/`, its OpenAPI document and the Swagger UI.
//!
//! Calls authenticate with an API token (`Authorization: Bearer mamori_…`,
//! created by an admin in the settings) or with a portal session; a call with
//! a session that changes something must send the session's CSRF token in
//! `X-CSRF-Token`. Roles apply as in the portal: changing an alert's status
//! needs an operator. Errors are `{"error": "…"}` with the HTTP status.
//!
//! | Method and path | What |
//! |---|---|
//! | `GET /api/v1/assets` | assets (filter, sort, page) |
//! | `GET /api/v1/assets/{key}` | one asset with its detail |
//! | `GET /api/v1/alerts` | alerts (filter, page), newest first |
//! | `GET /api/v1/alerts/{id}` | one alert with its evidence |
//! | `POST /api/v1/alerts/{id}/status` | acknowledge, accept into the baseline, reopen |
//! | `GET /api/v1/flows` | hourly flow rows (host, time range) |
//! | `GET /api/v1/diff` | new, vanished and changed hosts and communications |
//! | `GET /api/v1/baselines` | learned baselines, newest first |

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use mamori_store::{AlertQuery, AlertRow, AlertStatus, AssetQuery, AssetRow, FlowFilter, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, OpenApi, ToSchema};

use crate::auth::ApiAuth;
use crate::error::{ApiError, AppError};
use crate::pages::diff::{self, CommDiff, Diff, DiffParams, HostDiff};
use crate::{AppState, util};

/// The API's routes, the OpenAPI document and the docs.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/assets", get(assets))
        .route("/api/v1/assets/{key}", get(asset))
        .route("/api/v1/alerts", get(alerts))
        .route("/api/v1/alerts/{id}", get(alert))
        .route("/api/v1/alerts/{id}/status", post(alert_status))
        .route("/api/v1/flows", get(flows))
        .route("/api/v1/diff", get(diff_api))
        .route("/api/v1/baselines", get(baselines))
        .route("/api/openapi.json", get(openapi_json))
        .route("/api/docs", get(docs))
        .route("/api/docs/{file}", get(docs_file))
}

/// The OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    info(title = "mamori API", description = "Assets, alerts, flows, diffs and baselines of a mamori store."),
    paths(assets, asset, alerts, alert, alert_status, flows, diff_api, baselines),
    components(schemas(ApiAsset, ApiAlert, ApiFlow, ApiBaseline, StatusChange, Page<ApiAsset>, Page<ApiAlert>, Diff, HostDiff, CommDiff)),
    modifiers(&BearerAuth),
    security(("bearer" = []))
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// One page of results.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    /// How many match the filter in all.
    pub total: u64,
    /// Skipped.
    pub offset: u32,
    /// The rows.
    pub items: Vec<T>,
}

/// An asset.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiAsset {
    /// `mac:…` or `ip:…`.
    pub key: String,
    /// MAC address.
    pub mac: Option<String>,
    /// Addresses, newest first.
    pub ips: Vec<String>,
    /// Vendor.
    pub vendor: Option<String>,
    /// Host name.
    pub hostname: Option<String>,
    /// Operating system.
    pub os: Option<String>,
    /// End of support of the OS (ISO date).
    pub os_eol: Option<String>,
    /// Role.
    pub role: String,
    /// Model.
    pub model: Option<String>,
    /// Firmware.
    pub firmware: Option<String>,
    /// Router it sits behind.
    pub behind: Option<String>,
    /// First seen, RFC 3339-like UTC text.
    pub first_seen: String,
    /// Last seen.
    pub last_seen: String,
    /// First seen, ns since the epoch.
    pub first_seen_ns: i64,
    /// Last seen, ns since the epoch.
    pub last_seen_ns: i64,
    /// Packets.
    pub pkts: u64,
    /// Bytes.
    pub bytes: u64,
    /// The ledger's whole record (JSON), on single-asset calls.
    #[schema(value_type = Object)]
    pub detail: Option<serde_json::Value>,
}

fn iso(ns: i64) -> String {
    format!("{}Z", util::fmt_time_secs(ns).replace(' ', "T"))
}

fn api_asset(a: AssetRow, with_detail: bool) -> ApiAsset {
    ApiAsset {
        detail: with_detail.then(|| {
            serde_json::from_str(&a.detail).unwrap_or(serde_json::Value::String(a.detail.clone()))
        }),
        first_seen: iso(a.first_seen),
        last_seen: iso(a.last_seen),
        first_seen_ns: a.first_seen,
        last_seen_ns: a.last_seen,
        key: a.key,
        mac: a.mac,
        ips: a.ips,
        vendor: a.vendor,
        hostname: a.hostname,
        os: a.os,
        os_eol: a.os_eol,
        role: a.role,
        model: a.model,
        firmware: a.firmware,
        behind: a.behind,
        pkts: a.pkts,
        bytes: a.bytes,
    }
}

/// An alert.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiAlert {
    /// Id.
    pub id: i64,
    /// First seen (UTC text).
    pub ts: String,
    /// First seen, ns.
    pub ts_ns: i64,
    /// Last seen (UTC text).
    pub last_seen: String,
    /// Times fired.
    pub count: u64,
    /// Kind.
    pub kind: String,
    /// Severity.
    pub severity: String,
    /// Source MAC.
    pub src_mac: Option<String>,
    /// Source IP.
    pub src_ip: Option<String>,
    /// Destination MAC.
    pub dst_mac: Option<String>,
    /// Destination IP.
    pub dst_ip: Option<String>,
    /// Protocol.
    pub protocol: Option<String>,
    /// Summary.
    pub summary: String,
    /// Evidence (JSON).
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
    /// ATT&CK for ICS technique.
    pub mitre_ics: Option<String>,
    /// Raised while learning.
    pub learning: bool,
    /// `open`, `acknowledged` or `accepted`.
    pub status: String,
    /// Who set the status.
    pub status_by: Option<String>,
}

fn api_alert(a: AlertRow) -> ApiAlert {
    ApiAlert {
        id: a.id,
        ts: iso(a.ts),
        ts_ns: a.ts,
        last_seen: iso(a.last_seen),
        count: a.count,
        kind: a.kind,
        severity: a.severity,
        src_mac: a.src_mac,
        src_ip: a.src_ip,
        dst_mac: a.dst_mac,
        dst_ip: a.dst_ip,
        protocol: a.protocol,
        summary: a.summary,
        evidence: serde_json::from_str(&a.evidence)
            .unwrap_or(serde_json::Value::String(a.evidence.clone())),
        mitre_ics: a.mitre_ics,
        learning: a.learning,
        status: a.status.as_str().to_string(),
        status_by: a.status_by,
    }
}

/// Which assets to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AssetsQuery {
    /// Substring of key, addresses, vendor, host name, OS or model.
    pub q: Option<String>,
    /// Only this role.
    pub role: Option<String>,
    /// `key`, `ip`, `vendor`, `hostname`, `role`, `os`, `first_seen`, `last_seen`, `bytes`.
    pub sort: Option<String>,
    /// Descending.
    pub desc: Option<bool>,
    /// At most (default 100, max 1000).
    pub limit: Option<u32>,
    /// Skip.
    pub offset: Option<u32>,
}

/// Assets.
#[utoipa::path(get, path = "/api/v1/assets", params(AssetsQuery), responses((status = 200, body = Page<ApiAsset>), (status = 401)))]
async fn assets(
    State(state): State<AppState>,
    _auth: ApiAuth,
    Query(q): Query<AssetsQuery>,
) -> Result<Json<Page<ApiAsset>>, ApiError> {
    let page = crate::blocking(move || {
        let sort = match q.sort.as_deref().unwrap_or("key") {
            "ip" => mamori_store::AssetSort::Ip,
            "vendor" => mamori_store::AssetSort::Vendor,
            "hostname" => mamori_store::AssetSort::Hostname,
            "role" => mamori_store::AssetSort::Role,
            "os" => mamori_store::AssetSort::Os,
            "first_seen" => mamori_store::AssetSort::FirstSeen,
            "last_seen" => mamori_store::AssetSort::LastSeen,
            "bytes" => mamori_store::AssetSort::Bytes,
            _ => mamori_store::AssetSort::Key,
        };
        let mut query = AssetQuery {
            role: q.role,
            search: q.q,
            sort,
            descending: q.desc.unwrap_or(false),
            ..AssetQuery::default()
        };
        let total = state.store.asset_count(&query)?;
        query.limit = Some(q.limit.unwrap_or(100).clamp(1, 1000));
        query.offset = q.offset.unwrap_or(0);
        let items = state
            .store
            .assets(&query)?
            .into_iter()
            .map(|a| api_asset(a, false))
            .collect();
        Ok(Page {
            total,
            offset: query.offset,
            items,
        })
    })
    .await?;
    Ok(Json(page))
}

/// One asset with its detail.
#[utoipa::path(get, path = "/api/v1/assets/{key}", params(("key" = String, Path, description = "`mac:…` or `ip:…`")), responses((status = 200, body = ApiAsset), (status = 404)))]
async fn asset(
    State(state): State<AppState>,
    _auth: ApiAuth,
    Path(key): Path<String>,
) -> Result<Json<ApiAsset>, ApiError> {
    let a = crate::blocking(move || state.store.asset(&key)?.ok_or(AppError::NotFound)).await?;
    Ok(Json(api_asset(a, true)))
}

/// Which alerts to list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertsQuery {
    /// Kind.
    pub kind: Option<String>,
    /// Severity.
    pub severity: Option<String>,
    /// `open`, `acknowledged` or `accepted`.
    pub status: Option<String>,
    /// Source or destination IP or MAC.
    pub host: Option<String>,
    /// Last seen at or after (`2026-11-22T07:00` UTC or ns).
    pub since: Option<String>,
    /// First seen before.
    pub until: Option<String>,
    /// At most (default 100, max 1000).
    pub limit: Option<u32>,
    /// Skip.
    pub offset: Option<u32>,
}

/// Alerts, newest first.
#[utoipa::path(get, path = "/api/v1/alerts", params(AlertsQuery), responses((status = 200, body = Page<ApiAlert>), (status = 400), (status = 401)))]
async fn alerts(
    State(state): State<AppState>,
    _auth: ApiAuth,
    Query(q): Query<AlertsQuery>,
) -> Result<Json<Page<ApiAlert>>, ApiError> {
    let status = match q.status.as_deref() {
        None | Some("") => None,
        Some(s) => Some(s.parse::<AlertStatus>().map_err(AppError::BadRequest)?),
    };
    let time = |t: &Option<String>| -> Result<Option<i64>, AppError> {
        match t.as_deref() {
            None | Some("") => Ok(None),
            Some(x) => util::parse_time(x)
                .map(Some)
                .ok_or_else(|| AppError::BadRequest(format!("{x:?} is not a time"))),
        }
    };
    let mut query = AlertQuery {
        kind: q.kind,
        severity: q.severity,
        status,
        host: q.host,
        since: time(&q.since)?,
        until: time(&q.until)?,
        ..AlertQuery::default()
    };
    let page = crate::blocking(move || {
        let total = state.store.alert_count(&query)?;
        query.limit = Some(q.limit.unwrap_or(100).clamp(1, 1000));
        query.offset = q.offset.unwrap_or(0);
        let items = state
            .store
            .alerts(&query)?
            .into_iter()
            .map(api_alert)
            .collect();
        Ok(Page {
            total,
            offset: query.offset,
            items,
        })
    })
    .await?;
    Ok(Json(page))
}

/// One alert.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", params(("id" = i64, Path)), responses((status = 200, body = ApiAlert), (status = 404)))]
async fn alert(
    State(state): State<AppState>,
    _auth: ApiAuth,
    Path(id): Path<i64>,
) -> Result<Json<ApiAlert>, ApiError> {
    let a = crate::blocking(move || state.store.alert(id)?.ok_or(AppError::NotFound)).await?;
    Ok(Json(api_alert(a)))
}

/// A status change.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct StatusChange {
    /// `open`, `acknowledged` or `accepted` (accepted also adds it to the baseline).
    pub status: String,
}

/// Changes an alert's status (operators).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/status", params(("id" = i64, Path)), request_body = StatusChange,
    responses((status = 200, body = ApiAlert), (status = 400), (status = 401), (status = 403), (status = 404), (status = 409, description = "the accept hook refused")))]
async fn alert_status(
    State(state): State<AppState>,
    auth: ApiAuth,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Json(body): Json<StatusChange>,
) -> Result<Response, ApiError> {
    auth.check_write(&headers, Role::Operator)?;
    let status: AlertStatus = body.status.parse().map_err(AppError::BadRequest)?;
    let by = auth.0.user.username.clone();
    let st = state.clone();
    let outcome =
        crate::blocking(move || crate::pages::alerts::change_status(&st, id, status, &by)).await?;
    if let Err(e) = outcome {
        return Ok((
            StatusCode::CONFLICT,
            Json(serde_json::json!({ "error": e })),
        )
            .into_response());
    }
    let a = crate::blocking(move || state.store.alert(id)?.ok_or(AppError::NotFound)).await?;
    Ok(Json(api_alert(a)).into_response())
}

/// Which flows.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FlowsQuery {
    /// Originator or responder address.
    pub host: Option<String>,
    /// Hours starting at or after.
    pub from: Option<String>,
    /// Hours starting before.
    pub to: Option<String>,
    /// At most (default 1000, max 10000).
    pub limit: Option<u32>,
}

/// An hourly flow row.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiFlow {
    /// Start of the hour (UTC text).
    pub hour: String,
    /// Start of the hour, ns.
    pub hour_ns: i64,
    /// Originator.
    pub orig_h: String,
    /// Responder.
    pub resp_h: String,
    /// IP protocol number.
    pub proto: u8,
    /// Responder port.
    pub resp_p: u16,
    /// Service.
    pub service: Option<String>,
    /// VLAN.
    pub vlan: Option<u16>,
    /// Connections.
    pub conns: u64,
    /// Packets both ways.
    pub pkts: u64,
    /// IP bytes both ways.
    pub bytes: u64,
}

/// Hourly flow rows.
#[utoipa::path(get, path = "/api/v1/flows", params(FlowsQuery), responses((status = 200, body = [ApiFlow]), (status = 400), (status = 401)))]
async fn flows(
    State(state): State<AppState>,
    _auth: ApiAuth,
    Query(q): Query<FlowsQuery>,
) -> Result<Json<Vec<ApiFlow>>, ApiError> {
    let host = match q.host.as_deref() {
        None | Some("") => None,
        Some(h) => Some(
            h.parse()
                .map_err(|_| AppError::BadRequest(format!("{h:?} is not an IP address")))?,
        ),
    };
    let filter = FlowFilter {
        from: q.from.as_deref().and_then(util::parse_time),
        to: q.to.as_deref().and_then(util::parse_time),
        host,
        limit: Some(q.limit.unwrap_or(1000).clamp(1, 10_000)),
    };
    let rows = crate::blocking(move || Ok(state.store.flow_hourly(&filter)?)).await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| ApiFlow {
                hour: iso(r.key.hour),
                hour_ns: r.key.hour,
                orig_h: r.key.orig_h.to_string(),
                resp_h: r.key.resp_h.to_string(),
                proto: r.key.proto,
                resp_p: r.key.resp_p,
                service: r.key.service,
                vlan: r.key.vlan,
                conns: r.sums.conns,
                pkts: r.sums.orig_pkts.saturating_add(r.sums.resp_pkts),
                bytes: r.sums.orig_ip_bytes.saturating_add(r.sums.resp_ip_bytes),
            })
            .collect(),
    ))
}

/// The two periods of a diff.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DiffQuery {
    /// Period A start (default: 48 h before the last data).
    pub a_from: Option<String>,
    /// Period A end.
    pub a_to: Option<String>,
    /// Period B start (default: 24 h before the last data).
    pub b_from: Option<String>,
    /// Period B end.
    pub b_to: Option<String>,
}

/// New, vanished and changed hosts and communications between two periods.
#[utoipa::path(get, path = "/api/v1/diff", params(DiffQuery), responses((status = 200, body = Diff), (status = 401)))]
async fn diff_api(
    State(state): State<AppState>,
    _auth: ApiAuth,
    Query(q): Query<DiffQuery>,
) -> Result<Json<Diff>, ApiError> {
    let p = DiffParams {
        a_from: q.a_from,
        a_to: q.a_to,
        b_from: q.b_from,
        b_to: q.b_to,
    };
    Ok(Json(
        crate::blocking(move || diff::compute(&state, &p)).await?,
    ))
}

/// A learned baseline (without its data).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiBaseline {
    /// Version.
    pub version: i64,
    /// Saved at (UTC text).
    pub created_at: String,
    /// Run that learned it.
    pub run: Option<i64>,
    /// Learning window start (UTC text).
    pub window_start: Option<String>,
    /// Learning window end.
    pub window_end: Option<String>,
    /// Why it was saved.
    pub note: String,
}

/// Baselines, newest first.
#[utoipa::path(get, path = "/api/v1/baselines", responses((status = 200, body = [ApiBaseline]), (status = 401)))]
async fn baselines(
    State(state): State<AppState>,
    _auth: ApiAuth,
) -> Result<Json<Vec<ApiBaseline>>, ApiError> {
    let rows = crate::blocking(move || Ok(state.store.baselines()?)).await?;
    Ok(Json(
        rows.into_iter()
            .map(|b| ApiBaseline {
                version: b.version,
                created_at: iso(b.created_at),
                run: b.run.map(|r| r.0),
                window_start: b.window_start.map(iso),
                window_end: b.window_end.map(iso),
                note: b.note,
            })
            .collect(),
    ))
}

/// `GET /api/openapi.json` (public: it describes, it does not reveal).
async fn openapi_json() -> Response {
    match ApiDoc::openapi().to_json() {
        Ok(text) => ([(header::CONTENT_TYPE, "application/json")], text).into_response(),
        Err(e) => ApiError(AppError::Internal(e.to_string())).into_response(),
    }
}

/// `GET /api/docs`: Swagger UI, vendored.
async fn docs() -> Html<&'static str> {
    Html(concat!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>mamori API</title>",
        "<link rel=\"stylesheet\" href=\"/api/docs/swagger-ui.css\"></head><body><div id=\"swagger-ui\"></div>",
        "<script src=\"/api/docs/swagger-ui-bundle.js\"></script><script src=\"/api/docs/init.js\"></script></body></html>"
    ))
}

/// The Swagger UI's files.
async fn docs_file(Path(file): Path<String>) -> Response {
    let found: Option<(&str, &[u8])> = match file.as_str() {
        "swagger-ui.css" => Some((
            "text/css; charset=utf-8",
            include_bytes!("../static/swagger/swagger-ui.css"),
        )),
        "swagger-ui-bundle.js" => Some((
            "text/javascript; charset=utf-8",
            include_bytes!("../static/swagger/swagger-ui-bundle.js"),
        )),
        "init.js" => Some((
            "text/javascript; charset=utf-8",
            include_bytes!("../static/swagger/init.js"),
        )),
        "LICENSE" => Some((
            "text/plain; charset=utf-8",
            include_bytes!("../static/swagger/LICENSE"),
        )),
        _ => None,
    };
    match found {
        Some((ctype, bytes)) => (
            [
                (header::CONTENT_TYPE, ctype),
                (header::CACHE_CONTROL, "public, max-age=86400"),
            ],
            bytes,
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
