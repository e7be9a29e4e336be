//! The overview: counts, alerts by severity, newest assets, recent alerts,
//! a traffic sparkline and the latest runs.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::Uri;
use axum::response::Html;
use mamori_store::{AlertQuery, AlertStatus, AssetQuery, AssetSort, FlowFilter};
use maud::html;

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::layout::{self, asset_href, asset_name, severity_badge, time_cell};
use crate::svg::{self, Bar};
use crate::util::{fmt_bytes, fmt_count};

/// Severities from worst to least.
pub(crate) const SEVERITIES: [&str; 4] = ["critical", "high", "medium", "low"];

/// Their colours.
pub(crate) fn severity_colour(s: &str) -> &'static str {
    match s {
        "critical" => "#8e1b1b",
        "high" => "#e15759",
        "medium" => "#f28e2b",
        "low" => "#edc948",
        _ => svg::OTHER,
    }
}

/// `GET /`.
pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    lang: Lang,
    uri: Uri,
) -> Result<Html<String>, AppError> {
    super::render(state, auth, lang, &uri, |state, ctx| {
        let s = &*state.store;
        let l = ctx.lang;
        let assets = s.asset_count(&AssetQuery::default())?;
        let alerts_total = s.alert_count(&AlertQuery::default())?;
        let open_q = AlertQuery { status: Some(AlertStatus::Open), ..AlertQuery::default() };
        let alerts_open = s.alert_count(&open_q)?;
        let mut bars = Vec::new();
        for sev in SEVERITIES {
            let all = s.alert_count(&AlertQuery { severity: Some(sev.into()), ..AlertQuery::default() })?;
            let open = s.alert_count(&AlertQuery { severity: Some(sev.into()), ..open_q.clone() })?;
            bars.push(Bar {
                label: l.t(&format!("severity-{sev}")),
                value: all,
                text: l.ta("overview-open-of", &[("open", fmt_count(open).into()), ("all", fmt_count(all).into())]),
                colour: severity_colour(sev).into(),
                href: Some(format!("/alerts?severity={sev}")),
            });
        }
        let newest = s.assets(&AssetQuery { sort: AssetSort::FirstSeen, descending: true, limit: Some(8), ..AssetQuery::default() })?;
        let recent = s.alerts(&AlertQuery { limit: Some(8), ..AlertQuery::default() })?;
        let buckets = state.flows.buckets(s, &FlowFilter::default())?;
        let mut per_hour: BTreeMap<i64, u64> = BTreeMap::new();
        let (mut bytes, mut conns) = (0u64, 0u64);
        for b in buckets.iter() {
            *per_hour.entry(b.hour).or_default() += b.bytes;
            bytes = bytes.saturating_add(b.bytes);
            conns = conns.saturating_add(b.conns);
        }
        let span = per_hour.keys().next().copied().zip(per_hour.keys().next_back().map(|h| h + mamori_store::HOUR_NANOS));
        let series: Vec<u64> = per_hour.values().copied().collect();
        let series = &series[series.len().saturating_sub(24 * 14)..];
        let runs = s.runs()?;
        Ok(layout::page(ctx, &l.t("overview-title"), html! {
            div.cards {
                a.card.stat href="/assets" { span.n { (fmt_count(assets)) } span.k { (l.t("overview-assets")) } }
                a.card.stat href="/alerts?status=open" { span.n { (fmt_count(alerts_open)) } span.k { (l.t("overview-open-alerts")) } }
                a.card.stat href="/alerts" { span.n { (fmt_count(alerts_total)) } span.k { (l.t("overview-alerts")) } }
                a.card.stat href="/traffic" { span.n { (fmt_bytes(bytes)) } span.k { (l.ta("overview-traffic", &[("conns", fmt_count(conns).into())])) } }
            }
            div.grid2 {
                section.card {
                    h2 { (l.t("overview-by-severity")) }
                    (svg::hbars(&bars, 520.0))
                }
                section.card {
                    h2 { (l.t("overview-traffic-hourly")) }
                    (svg::sparkline(series, 520.0, 90.0, &l.t("overview-traffic-hourly")))
                    @if let Some((a, b)) = span {
                        p.small { (layout::time_cell(a)) " – " (layout::time_cell(b)) }
                    } @else {
                        p.small { (l.t("overview-no-traffic")) }
                    }
                }
            }
            div.grid2 {
                section.card {
                    h2 { (l.t("overview-newest-assets")) }
                    table {
                        thead { tr { th { (l.t("asset-name")) } th { (l.t("asset-vendor")) } th { (l.t("asset-role")) } th { (l.t("asset-first-seen")) } } }
                        tbody {
                            @for a in &newest {
                                tr {
                                    td { a href=(asset_href(&a.key)) { (asset_name(a.hostname.as_deref(), &a.ips, &a.key)) } }
                                    td { (a.vendor.as_deref().unwrap_or("")) }
                                    td { (l.t(&format!("role-{}", crate::pages::assets::role_key(&a.role)))) }
                                    td { (time_cell(a.first_seen)) }
                                }
                            }
                        }
                    }
                    @if newest.is_empty() { p.empty { (l.t("assets-none")) } }
                }
                section.card {
                    h2 { (l.t("overview-recent-alerts")) }
                    table {
                        thead { tr { th { (l.t("alert-severity")) } th { (l.t("alert-summary")) } th { (l.t("alert-last-seen")) } } }
                        tbody {
                            @for a in &recent {
                                tr {
                                    td { (severity_badge(l, &a.severity)) }
                                    td { a href={"/alerts/" (a.id)} { (a.summary) } }
                                    td { (time_cell(a.last_seen)) }
                                }
                            }
                        }
                    }
                    @if recent.is_empty() { p.empty { (l.t("alerts-none")) } }
                }
            }
            section.card {
                h2 { (l.t("overview-runs")) }
                table {
                    thead { tr { th { "#" } th { (l.t("run-command")) } th { (l.t("run-started")) } th { (l.t("run-inputs")) } th.num { (l.t("run-packets")) } th { (l.t("run-status")) } } }
                    tbody {
                        @for r in runs.iter().rev().take(5) {
                            tr {
                                td { (r.id) }
                                td { (r.command) }
                                td { (time_cell(r.started_at)) }
                                td.small { @for i in &r.inputs { (i.path) " " } }
                                td.num { (fmt_count(r.packets)) }
                                td { (r.status) }
                            }
                        }
                    }
                }
                @if runs.is_empty() { p.empty { (l.t("overview-no-runs")) } }
            }
        }))
    })
    .await
}
