//! The diff of two periods: assets and communications that are new, that
//! vanished or that changed between period A and period B.
//!
//! Communications are keyed by originator, responder, protocol, port and
//! service, summed over each period from `flow_hourly`; one whose bytes grew or
//! shrank by [`CHANGE_FACTOR`] or more counts as changed. An address is present
//! in a period when it took part in a communication then; an asset whose
//! `first_seen` falls in B is new even if it sent nothing. A present address
//! whose set of services (served or used) differs between the periods, or whose
//! bytes changed by the factor, counts as a changed asset.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::Html;
use mamori_store::{AssetQuery, AssetSort, FlowEdge, FlowFilter};
use maud::html;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::layout::{self, asset_href};
use crate::pages::assets::service_label;
use crate::util::{self, fmt_bytes};

/// Bytes that grow or shrink by this factor make a change.
pub(crate) const CHANGE_FACTOR: f64 = 3.0;

/// The two periods.
#[derive(Debug, Default, Deserialize, Clone)]
pub(crate) struct DiffParams {
    /// Period A start (`2026-11-22T00:00` or ns).
    pub a_from: Option<String>,
    /// Period A end.
    pub a_to: Option<String>,
    /// Period B start.
    pub b_from: Option<String>,
    /// Period B end.
    pub b_to: Option<String>,
}

/// One communication in a diff.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct CommDiff {
    /// Originator address.
    pub orig_h: String,
    /// Responder address.
    pub resp_h: String,
    /// Service (or protocol/port).
    pub service: String,
    /// Bytes in period A.
    pub bytes_a: u64,
    /// Bytes in period B.
    pub bytes_b: u64,
}

/// One address in a diff.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct HostDiff {
    /// The address.
    pub ip: String,
    /// Its asset's key, if the ledger knows it.
    pub asset: Option<String>,
    /// Services in A.
    pub services_a: Vec<String>,
    /// Services in B.
    pub services_b: Vec<String>,
    /// Bytes in A.
    pub bytes_a: u64,
    /// Bytes in B.
    pub bytes_b: u64,
}

/// The diff of two periods.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub(crate) struct Diff {
    /// Period A, ns.
    pub a: (i64, i64),
    /// Period B, ns.
    pub b: (i64, i64),
    /// Addresses present in B, not in A (and assets first seen in B).
    pub new_hosts: Vec<HostDiff>,
    /// Addresses present in A, not in B.
    pub vanished_hosts: Vec<HostDiff>,
    /// Addresses in both whose services or volume changed.
    pub changed_hosts: Vec<HostDiff>,
    /// Communications in B, not in A.
    pub new_comms: Vec<CommDiff>,
    /// Communications in A, not in B.
    pub vanished_comms: Vec<CommDiff>,
    /// Communications in both whose volume changed.
    pub changed_comms: Vec<CommDiff>,
}

/// At most this many rows per list.
const MAX_ROWS: usize = 500;

type CommKey = (String, String, String);

/// A time range, ns: start, end.
type Period = (i64, i64);

fn sums(edges: &[FlowEdge]) -> BTreeMap<CommKey, u64> {
    let mut m = BTreeMap::new();
    for e in edges {
        let k = (
            e.orig_h.clone(),
            e.resp_h.clone(),
            service_label(e.service.as_deref(), e.proto, e.resp_p),
        );
        *m.entry(k).or_default() += e.bytes;
    }
    m
}

fn hosts(comms: &BTreeMap<CommKey, u64>) -> BTreeMap<String, (BTreeSet<String>, u64)> {
    let mut m: BTreeMap<String, (BTreeSet<String>, u64)> = BTreeMap::new();
    for ((o, r, s), b) in comms {
        for h in [o, r] {
            let e = m.entry(h.clone()).or_default();
            e.0.insert(s.clone());
            e.1 += b;
        }
    }
    m
}

fn changed(a: u64, b: u64) -> bool {
    let (a, b) = (a.max(1) as f64, b.max(1) as f64);
    a / b >= CHANGE_FACTOR || b / a >= CHANGE_FACTOR
}

/// The default periods: the last 24 hours of data (B) and the 24 before (A).
pub(crate) fn default_periods(state: &AppState) -> Result<(Period, Period), AppError> {
    let buckets = state.flows.buckets(&*state.store, &FlowFilter::default())?;
    let end = buckets
        .last()
        .map_or_else(mamori_store::unix_nanos_now, |b| b.hour);
    let end = end - end.rem_euclid(mamori_store::HOUR_NANOS) + mamori_store::HOUR_NANOS;
    Ok((
        (end - 2 * util::DAY, end - util::DAY),
        (end - util::DAY, end),
    ))
}

/// Computes the diff the parameters ask for.
pub(crate) fn compute(state: &AppState, p: &DiffParams) -> Result<Diff, AppError> {
    let store = &*state.store;
    let (da, db) = default_periods(state)?;
    let t = |v: &Option<String>, d: i64| {
        super::opt(v)
            .and_then(|x| util::parse_time(&x))
            .unwrap_or(d)
    };
    let a = (t(&p.a_from, da.0), t(&p.a_to, da.1));
    let b = (t(&p.b_from, db.0), t(&p.b_to, db.1));
    let period = |(from, to): (i64, i64)| FlowFilter {
        from: Some(from),
        to: Some(to),
        host: None,
        limit: None,
    };
    let ca = sums(&state.flows.edges(store, &period(a))?);
    let cb = sums(&state.flows.edges(store, &period(b))?);
    let comm = |k: &CommKey, ba: u64, bb: u64| CommDiff {
        orig_h: k.0.clone(),
        resp_h: k.1.clone(),
        service: k.2.clone(),
        bytes_a: ba,
        bytes_b: bb,
    };
    let mut new_comms = Vec::new();
    let mut changed_comms = Vec::new();
    for (k, bb) in &cb {
        match ca.get(k) {
            None => new_comms.push(comm(k, 0, *bb)),
            Some(ba) if changed(*ba, *bb) => changed_comms.push(comm(k, *ba, *bb)),
            Some(_) => {}
        }
    }
    let vanished_comms: Vec<CommDiff> = ca
        .iter()
        .filter(|(k, _)| !cb.contains_key(*k))
        .map(|(k, ba)| comm(k, *ba, 0))
        .collect();
    let labels = state.labels.get(store)?;
    let (ha, hb) = (hosts(&ca), hosts(&cb));
    let host = |ip: &str,
                a: Option<&(BTreeSet<String>, u64)>,
                b: Option<&(BTreeSet<String>, u64)>| HostDiff {
        ip: ip.to_string(),
        asset: labels.of_ip(ip).map(|x| x.key.clone()),
        services_a: a.map(|x| x.0.iter().cloned().collect()).unwrap_or_default(),
        services_b: b.map(|x| x.0.iter().cloned().collect()).unwrap_or_default(),
        bytes_a: a.map_or(0, |x| x.1),
        bytes_b: b.map_or(0, |x| x.1),
    };
    let mut new_hosts = Vec::new();
    let mut changed_hosts = Vec::new();
    for (ip, vb) in &hb {
        match ha.get(ip) {
            None => new_hosts.push(host(ip, None, Some(vb))),
            Some(va) if va.0 != vb.0 || changed(va.1, vb.1) => {
                changed_hosts.push(host(ip, Some(va), Some(vb)))
            }
            Some(_) => {}
        }
    }
    // Assets first seen in B that sent nothing there are new too.
    let first_in_b = store.assets(&AssetQuery {
        first_seen_since: Some(b.0),
        sort: AssetSort::FirstSeen,
        limit: Some(MAX_ROWS as u32),
        ..AssetQuery::default()
    })?;
    for asset in first_in_b.iter().filter(|x| x.first_seen < b.1) {
        let ip = asset
            .ips
            .first()
            .cloned()
            .unwrap_or_else(|| asset.key.clone());
        if !new_hosts.iter().any(|h| h.ip == ip) && !ha.contains_key(&ip) {
            new_hosts.push(HostDiff {
                ip,
                asset: Some(asset.key.clone()),
                services_a: Vec::new(),
                services_b: Vec::new(),
                bytes_a: 0,
                bytes_b: 0,
            });
        }
    }
    let vanished_hosts: Vec<HostDiff> = ha
        .iter()
        .filter(|(ip, _)| !hb.contains_key(*ip))
        .map(|(ip, va)| host(ip, Some(va), None))
        .collect();
    let cap = |mut v: Vec<CommDiff>| {
        v.sort_by_key(|c| std::cmp::Reverse(c.bytes_a + c.bytes_b));
        v.truncate(MAX_ROWS);
        v
    };
    let caph = |mut v: Vec<HostDiff>| {
        v.truncate(MAX_ROWS);
        v
    };
    Ok(Diff {
        a,
        b,
        new_hosts: caph(new_hosts),
        vanished_hosts: caph(vanished_hosts),
        changed_hosts: caph(changed_hosts),
        new_comms: cap(new_comms),
        vanished_comms: cap(vanished_comms),
        changed_comms: cap(changed_comms),
    })
}

/// `GET /diff`.
pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    lang: Lang,
    uri: Uri,
    Query(p): Query<DiffParams>,
) -> Result<Html<String>, AppError> {
    super::render(state, auth, lang, &uri, move |state, ctx| {
        let l = ctx.lang;
        let d = compute(state, &p)?;
        let labels = state.labels.get(&*state.store)?;
        let name = |ip: &str| labels.name_of_ip(ip);
        let host_table = |title: &str, class: &str, rows: &[HostDiff]| html! {
            section.card {
                h2 { span class=(class) { (title) } " (" (rows.len()) ")" }
                @if rows.is_empty() { p.empty { "—" } } @else {
                    table {
                        thead { tr { th { (l.t("asset-name")) } th { (l.t("asset-ips")) } th { (l.t("diff-services-a")) } th { (l.t("diff-services-b")) } th.num { "A" } th.num { "B" } } }
                        tbody { @for h in rows { tr {
                            td { @if let Some(k) = &h.asset { a href=(asset_href(k)) { (name(&h.ip)) } } @else { (h.ip) } }
                            td { (h.ip) }
                            td.small { (h.services_a.join(", ")) }
                            td.small { (h.services_b.join(", ")) }
                            td.num { (fmt_bytes(h.bytes_a)) }
                            td.num { (fmt_bytes(h.bytes_b)) }
                        } } }
                    }
                }
            }
        };
        let comm_table = |title: &str, class: &str, rows: &[CommDiff]| html! {
            section.card {
                h2 { span class=(class) { (title) } " (" (rows.len()) ")" }
                @if rows.is_empty() { p.empty { "—" } } @else {
                    table {
                        thead { tr { th { (l.t("flows-orig")) } th { (l.t("flows-resp")) } th { (l.t("traffic-service")) } th.num { "A" } th.num { "B" } } }
                        tbody { @for c in rows { tr {
                            td { (name(&c.orig_h)) " " span.small { (c.orig_h) } }
                            td { (name(&c.resp_h)) " " span.small { (c.resp_h) } }
                            td { (c.service) }
                            td.num { (fmt_bytes(c.bytes_a)) }
                            td.num { (fmt_bytes(c.bytes_b)) }
                        } } }
                    }
                }
            }
        };
        Ok(layout::page(ctx, &l.t("diff-title"), html! {
            form.filters method="get" action="/diff" {
                strong { "A" }
                input type="datetime-local" name="a_from" value=(util::fmt_input(d.a.0));
                input type="datetime-local" name="a_to" value=(util::fmt_input(d.a.1));
                strong { "B" }
                input type="datetime-local" name="b_from" value=(util::fmt_input(d.b.0));
                input type="datetime-local" name="b_to" value=(util::fmt_input(d.b.1));
                button type="submit" { (l.t("diff-compare")) }
            }
            p.small { (l.t("diff-help")) }
            div.grid2 {
                (host_table(&l.t("diff-new-assets"), "diff-new", &d.new_hosts))
                (host_table(&l.t("diff-vanished-assets"), "diff-gone", &d.vanished_hosts))
            }
            (host_table(&l.t("diff-changed-assets"), "diff-changed", &d.changed_hosts))
            div.grid2 {
                (comm_table(&l.t("diff-new-comms"), "diff-new", &d.new_comms))
                (comm_table(&l.t("diff-vanished-comms"), "diff-gone", &d.vanished_comms))
            }
            (comm_table(&l.t("diff-changed-comms"), "diff-changed", &d.changed_comms))
        }))
    })
    .await
}
