//! The network map: who talks to whom, grouped by subnet or by the zones set
//! in the settings, edges coloured by protocol, with filters and SVG / PNG
//! download.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use axum::extract::{Query, State};
use axum::http::{Uri, header};
use axum::response::{Html, IntoResponse, Response};
use mamori_store::FlowFilter;
use maud::{Markup, html};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppError;
use crate::graph::{self, Node};
use crate::i18n::Lang;
use crate::layout::{self, asset_href};
use crate::pages::assets::{proto_name, role_key, role_label};
use crate::pages::settings::{Zone, zones};
use crate::svg::{self, OTHER};
use crate::util::{self, fmt_bytes};

/// The map's query.
#[derive(Debug, Default, Deserialize, Clone)]
pub(crate) struct MapParams {
    pub(crate) from: Option<String>,
    pub(crate) to: Option<String>,
    service: Option<String>,
    subnet: Option<String>,
    group: Option<String>,
    limit: Option<String>,
}

/// The map, its protocol legend (name, colour) and how many host pairs there were.
pub(crate) type MapParts = (Markup, Vec<(String, String)>, usize);

/// Bytes, connections and bytes per service between two hosts.
type PairSums = (u64, u64, BTreeMap<String, u64>);

/// Most edges drawn by default, and at most.
const DEFAULT_EDGES: u32 = 300;
const MAX_EDGES: u32 = 2_000;

/// Role colours on the map (fixed, so the legend is the same on every map).
fn role_colour(role: &str) -> &'static str {
    match role_key(role) {
        "plc" => "#e15759",
        "hmi" => "#f28e2b",
        "ews" => "#b07aa1",
        "scada_server" => "#4e79a7",
        "historian" => "#76b7b2",
        "it_host" => "#59a14f",
        "network_device" => "#9c755f",
        "iot" => "#edc948",
        _ => OTHER,
    }
}

/// The map as SVG (`standalone` adds the XML namespace and styles, for
/// download).
pub(crate) fn map_svg(
    state: &AppState,
    l: Lang,
    p: &MapParams,
    standalone: bool,
) -> Result<MapParts, AppError> {
    let store = &*state.store;
    let labels = state.labels.get(store)?;
    let limit = p
        .limit
        .as_deref()
        .and_then(|x| x.parse().ok())
        .unwrap_or(DEFAULT_EDGES)
        .clamp(1, MAX_EDGES);
    let filter = FlowFilter {
        from: super::opt(&p.from).and_then(|t| util::parse_time(&t)),
        to: super::opt(&p.to).and_then(|t| util::parse_time(&t)),
        host: None,
        limit: None,
    };
    let service = super::opt(&p.service);
    let subnet = super::opt(&p.subnet);
    let zone_list = if p.group.as_deref() == Some("zone") {
        zones(store)?
    } else {
        Vec::new()
    };
    // Sum per host pair; remember the service with most bytes.
    let mut pairs: BTreeMap<(String, String), PairSums> = BTreeMap::new();
    for e in state.flows.edges(store, &filter)?.iter() {
        let svc = e
            .service
            .clone()
            .unwrap_or_else(|| format!("{}/{}", proto_name(e.proto), e.resp_p));
        if service
            .as_deref()
            .is_some_and(|s| !svc.split(',').any(|x| x == s))
        {
            continue;
        }
        if let Some(sn) = &subnet
            && !e.orig_h.starts_with(sn.as_str())
            && !e.resp_h.starts_with(sn.as_str())
        {
            continue;
        }
        let key = if e.orig_h <= e.resp_h {
            (e.orig_h.clone(), e.resp_h.clone())
        } else {
            (e.resp_h.clone(), e.orig_h.clone())
        };
        let entry = pairs.entry(key).or_default();
        entry.0 += e.bytes;
        entry.1 += e.conns;
        *entry.2.entry(svc).or_default() += e.bytes;
    }
    let mut pairs: Vec<_> = pairs.into_iter().collect();
    pairs.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    let total_pairs = pairs.len();
    pairs.truncate(limit as usize);
    // Service colours by total bytes.
    let mut svc_bytes: HashMap<String, u64> = HashMap::new();
    for (_, (_, _, by)) in &pairs {
        for (s, b) in by {
            *svc_bytes.entry(s.clone()).or_default() += b;
        }
    }
    let mut svc_order: Vec<(String, u64)> = svc_bytes.into_iter().collect();
    svc_order.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let svc_colour: HashMap<String, &'static str> = svc_order
        .iter()
        .enumerate()
        .map(|(i, (s, _))| {
            (
                s.clone(),
                if i < svg::PALETTE.len() - 1 {
                    svg::colour(i)
                } else {
                    OTHER
                },
            )
        })
        .collect();
    // Nodes.
    let mut index: BTreeMap<String, usize> = BTreeMap::new();
    let mut nodes: Vec<Node> = Vec::new();
    let mut edges_idx = Vec::with_capacity(pairs.len());
    for ((a, b), _) in &pairs {
        let mut id = |ip: &String| -> usize {
            if let Some(&i) = index.get(ip) {
                return i;
            }
            let group = group_of(ip, &zone_list);
            nodes.push(Node {
                id: ip.clone(),
                group,
            });
            index.insert(ip.clone(), nodes.len() - 1);
            nodes.len() - 1
        };
        let (ia, ib) = (id(a), id(b));
        edges_idx.push((ia, ib));
    }
    let lay = graph::layout(&nodes, &edges_idx, 1400.0);
    // Label every node of a small map; on a big one only the hubs (the rest
    // name themselves on hover), so that names do not pile up.
    let mut degree = vec![0usize; nodes.len()];
    for &(a, b) in &edges_idx {
        degree[a] += 1;
        degree[b] += 1;
    }
    let label_all = nodes.len() <= 60;
    let max_bytes = pairs.first().map_or(1, |p| p.1.0.max(1)) as f64;
    let legend: Vec<(String, String)> = svc_order
        .iter()
        .take(svg::PALETTE.len())
        .map(|(s, _)| {
            (
                s.clone(),
                svc_colour.get(s).copied().unwrap_or(OTHER).to_string(),
            )
        })
        .collect();
    let (w, h) = (lay.width, lay.height.max(200.0));
    let markup = html! {
        svg.map id="map" xmlns=[standalone.then_some("http://www.w3.org/2000/svg")] viewBox={"0 0 " (w) " " (h)} width=(w) height=(h) role="img" aria-label=(l.t("map-title")) {
            @if standalone {
                style { "text{font-family:'Noto Sans','Noto Sans CJK JP',sans-serif}.lbl{font-size:10px;fill:#1d2433}.grp{font-size:12px;fill:#5f6b7a;font-weight:600}" }
                rect width=(w) height=(h) fill="#ffffff" {}
            }
            @for g in &lay.groups {
                circle cx=(f1(g.x)) cy=(f1(g.y)) r=(f1(g.r)) fill="#f3f6fa" stroke="#c9d3df" {}
                text.grp x=(f1(g.x)) y=(f1(g.y - g.r - 3.0)) text-anchor="middle" font-size="12" fill="#5f6b7a" { (g.name) }
            }
            @for (k, ((a, b), (bytes, conns, by))) in pairs.iter().enumerate() {
                @if let Some(&(ia, ib)) = edges_idx.get(k) {
                    @let (x1, y1) = lay.pos[ia];
                    @let (x2, y2) = lay.pos[ib];
                    @let top = by.iter().max_by_key(|(_, b)| **b).map(|(s, _)| s.clone()).unwrap_or_default();
                    @let width = 0.8 + 3.2 * ((*bytes as f64).ln_1p() / max_bytes.ln_1p());
                    line x1=(f1(x1)) y1=(f1(y1)) x2=(f1(x2)) y2=(f1(y2)) stroke=(svc_colour.get(&top).copied().unwrap_or(OTHER)) stroke-width=(f1(width)) stroke-opacity="0.75" {
                        title { (labels.name_of_ip(a)) " ⇄ " (labels.name_of_ip(b)) "\n" (by.keys().cloned().collect::<Vec<_>>().join(", ")) "\n" (fmt_bytes(*bytes)) ", " (conns) " conns" }
                    }
                }
            }
            @for (i, n) in nodes.iter().enumerate() {
                @let (x, y) = lay.pos[i];
                @let asset = labels.of_ip(&n.id);
                @let role = asset.map_or("unknown", |a| a.role.as_str());
                @let name = labels.name_of_ip(&n.id);
                @let dot = html! {
                    circle cx=(f1(x)) cy=(f1(y)) r=(if degree[i] >= 3 { "8" } else { "5" }) fill=(role_colour(role)) stroke="#ffffff" stroke-width="1.5" {
                        title { (name) "\n" (n.id) "\n" (role_label(l, role)) @if let Some(a) = asset { "\n" (a.vendor.as_deref().unwrap_or("")) } }
                    }
                    @if label_all || degree[i] >= 3 {
                        text.lbl x=(f1(x)) y=(f1(y + 18.0)) text-anchor="middle" font-size="10" fill="#1d2433" { (svg::truncate(&name, 16)) }
                    }
                };
                @if let (Some(a), false) = (asset, standalone) { a href=(asset_href(&a.key)) { (dot) } } @else { (dot) }
            }
        }
    };
    Ok((markup, legend, total_pairs))
}

fn f1(v: f64) -> String {
    format!("{v:.1}")
}

/// A node's group: its zone (first match) or its subnet.
fn group_of(ip: &str, zones: &[Zone]) -> String {
    if let Ok(addr) = ip.parse::<IpAddr>() {
        for z in zones {
            if z.contains(addr) {
                return z.name.clone();
            }
        }
    }
    graph::subnet_of(ip)
}

/// `GET /map`.
pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    lang: Lang,
    uri: Uri,
    Query(p): Query<MapParams>,
) -> Result<Html<String>, AppError> {
    super::render(state, auth, lang, &uri, move |state, ctx| {
        let l = ctx.lang;
        let (svg_markup, legend, total) = map_svg(state, l, &p, false)?;
        let roles = ["plc", "hmi", "ews", "scada_server", "historian", "it_host", "network_device", "iot", "unknown"];
        let role_legend: Vec<(String, String, Option<u64>)> = roles.iter().map(|r| (role_label(l, r), role_colour(r).to_string(), None)).collect();
        let svc_legend: Vec<(String, String, Option<u64>)> = legend.iter().map(|(s, c)| (s.clone(), c.clone(), None)).collect();
        let download = format!("/map.svg{}", if ctx.query.is_empty() { String::new() } else { format!("?{}", ctx.query) });
        Ok(layout::page(ctx, &l.t("map-title"), html! {
            form.filters method="get" action="/map" {
                label.inline { (l.t("filter-from")) input type="datetime-local" name="from" value=(p.from.clone().unwrap_or_default()); }
                label.inline { (l.t("filter-to")) input type="datetime-local" name="to" value=(p.to.clone().unwrap_or_default()); }
                input name="service" value=(p.service.clone().unwrap_or_default()) placeholder=(l.t("map-service")) size="10";
                input name="subnet" value=(p.subnet.clone().unwrap_or_default()) placeholder=(l.t("map-subnet")) size="12";
                select name="group" {
                    option value="subnet" { (l.t("map-group-subnet")) }
                    option value="zone" selected[p.group.as_deref() == Some("zone")] { (l.t("map-group-zone")) }
                }
                input type="number" name="limit" min="1" max=(MAX_EDGES) value=(p.limit.clone().unwrap_or_else(|| DEFAULT_EDGES.to_string())) title=(l.t("map-limit"));
                button type="submit" { (l.t("filter-apply")) }
                a.button.secondary href=(download) download="mamori-map.svg" { (l.t("map-download-svg")) }
                a.button.secondary href="#" data-png-of="map" data-name="mamori-map.png" { (l.t("map-download-png")) }
            }
            p.small { (l.ta("map-showing", &[("shown", total.min(p.limit.as_deref().and_then(|x| x.parse().ok()).unwrap_or(DEFAULT_EDGES as usize)).into()), ("total", total.into())])) }
            div.card { (svg_markup) }
            div.grid2 {
                div.card { h2 { (l.t("map-legend-roles")) } (svg::legend(&role_legend)) }
                div.card { h2 { (l.t("map-legend-services")) } (svg::legend(&svc_legend)) }
            }
        }))
    })
    .await
}

/// `GET /map.svg`: the map alone, as a file.
pub(crate) async fn download(
    State(state): State<AppState>,
    _auth: Auth,
    lang: Lang,
    Query(p): Query<MapParams>,
) -> Result<Response, AppError> {
    let svg_text = crate::blocking(move || {
        let (m, _, _) = map_svg(&state, lang, &p, true)?;
        Ok(format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{}",
            m.into_string()
        ))
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"mamori-map.svg\"",
            ),
        ],
        svg_text,
    )
        .into_response())
}
