//! Alerts: the filtered list, one alert with its evidence, and the workflow
//! (acknowledge, accept into the baseline, reopen) for operators.

use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use mamori_store::{AlertQuery, AlertRow, AlertStatus, Role, unix_nanos_now};
use maud::html;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::jsonview;
use crate::layout::{self, Ctx, notice, severity_badge, status_badge, time_cell};
use crate::pages::assets::flow_link;
use crate::pages::overview::SEVERITIES;
use crate::util::{self, fmt_count, url_encode};

/// The kinds DESIGN §3 names (more may come; the filter takes any text).
pub(crate) const KINDS: [&str; 13] = [
    "new_device",
    "new_comm",
    "eol_os",
    "volume_anomaly",
    "ot_command",
    "signature",
    "arp_spoof",
    "ip_conflict",
    "scan",
    "storm",
    "dns_suspicious",
    "internet_from_ot",
    "zone_violation",
];

/// The list's query.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AlertParams {
    kind: Option<String>,
    severity: Option<String>,
    status: Option<String>,
    host: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<String>,
    msg: Option<String>,
}

impl AlertParams {
    fn query(&self) -> AlertQuery {
        AlertQuery {
            kind: super::opt(&self.kind),
            severity: super::opt(&self.severity),
            status: super::opt(&self.status).and_then(|s| s.parse().ok()),
            host: super::opt(&self.host),
            since: super::opt(&self.from).and_then(|t| util::parse_time(&t)),
            until: super::opt(&self.to).and_then(|t| util::parse_time(&t)),
            ..AlertQuery::default()
        }
    }
}

/// `GET /alerts`.
pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Auth,
    lang: Lang,
    uri: Uri,
    Query(p): Query<AlertParams>,
) -> Result<Html<String>, AppError> {
    super::render(state, auth, lang, &uri, move |state, ctx| {
        let l = ctx.lang;
        let per = state.config.page_size;
        let mut q = p.query();
        let total = state.store.alert_count(&q)?;
        let page: u32 = p.page.as_deref().and_then(|x| x.parse().ok()).unwrap_or(0);
        let page = page.min(u32::try_from(total / u64::from(per.max(1))).unwrap_or(u32::MAX));
        q.limit = Some(per);
        q.offset = page.saturating_mul(per);
        let rows = state.store.alerts(&q)?;
        let back = ctx.url_with("msg", "");
        Ok(layout::page(ctx, &l.t("alerts-title"), html! {
            (message(l, p.msg.as_deref()))
            form.filters method="get" action="/alerts" {
                select name="kind" {
                    option value="" { (l.t("alerts-any-kind")) }
                    @for k in KINDS { option value=(k) selected[p.kind.as_deref() == Some(k)] { (k) } }
                }
                select name="severity" {
                    option value="" { (l.t("alerts-any-severity")) }
                    @for s in SEVERITIES { option value=(s) selected[p.severity.as_deref() == Some(s)] { (l.t(&format!("severity-{s}"))) } }
                }
                select name="status" {
                    option value="" { (l.t("alerts-any-status")) }
                    @for s in ["open", "acknowledged", "accepted"] { option value=(s) selected[p.status.as_deref() == Some(s)] { (l.t(&format!("status-{s}"))) } }
                }
                input name="host" value=(p.host.clone().unwrap_or_default()) placeholder=(l.t("alerts-host"));
                label.inline { (l.t("filter-from")) input type="datetime-local" name="from" value=(p.from.clone().unwrap_or_default()); }
                label.inline { (l.t("filter-to")) input type="datetime-local" name="to" value=(p.to.clone().unwrap_or_default()); }
                button type="submit" { (l.t("filter-apply")) }
            }
            table.list {
                thead { tr {
                    th { (l.t("alert-severity")) } th { (l.t("alert-kind")) } th { (l.t("alert-summary")) }
                    th { (l.t("alert-source")) } th { (l.t("alert-destination")) } th { (l.t("alert-protocol")) }
                    th.num { (l.t("alert-count")) } th { (l.t("alert-last-seen")) } th { (l.t("alert-status")) }
                    @if ctx.user.is_operator() { th { (l.t("alert-actions")) } }
                } }
                tbody {
                    @for a in &rows {
                        tr class=[(a.status == AlertStatus::Open).then_some("open")] {
                            td { (severity_badge(l, &a.severity)) }
                            td { a href={"/alerts?kind=" (url_encode(&a.kind))} { (a.kind) } }
                            td { a href={"/alerts/" (a.id)} { (a.summary) } @if a.learning { " " span.badge.learning { (l.t("alert-learning")) } } }
                            td { (host_link(a.src_ip.as_deref(), a.src_mac.as_deref())) }
                            td { (host_link(a.dst_ip.as_deref(), a.dst_mac.as_deref())) }
                            td { (a.protocol.as_deref().unwrap_or("")) }
                            td.num { (fmt_count(a.count)) }
                            td { (time_cell(a.last_seen)) }
                            td { (status_badge(l, a.status.as_str())) }
                            @if ctx.user.is_operator() { td.actions { (actions(ctx, a, &back)) } }
                        }
                    }
                }
            }
            @if rows.is_empty() { p.empty { (l.t("alerts-none")) } }
            (layout::pager(ctx, total, per, page))
        }))
    })
    .await
}

fn message(l: Lang, msg: Option<&str>) -> maud::Markup {
    match msg {
        Some("acknowledged") => notice("ok", &l.t("alert-done-acknowledged")),
        Some("accepted") => notice("ok", &l.t("alert-done-accepted")),
        Some("open") => notice("ok", &l.t("alert-done-open")),
        Some(m) if m.starts_with("hook:") => notice(
            "error",
            &format!("{}: {}", l.t("alert-accept-failed"), &m[5..]),
        ),
        _ => html! {},
    }
}

/// A host cell: the IP (filtering by it) or the MAC.
fn host_link(ip: Option<&str>, mac: Option<&str>) -> maud::Markup {
    match (ip, mac) {
        (Some(ip), _) => html! { a href={"/alerts?host=" (url_encode(ip))} { (ip) } },
        (None, Some(mac)) => html! { a.mono href={"/alerts?host=" (url_encode(mac))} { (mac) } },
        _ => html! {},
    }
}

/// The workflow buttons of an alert.
fn actions(ctx: &Ctx, a: &AlertRow, back: &str) -> maud::Markup {
    let l = ctx.lang;
    let button = |status: &str, key: &str, confirm: bool| {
        html! {
            form.inline method="post" action={"/alerts/" (a.id) "/status"} {
                (layout::csrf_input(ctx))
                input type="hidden" name="status" value=(status);
                input type="hidden" name="back" value=(back);
                button.small type="submit" data-confirm=[confirm.then(|| l.t("alert-accept-confirm"))] { (l.t(key)) }
            }
        }
    };
    html! {
        @if a.status == AlertStatus::Open { (button("acknowledged", "alert-acknowledge", false)) }
        @if a.status != AlertStatus::Accepted { (button("accepted", "alert-accept", true)) }
        @if a.status != AlertStatus::Open { (button("open", "alert-reopen", false)) }
    }
}

/// `GET /alerts/{id}`.
pub(crate) async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    lang: Lang,
    uri: Uri,
    Path(id): Path<i64>,
    Query(p): Query<AlertParams>,
) -> Result<Html<String>, AppError> {
    super::render(state, auth, lang, &uri, move |state, ctx| {
        let l = ctx.lang;
        let a = state.store.alert(id)?.ok_or(AppError::NotFound)?;
        let labels = state.labels.get(&*state.store)?;
        let uids = jsonview::uids(&a.evidence);
        let around = |host: &str| {
            format!(
                "/flows?host={}&from={}&to={}",
                url_encode(host),
                url_encode(&util::fmt_input(a.ts - 3_600 * util::SEC)),
                url_encode(&util::fmt_input(a.last_seen + 3_600 * util::SEC))
            )
        };
        let endpoint = |ip: Option<&str>, mac: Option<&str>| html! {
            @if let Some(ip) = ip {
                @if let Some(asset) = labels.of_ip(ip) { a href=(layout::asset_href(&asset.key)) { (labels.name_of_ip(ip)) } " " }
                code { (ip) } " " a.small href=(around(ip)) { (l.t("alert-flows-around")) }
            }
            @if let Some(mac) = mac { " " code { (mac) } }
        };
        let back = format!("/alerts/{}", a.id);
        let title = format!("#{} {}", a.id, a.summary);
        Ok(layout::page(ctx, &title, html! {
            p { a href="/alerts" { "← " (l.t("alerts-title")) } }
            (message(l, p.msg.as_deref()))
            div.grid2 {
                section.card {
                    h2 { (l.t("alert-facts")) }
                    table.kv {
                        tr { th { (l.t("alert-severity")) } td { (severity_badge(l, &a.severity)) } }
                        tr { th { (l.t("alert-kind")) } td { (a.kind) } }
                        tr { th { (l.t("alert-status")) } td { (status_badge(l, a.status.as_str())) @if let Some(by) = &a.status_by { " " (by) } @if let Some(t) = a.status_at { " " (time_cell(t)) } } }
                        tr { th { (l.t("alert-source")) } td { (endpoint(a.src_ip.as_deref(), a.src_mac.as_deref())) } }
                        tr { th { (l.t("alert-destination")) } td { (endpoint(a.dst_ip.as_deref(), a.dst_mac.as_deref())) } }
                        tr { th { (l.t("alert-protocol")) } td { (a.protocol.as_deref().unwrap_or("—")) } }
                        tr { th { (l.t("alert-first-seen")) } td { (time_cell(a.ts)) } }
                        tr { th { (l.t("alert-last-seen")) } td { (time_cell(a.last_seen)) } }
                        tr { th { (l.t("alert-count")) } td { (fmt_count(a.count)) } }
                        tr { th { "MITRE ATT&CK ICS" } td { (a.mitre_ics.as_deref().unwrap_or("—")) } }
                        tr { th { (l.t("alert-learning")) } td { (if a.learning { l.t("yes") } else { l.t("no") }) } }
                        tr { th { (l.t("alert-fingerprint")) } td { code.small { (a.fingerprint) } } }
                        tr { th { (l.t("asset-run")) } td { (a.run.map(|r| r.to_string()).unwrap_or_else(|| "—".into())) } }
                    }
                    @if ctx.user.is_operator() { div.actions { (actions(ctx, &a, &back)) } }
                }
                section.card {
                    h2 { (l.t("alert-evidence")) }
                    (jsonview::tree(&a.evidence, &flow_link))
                    @if !uids.is_empty() {
                        p { (l.t("alert-flow-uids")) ": "
                            @for u in &uids { a.uid href=(flow_link(u)) { (u) } " " }
                        }
                    }
                }
            }
        }))
    })
    .await
}

/// The status form.
#[derive(Deserialize)]
pub(crate) struct StatusForm {
    csrf: String,
    status: String,
    #[serde(default)]
    back: String,
}

/// Sets an alert's status as `by`, calling the accept hook first when it is
/// accepted. `Err(text)` when the hook refused.
pub(crate) fn change_status(
    state: &AppState,
    id: i64,
    status: AlertStatus,
    by: &str,
) -> Result<Result<(), String>, AppError> {
    let alert = state.store.alert(id)?.ok_or(AppError::NotFound)?;
    if status == AlertStatus::Accepted
        && alert.status != AlertStatus::Accepted
        && let Some(hook) = &state.accept
        && let Err(e) = hook(&alert)
    {
        return Ok(Err(e));
    }
    if !state
        .store
        .set_alert_status(id, status, by, unix_nanos_now())?
    {
        return Err(AppError::NotFound);
    }
    Ok(Ok(()))
}

/// `POST /alerts/{id}/status`.
pub(crate) async fn set_status(
    State(state): State<AppState>,
    Auth(cu): Auth,
    Path(id): Path<i64>,
    Form(form): Form<StatusForm>,
) -> Result<Response, AppError> {
    cu.require(Role::Operator)?;
    cu.check_csrf(&form.csrf)?;
    let status: AlertStatus = form.status.parse().map_err(AppError::BadRequest)?;
    let by = cu.user.username.clone();
    let outcome = crate::blocking(move || change_status(&state, id, status, &by)).await?;
    let back = if form.back.starts_with('/') && !form.back.starts_with("//") {
        form.back
    } else {
        "/alerts".into()
    };
    let msg = match outcome {
        Ok(()) => status.as_str().to_string(),
        Err(e) => format!("hook:{}", svg_safe(&e)),
    };
    let sep = if back.contains('?') { '&' } else { '?' };
    let mut res = Redirect::to(&format!("{back}{sep}msg={}", url_encode(&msg))).into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    Ok(res)
}

/// At most 200 characters of a hook's message.
fn svg_safe(s: &str) -> String {
    s.chars().take(200).collect()
}
