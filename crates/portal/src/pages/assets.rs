//! The asset list (sort, filter, page, CSV export) and an asset's own page.

use std::collections::BTreeMap;

use axum::extract::{Path, Query, State};
use axum::http::{Uri, header};
use axum::response::{Html, IntoResponse, Response};
use mamori_store::{AlertQuery, AssetQuery, AssetRow, AssetSort, FlowFilter};
use maud::html;
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::jsonview;
use crate::layout::{
    self, Ctx, asset_href, asset_name, severity_badge, sort_th, status_badge, time_cell,
};
use crate::util::{fmt_bytes, fmt_count, url_encode};

/// The roles DESIGN §3 names.
pub(crate) const ROLES: [&str; 9] = [
    "plc",
    "hmi",
    "ews",
    "scada_server",
    "historian",
    "it_host",
    "network_device",
    "iot",
    "unknown",
];

/// The message suffix of a role (`role-<this>`); roles we do not know show as
/// `unknown`.
pub(crate) fn role_key(role: &str) -> &str {
    ROLES
        .iter()
        .find(|r| **r == role)
        .copied()
        .unwrap_or("unknown")
}

/// A role's name in `l`, keeping the raw name of a role we do not know.
pub(crate) fn role_label(l: Lang, role: &str) -> String {
    if ROLES.contains(&role) {
        l.t(&format!("role-{role}"))
    } else {
        role.to_string()
    }
}

/// The list's query.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AssetParams {
    q: Option<String>,
    role: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    page: Option<String>,
}

fn sort_of(s: &str) -> AssetSort {
    match s {
        "ip" => AssetSort::Ip,
        "vendor" => AssetSort::Vendor,
        "hostname" => AssetSort::Hostname,
        "role" => AssetSort::Role,
        "os" => AssetSort::Os,
        "first_seen" => AssetSort::FirstSeen,
        "last_seen" => AssetSort::LastSeen,
        "bytes" => AssetSort::Bytes,
        _ => AssetSort::Key,
    }
}

impl AssetParams {
    fn query(&self) -> AssetQuery {
        AssetQuery {
            role: super::opt(&self.role),
            search: super::opt(&self.q),
            sort: sort_of(self.sort.as_deref().unwrap_or("")),
            descending: self.dir.as_deref() == Some("desc"),
            ..AssetQuery::default()
        }
    }

    fn page(&self) -> u32 {
        self.page
            .as_deref()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    }
}

/// `GET /assets`.
pub(crate) async fn list(
    State(state): State<AppState>,
    auth: Auth,
    lang: Lang,
    uri: Uri,
    Query(p): Query<AssetParams>,
) -> Result<Html<String>, AppError> {
    super::render(state, auth, lang, &uri, move |state, ctx| {
        let l = ctx.lang;
        let per = state.config.page_size;
        let mut q = p.query();
        let total = state.store.asset_count(&q)?;
        let page = p.page().min(u32::try_from(total / u64::from(per.max(1))).unwrap_or(u32::MAX));
        q.limit = Some(per);
        q.offset = page.saturating_mul(per);
        let rows = state.store.assets(&q)?;
        let sort = p.sort.clone().unwrap_or_else(|| "key".into());
        let desc = q.descending;
        let csv = format!("/assets.csv{}", if ctx.query.is_empty() { String::new() } else { format!("?{}", ctx.query) });
        Ok(layout::page(ctx, &l.t("assets-title"), html! {
            form.filters method="get" action="/assets" {
                input type="search" name="q" value=(p.q.clone().unwrap_or_default()) placeholder=(l.t("assets-search"));
                select name="role" {
                    option value="" { (l.t("assets-any-role")) }
                    @for r in ROLES {
                        option value=(r) selected[p.role.as_deref() == Some(r)] { (l.t(&format!("role-{r}"))) }
                    }
                }
                @if let Some(s) = &p.sort { input type="hidden" name="sort" value=(s); }
                @if let Some(d) = &p.dir { input type="hidden" name="dir" value=(d); }
                button type="submit" { (l.t("filter-apply")) }
                a.button href=(csv) download="assets.csv" { (l.t("assets-csv")) }
            }
            table.list {
                thead { tr {
                    (sort_th(ctx, &l.t("asset-name"), "hostname", &sort, desc))
                    (sort_th(ctx, &l.t("asset-ips"), "ip", &sort, desc))
                    (sort_th(ctx, &l.t("asset-mac"), "key", &sort, desc))
                    (sort_th(ctx, &l.t("asset-vendor"), "vendor", &sort, desc))
                    (sort_th(ctx, &l.t("asset-os"), "os", &sort, desc))
                    (sort_th(ctx, &l.t("asset-role"), "role", &sort, desc))
                    (sort_th(ctx, &l.t("asset-first-seen"), "first_seen", &sort, desc))
                    (sort_th(ctx, &l.t("asset-last-seen"), "last_seen", &sort, desc))
                    (sort_th(ctx, &l.t("asset-bytes"), "bytes", &sort, desc))
                } }
                tbody {
                    @for a in &rows {
                        tr {
                            td { a href=(asset_href(&a.key)) { (asset_name(a.hostname.as_deref(), &a.ips, &a.key)) } }
                            td { (a.ips.join(", ")) }
                            td.mono { (a.mac.as_deref().unwrap_or("")) }
                            td { (a.vendor.as_deref().unwrap_or("")) }
                            td {
                                (a.os.as_deref().unwrap_or(""))
                                @if let Some(eol) = &a.os_eol { " " span.badge.eol title=(l.t("asset-os-eol")) { "EOL " (eol) } }
                            }
                            td { (role_label(l, &a.role)) }
                            td { (time_cell(a.first_seen)) }
                            td { (time_cell(a.last_seen)) }
                            td.num { (fmt_bytes(a.bytes)) }
                        }
                    }
                }
            }
            @if rows.is_empty() { p.empty { (l.t("assets-none")) } }
            (layout::pager(ctx, total, per, page))
        }))
    })
    .await
}

/// A CSV field: quoted when needed, and with a leading `'` when a spreadsheet
/// would read it as a formula.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// The CSV export of the assets the list's filter selects (all pages).
pub(crate) fn csv_text(l: Lang, rows: &[AssetRow]) -> String {
    let mut out = String::from("\u{feff}");
    let head = [
        "asset-key",
        "asset-name",
        "asset-mac",
        "asset-ips",
        "asset-vendor",
        "asset-hostname",
        "asset-os",
        "asset-os-eol",
        "asset-role",
        "asset-model",
        "asset-firmware",
        "asset-first-seen",
        "asset-last-seen",
        "asset-pkts",
        "asset-bytes",
    ];
    let head: Vec<String> = head.iter().map(|k| csv_field(&l.t(k))).collect();
    out.push_str(&head.join(","));
    out.push_str("\r\n");
    for a in rows {
        let f = [
            a.key.clone(),
            asset_name(a.hostname.as_deref(), &a.ips, &a.key),
            a.mac.clone().unwrap_or_default(),
            a.ips.join(" "),
            a.vendor.clone().unwrap_or_default(),
            a.hostname.clone().unwrap_or_default(),
            a.os.clone().unwrap_or_default(),
            a.os_eol.clone().unwrap_or_default(),
            role_label(l, &a.role),
            a.model.clone().unwrap_or_default(),
            a.firmware.clone().unwrap_or_default(),
            crate::util::fmt_time_secs(a.first_seen),
            crate::util::fmt_time_secs(a.last_seen),
            a.pkts.to_string(),
            a.bytes.to_string(),
        ];
        let f: Vec<String> = f.iter().map(|s| csv_field(s)).collect();
        out.push_str(&f.join(","));
        out.push_str("\r\n");
    }
    out
}

/// `GET /assets.csv`.
pub(crate) async fn csv(
    State(state): State<AppState>,
    _auth: Auth,
    lang: Lang,
    Query(p): Query<AssetParams>,
) -> Result<Response, AppError> {
    let text = crate::blocking(move || {
        let rows = state.store.assets(&p.query())?;
        Ok(csv_text(lang, &rows))
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"mamori-assets.csv\"",
            ),
        ],
        text,
    )
        .into_response())
}

/// The flow search link of a uid.
pub(crate) fn flow_link(uid: &str) -> String {
    format!("/flows?uid={}", url_encode(uid))
}

/// A peer of an asset, summed over services.
#[derive(Default)]
struct Peer {
    bytes: u64,
    conns: u64,
    services: std::collections::BTreeSet<String>,
    as_client: bool,
    as_server: bool,
}

/// A service label: the identified service or `proto/port`.
pub(crate) fn service_label(service: Option<&str>, proto: u8, port: u16) -> String {
    match service {
        Some(s) => format!("{s} ({}/{port})", proto_name(proto)),
        None => format!("{}/{port}", proto_name(proto)),
    }
}

/// `tcp`, `udp`, `icmp`, ... or the number.
pub(crate) fn proto_name(p: u8) -> String {
    match p {
        6 => "tcp".into(),
        17 => "udp".into(),
        1 => "icmp".into(),
        58 => "icmp6".into(),
        n => n.to_string(),
    }
}

/// `GET /assets/{key}`.
pub(crate) async fn detail(
    State(state): State<AppState>,
    auth: Auth,
    lang: Lang,
    uri: Uri,
    Path(key): Path<String>,
) -> Result<Html<String>, AppError> {
    super::render(state, auth, lang, &uri, move |state, ctx| {
        let s = &*state.store;
        let a = s.asset(&key)?.ok_or(AppError::NotFound)?;
        detail_page(state, ctx, &a)
    })
    .await
}

fn detail_page(state: &AppState, ctx: &Ctx, a: &AssetRow) -> Result<maud::Markup, AppError> {
    let l = ctx.lang;
    let s = &*state.store;
    let labels = state.labels.get(s)?;
    // Services and peers from the hourly flows of each address.
    let mut served: BTreeMap<String, (u64, u64, std::collections::BTreeSet<String>)> =
        BTreeMap::new();
    let mut used: BTreeMap<String, (u64, u64, std::collections::BTreeSet<String>)> =
        BTreeMap::new();
    let mut peers: BTreeMap<String, Peer> = BTreeMap::new();
    for ip in a.ips.iter().take(8) {
        let Ok(addr) = ip.parse() else { continue };
        let edges = s.flow_edges(&FlowFilter {
            host: Some(addr),
            limit: Some(2_000),
            ..FlowFilter::default()
        })?;
        for e in edges {
            let svc = service_label(e.service.as_deref(), e.proto, e.resp_p);
            let (peer, map, server) = if &e.resp_h == ip {
                (e.orig_h.clone(), &mut served, true)
            } else {
                (e.resp_h.clone(), &mut used, false)
            };
            let entry = map.entry(svc.clone()).or_default();
            entry.0 += e.bytes;
            entry.1 += e.conns;
            entry.2.insert(peer.clone());
            let p = peers.entry(peer).or_default();
            p.bytes += e.bytes;
            p.conns += e.conns;
            p.services.insert(svc);
            if server {
                p.as_server = true
            } else {
                p.as_client = true
            }
        }
    }
    let mut peers: Vec<(String, Peer)> = peers.into_iter().collect();
    peers.sort_by_key(|p| std::cmp::Reverse(p.1.bytes));
    // Alerts naming the MAC or an address.
    let mut alerts = Vec::new();
    let hosts: Vec<String> = a
        .mac
        .iter()
        .cloned()
        .chain(a.ips.iter().take(4).cloned())
        .collect();
    for h in hosts {
        alerts.extend(s.alerts(&AlertQuery {
            host: Some(h),
            limit: Some(50),
            ..AlertQuery::default()
        })?);
    }
    alerts.sort_by(|x, y| y.ts.cmp(&x.ts).then(y.id.cmp(&x.id)));
    alerts.dedup_by_key(|x| x.id);
    let name = asset_name(a.hostname.as_deref(), &a.ips, &a.key);
    let behind = a.behind.as_deref();
    let fields: Vec<(String, maud::Markup)> = vec![
        (l.t("asset-key"), html! { code { (a.key) } }),
        (
            l.t("asset-mac"),
            html! { (a.mac.as_deref().unwrap_or("—")) },
        ),
        (l.t("asset-ips"), html! { (a.ips.join(", ")) }),
        (
            l.t("asset-vendor"),
            html! { (a.vendor.as_deref().unwrap_or("—")) },
        ),
        (
            l.t("asset-hostname"),
            html! { (a.hostname.as_deref().unwrap_or("—")) },
        ),
        (
            l.t("asset-os"),
            html! { (a.os.as_deref().unwrap_or("—")) @if let Some(e) = &a.os_eol { " " span.badge.eol { "EOL " (e) } } },
        ),
        (l.t("asset-role"), html! { (role_label(l, &a.role)) }),
        (
            l.t("asset-model"),
            html! { (a.model.as_deref().unwrap_or("—")) },
        ),
        (
            l.t("asset-firmware"),
            html! { (a.firmware.as_deref().unwrap_or("—")) },
        ),
        (
            l.t("asset-behind"),
            html! { @if let Some(b) = behind { a href=(asset_href(b)) { (b) } } @else { "—" } },
        ),
        (l.t("asset-first-seen"), time_cell(a.first_seen)),
        (l.t("asset-last-seen"), time_cell(a.last_seen)),
        (l.t("asset-pkts"), html! { (fmt_count(a.pkts)) }),
        (l.t("asset-bytes"), html! { (fmt_bytes(a.bytes)) }),
        (
            l.t("asset-run"),
            html! { (a.updated_run.map(|r| r.to_string()).unwrap_or_else(|| "—".into())) },
        ),
    ];
    let svc_table = |map: &BTreeMap<String, (u64, u64, std::collections::BTreeSet<String>)>| {
        html! {
            table {
                thead { tr { th { (l.t("traffic-service")) } th.num { (l.t("traffic-peers")) } th.num { (l.t("traffic-conns")) } th.num { (l.t("traffic-bytes")) } } }
                tbody {
                    @for (svc, (bytes, conns, peers)) in map {
                        tr { td { (svc) } td.num { (peers.len()) } td.num { (fmt_count(*conns)) } td.num { (fmt_bytes(*bytes)) } }
                    }
                }
            }
            @if map.is_empty() { p.empty { "—" } }
        }
    };
    Ok(layout::page(
        ctx,
        &name,
        html! {
            p { a href="/assets" { "← " (l.t("assets-title")) } }
            div.grid2 {
                section.card {
                    h2 { (l.t("asset-attributes")) }
                    table.kv { @for (k, v) in &fields { tr { th { (k) } td { (v) } } } }
                }
                section.card {
                    h2 { (l.t("asset-detail")) }
                    p.small { (l.t("asset-detail-help")) }
                    (jsonview::tree(&a.detail, &flow_link))
                }
            }
            div.grid2 {
                section.card { h2 { (l.t("asset-served")) } (svc_table(&served)) }
                section.card { h2 { (l.t("asset-used")) } (svc_table(&used)) }
            }
            section.card {
                h2 { (l.t("asset-peers")) " (" (peers.len()) ")" }
                table {
                    thead { tr { th { (l.t("asset-name")) } th { (l.t("asset-ips")) } th { (l.t("asset-direction")) } th { (l.t("traffic-service")) } th.num { (l.t("traffic-conns")) } th.num { (l.t("traffic-bytes")) } } }
                    tbody {
                        @for (ip, p) in peers.iter().take(200) {
                            tr {
                                td { @if let Some(pa) = labels.of_ip(ip) { a href=(asset_href(&pa.key)) { (labels.name_of_ip(ip)) } } @else { (ip) } }
                                td { a href={"/flows?host=" (url_encode(ip))} { (ip) } }
                                td { (match (p.as_client, p.as_server) { (true, true) => "⇄", (true, false) => "→", _ => "←" }) }
                                td.small { (p.services.iter().cloned().collect::<Vec<_>>().join(", ")) }
                                td.num { (fmt_count(p.conns)) }
                                td.num { (fmt_bytes(p.bytes)) }
                            }
                        }
                    }
                }
                @if peers.is_empty() { p.empty { (l.t("asset-no-peers")) } }
            }
            section.card {
                h2 { (l.t("asset-alerts")) " (" (alerts.len()) ")" }
                table {
                    thead { tr { th { (l.t("alert-severity")) } th { (l.t("alert-kind")) } th { (l.t("alert-summary")) } th { (l.t("alert-status")) } th { (l.t("alert-last-seen")) } } }
                    tbody {
                        @for al in &alerts {
                            tr {
                                td { (severity_badge(l, &al.severity)) }
                                td { (al.kind) }
                                td { a href={"/alerts/" (al.id)} { (al.summary) } }
                                td { (status_badge(l, al.status.as_str())) }
                                td { (time_cell(al.last_seen)) }
                            }
                        }
                    }
                }
                @if alerts.is_empty() { p.empty { (l.t("alerts-none")) } }
            }
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
        assert_eq!(csv_field("-1"), "'-1");
    }
}
