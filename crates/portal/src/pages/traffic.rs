//! Traffic from the hourly flow aggregates: bandwidth over time per service,
//! totals per service, rankings of hosts by bytes, peers and services, hours
//! that look like storms or loops; and the flow search that alert evidence
//! links to.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::Html;
use mamori_store::{AlertQuery, FlowEdge, FlowFilter, HOUR_NANOS};
use maud::html;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::labels::Labels;
use crate::layout::{self, asset_href, notice, severity_badge, time_cell};
use crate::pages::assets::{proto_name, service_label};
use crate::svg::{self, Bar, Series};
use crate::util::{self, fmt_bytes, fmt_count, url_encode};

/// A time range query.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RangeParams {
    from: Option<String>,
    to: Option<String>,
}

impl RangeParams {
    fn filter(&self) -> FlowFilter {
        FlowFilter {
            from: super::opt(&self.from).and_then(|t| util::parse_time(&t)),
            to: super::opt(&self.to).and_then(|t| util::parse_time(&t)),
            host: None,
            limit: None,
        }
    }
}

/// Series shown by name; the rest is "other".
const TOP_SERIES: usize = 7;
/// More slots than this are summed per day.
const MAX_SLOTS: i64 = 24 * 31;

/// A service's name on the charts.
fn svc_name(service: Option<&str>, proto: u8) -> String {
    service.map_or_else(|| proto_name(proto), String::from)
}

/// Slots whose total is far above the usual: more than four times the median
/// and above 1 MB.
pub(crate) fn storm_slots(totals: &[u64]) -> Vec<usize> {
    let mut sorted: Vec<u64> = totals.iter().copied().filter(|v| *v > 0).collect();
    if sorted.len() < 4 {
        return Vec::new();
    }
    sorted.sort_unstable();
    let median = sorted[sorted.len() / 2];
    totals
        .iter()
        .enumerate()
        .filter(|(_, v)| **v > median.saturating_mul(4) && **v > 1_000_000)
        .map(|(i, _)| i)
        .collect()
}

/// Per-host rankings from communications: bytes, distinct peers, services
/// served.
pub(crate) struct HostStats {
    pub bytes: u64,
    pub peers: BTreeSet<String>,
    pub served: BTreeSet<String>,
}

pub(crate) fn host_stats(edges: &[FlowEdge]) -> HashMap<String, HostStats> {
    let mut m: HashMap<String, HostStats> = HashMap::new();
    for e in edges {
        for (me, other, server) in [(&e.orig_h, &e.resp_h, false), (&e.resp_h, &e.orig_h, true)] {
            let h = m.entry(me.clone()).or_insert_with(|| HostStats {
                bytes: 0,
                peers: BTreeSet::new(),
                served: BTreeSet::new(),
            });
            h.bytes += e.bytes;
            h.peers.insert(other.clone());
            if server {
                h.served
                    .insert(service_label(e.service.as_deref(), e.proto, e.resp_p));
            }
        }
    }
    m
}

fn ranking(
    l: Lang,
    labels: &Labels,
    stats: &HashMap<String, HostStats>,
    key: &str,
    title: &str,
) -> maud::Markup {
    let mut rows: Vec<(&String, u64)> = stats
        .iter()
        .map(|(ip, s)| {
            (
                ip,
                match key {
                    "peers" => s.peers.len() as u64,
                    "services" => s.served.len() as u64,
                    _ => s.bytes,
                },
            )
        })
        .filter(|(_, v)| *v > 0)
        .collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let bars: Vec<Bar> = rows
        .iter()
        .take(12)
        .map(|(ip, v)| Bar {
            label: labels.name_of_ip(ip),
            value: *v,
            text: if key == "bytes" {
                fmt_bytes(*v)
            } else {
                fmt_count(*v)
            },
            colour: svg::colour(match key {
                "peers" => 1,
                "services" => 2,
                _ => 0,
            })
            .into(),
            href: labels.of_ip(ip).map(|a| asset_href(&a.key)),
        })
        .collect();
    html! {
        section.card {
            h2 { (title) }
            @if bars.is_empty() { p.empty { (l.t("traffic-none")) } } @else { (svg::hbars(&bars, 460.0)) }
        }
    }
}

/// `GET /traffic`.
pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    lang: Lang,
    uri: Uri,
    Query(p): Query<RangeParams>,
) -> Result<Html<String>, AppError> {
    super::render(state, auth, lang, &uri, move |state, ctx| {
        let l = ctx.lang;
        let store = &*state.store;
        let filter = p.filter();
        let buckets = state.flows.buckets(store, &filter)?;
        // Service totals decide the named series.
        let mut per_svc: HashMap<String, u64> = HashMap::new();
        for b in buckets.iter() {
            *per_svc.entry(svc_name(b.service.as_deref(), b.proto)).or_default() += b.bytes;
        }
        let mut svc_order: Vec<(String, u64)> = per_svc.into_iter().collect();
        svc_order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let (first, last) = (buckets.first().map(|b| b.hour), buckets.last().map(|b| b.hour));
        let (slot, slots): (i64, Vec<i64>) = match (first, last) {
            (Some(a), Some(b)) => {
                let width = if (b - a) / HOUR_NANOS > MAX_SLOTS { util::DAY } else { HOUR_NANOS };
                let start = a - a.rem_euclid(width);
                (width, (0..=((b - start) / width)).map(|i| start + i * width).collect())
            }
            _ => (HOUR_NANOS, Vec::new()),
        };
        let names: Vec<String> = svc_order.iter().take(TOP_SERIES).map(|(s, _)| s.clone()).collect();
        let mut values: Vec<Vec<u64>> = vec![vec![0; slots.len()]; names.len() + 1];
        let start = slots.first().copied().unwrap_or(0);
        for b in buckets.iter() {
            let i = usize::try_from((b.hour - start) / slot.max(1)).unwrap_or(0);
            let name = svc_name(b.service.as_deref(), b.proto);
            let s = names.iter().position(|n| *n == name).unwrap_or(names.len());
            if let Some(v) = values.get_mut(s).and_then(|v| v.get_mut(i)) {
                *v += b.bytes;
            }
        }
        let mut series: Vec<Series> = names.iter().enumerate().map(|(i, n)| Series { name: n.clone(), colour: svg::colour(i).into(), values: values[i].clone() }).collect();
        if values[names.len()].iter().any(|v| *v > 0) {
            series.push(Series { name: l.t("matrix-other"), colour: svg::OTHER.into(), values: values[names.len()].clone() });
        }
        let totals: Vec<u64> = (0..slots.len()).map(|i| series.iter().map(|s| s.values[i]).sum()).collect();
        let storms = storm_slots(&totals);
        let legend: Vec<(String, String, Option<u64>)> = series.iter().map(|s| (s.name.clone(), s.colour.clone(), None)).collect();
        let svc_bars: Vec<Bar> = svc_order.iter().take(15).enumerate().map(|(i, (s, b))| Bar {
            label: s.clone(), value: *b, text: fmt_bytes(*b), colour: svg::colour(i.min(TOP_SERIES)).into(), href: Some(format!("/map?service={}", url_encode(s))),
        }).collect();
        let edges = state.flows.edges(store, &filter)?;
        let stats = host_stats(&edges);
        let labels = state.labels.get(store)?;
        let storm_alerts = store.alerts(&AlertQuery { kind: Some("storm".into()), limit: Some(10), ..AlertQuery::default() })?;
        Ok(layout::page(ctx, &l.t("traffic-title"), html! {
            form.filters method="get" action="/traffic" {
                label.inline { (l.t("filter-from")) input type="datetime-local" name="from" value=(p.from.clone().unwrap_or_default()); }
                label.inline { (l.t("filter-to")) input type="datetime-local" name="to" value=(p.to.clone().unwrap_or_default()); }
                button type="submit" { (l.t("filter-apply")) }
            }
            section.card {
                h2 { (if slot == HOUR_NANOS { l.t("traffic-bandwidth-hourly") } else { l.t("traffic-bandwidth-daily") }) }
                (svg::stacked(&slots, &series, &storms, 1100.0, 280.0))
                (svg::legend(&legend))
            }
            @if !storms.is_empty() || !storm_alerts.is_empty() {
                section.card {
                    h2 { (l.t("traffic-storms")) }
                    p.small { (l.t("traffic-storms-help")) }
                    table {
                        tbody {
                            @for i in &storms {
                                tr.storm { td { (time_cell(slots[*i])) } td.num { (fmt_bytes(totals[*i])) } td { a href={"/flows?from=" (url_encode(&util::fmt_input(slots[*i]))) "&to=" (url_encode(&util::fmt_input(slots[*i] + slot)))} { (l.t("traffic-flows-then")) } } }
                            }
                            @for a in &storm_alerts {
                                tr { td { (time_cell(a.ts)) } td { (severity_badge(l, &a.severity)) } td { a href={"/alerts/" (a.id)} { (a.summary) } } }
                            }
                        }
                    }
                }
            }
            div.grid2 {
                section.card { h2 { (l.t("traffic-per-service")) } (svg::hbars(&svc_bars, 560.0)) }
                (ranking(l, &labels, &stats, "bytes", &l.t("traffic-top-bytes")))
            }
            div.grid2 {
                (ranking(l, &labels, &stats, "peers", &l.t("traffic-top-peers")))
                (ranking(l, &labels, &stats, "services", &l.t("traffic-top-services")))
            }
        }))
    })
    .await
}

/// The flow search's query.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct FlowParams {
    uid: Option<String>,
    host: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// Rows the flow search shows at most.
const FLOW_ROWS: u32 = 500;

/// `GET /flows`: hourly flow rows by host and time. Per-connection records
/// (by uid) are in `conn.jsonl`; the store keeps hourly sums, so a uid search
/// shows the note and the hosts' hours.
pub(crate) async fn flows(
    State(state): State<AppState>,
    auth: Auth,
    lang: Lang,
    uri: Uri,
    Query(p): Query<FlowParams>,
) -> Result<Html<String>, AppError> {
    super::render(state, auth, lang, &uri, move |state, ctx| {
        let l = ctx.lang;
        let host = super::opt(&p.host);
        let addr = host.as_deref().and_then(|h| h.parse().ok());
        let filter = FlowFilter {
            from: super::opt(&p.from).and_then(|t| util::parse_time(&t)),
            to: super::opt(&p.to).and_then(|t| util::parse_time(&t)),
            host: addr,
            limit: Some(FLOW_ROWS),
        };
        let searching = filter.from.is_some() || filter.to.is_some() || addr.is_some();
        let rows = if searching { state.store.flow_hourly(&filter)? } else { Vec::new() };
        let labels = state.labels.get(&*state.store)?;
        let mut by_hour: BTreeMap<i64, usize> = BTreeMap::new();
        for r in &rows {
            *by_hour.entry(r.key.hour).or_default() += 1;
        }
        Ok(layout::page(ctx, &l.t("flows-title"), html! {
            @if let Some(uid) = super::opt(&p.uid) {
                (notice("warn", &l.ta("flows-uid-note", &[("uid", uid.into())])))
            }
            @if host.is_some() && addr.is_none() { (notice("error", &l.t("flows-bad-host"))) }
            form.filters method="get" action="/flows" {
                @if let Some(uid) = &p.uid { input type="hidden" name="uid" value=(uid); }
                input name="host" value=(host.clone().unwrap_or_default()) placeholder=(l.t("alerts-host"));
                label.inline { (l.t("filter-from")) input type="datetime-local" name="from" value=(p.from.clone().unwrap_or_default()); }
                label.inline { (l.t("filter-to")) input type="datetime-local" name="to" value=(p.to.clone().unwrap_or_default()); }
                button type="submit" { (l.t("filter-apply")) }
            }
            @if searching {
                table.list {
                    thead { tr { th { (l.t("flows-hour")) } th { (l.t("flows-orig")) } th { (l.t("flows-resp")) } th { (l.t("traffic-service")) } th { "VLAN" } th.num { (l.t("traffic-conns")) } th.num { (l.t("flows-pkts")) } th.num { (l.t("traffic-bytes")) } } }
                    tbody {
                        @for r in &rows {
                            @let (o, d) = (r.key.orig_h.to_string(), r.key.resp_h.to_string());
                            tr {
                                td { (time_cell(r.key.hour)) }
                                td { a href={"/flows?host=" (url_encode(&o))} { (labels.name_of_ip(&o)) } @if labels.of_ip(&o).is_some() { " " span.small { (o) } } }
                                td { a href={"/flows?host=" (url_encode(&d))} { (labels.name_of_ip(&d)) } @if labels.of_ip(&d).is_some() { " " span.small { (d) } } }
                                td { (service_label(r.key.service.as_deref(), r.key.proto, r.key.resp_p)) }
                                td { (r.key.vlan.map(|v| v.to_string()).unwrap_or_default()) }
                                td.num { (fmt_count(r.sums.conns)) }
                                td.num { (fmt_count(r.sums.orig_pkts + r.sums.resp_pkts)) }
                                td.num { (fmt_bytes(r.sums.orig_ip_bytes + r.sums.resp_ip_bytes)) }
                            }
                        }
                    }
                }
                @if rows.is_empty() { p.empty { (l.t("traffic-none")) } }
                @if rows.len() as u32 >= FLOW_ROWS { p.small { (l.ta("flows-capped", &[("n", FLOW_ROWS.into())])) } }
            } @else {
                p.empty { (l.t("flows-help")) }
            }
        }))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storms_stand_out_from_the_median() {
        let mut v = vec![2_000_000u64; 24];
        v[5] = 50_000_000;
        assert_eq!(storm_slots(&v), vec![5]);
        assert!(storm_slots(&[1, 2, 3]).is_empty());
        assert!(
            storm_slots(&[10, 10, 10, 10, 100]).is_empty(),
            "small volumes are not storms"
        );
    }
}
