//! The device matrix: 16x16 cells, one per asset, coloured by vendor, OS or
//! role, with a legend; hovering a cell names the asset, clicking opens it. More
//! than 256 assets page.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::Html;
use mamori_store::AssetLabel;
use maud::{Markup, html};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::layout::{self, asset_href, asset_name};
use crate::pages::assets::role_label;
use crate::svg::{self, OTHER};

/// Cells per side.
pub(crate) const SIDE: usize = 16;
/// Cells per page.
pub(crate) const PER_PAGE: usize = SIDE * SIDE;
const CELL: f64 = 46.0;
const GAP: f64 = 4.0;
const UNKNOWN: &str = "#e4e7eb";

/// The query.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct MatrixParams {
    color: Option<String>,
    page: Option<String>,
}

/// What the cells are coloured by.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ColourBy {
    Vendor,
    Os,
    Role,
}

impl ColourBy {
    fn parse(s: Option<&str>) -> Self {
        match s {
            Some("os") => ColourBy::Os,
            Some("role") => ColourBy::Role,
            _ => ColourBy::Vendor,
        }
    }

    fn code(self) -> &'static str {
        match self {
            ColourBy::Vendor => "vendor",
            ColourBy::Os => "os",
            ColourBy::Role => "role",
        }
    }

    fn value(self, a: &AssetLabel) -> Option<String> {
        match self {
            ColourBy::Vendor => a.vendor.clone(),
            ColourBy::Os => a.os.clone(),
            ColourBy::Role => Some(a.role.clone()).filter(|r| r != "unknown"),
        }
        .filter(|v| !v.is_empty())
    }
}

/// A legend entry: name, colour, count.
pub(crate) type LegendItem = (String, &'static str, u64);

/// Categories by frequency: the eleven most common get colours of their own.
pub(crate) fn categories(
    list: &[AssetLabel],
    by: ColourBy,
) -> (HashMap<String, &'static str>, Vec<LegendItem>) {
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut unknown = 0u64;
    for a in list {
        match by.value(a) {
            Some(v) => *counts.entry(v).or_default() += 1,
            None => unknown += 1,
        }
    }
    let mut sorted: Vec<(String, u64)> = counts.into_iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let mut colours = HashMap::new();
    let mut legend = Vec::new();
    let mut other = 0u64;
    for (i, (name, n)) in sorted.into_iter().enumerate() {
        if i < svg::PALETTE.len() - 1 {
            let c = svg::colour(i);
            colours.insert(name.clone(), c);
            legend.push((name, c, n));
        } else {
            other += n;
        }
    }
    if other > 0 {
        legend.push(("\u{0}other".into(), OTHER, other));
    }
    if unknown > 0 {
        legend.push(("\u{0}unknown".into(), UNKNOWN, unknown));
    }
    (colours, legend)
}

/// Black or white, whichever reads better on `hex`.
fn text_on(hex: &str) -> &'static str {
    let v =
        |i: usize| u32::from_str_radix(hex.get(i..i + 2).unwrap_or("80"), 16).unwrap_or(128) as f64;
    let lum = 0.299 * v(1) + 0.587 * v(3) + 0.114 * v(5);
    if lum > 150.0 { "#1d2433" } else { "#ffffff" }
}

/// The short text inside a cell: the last part of the first IP, or of the name.
fn cell_text(a: &AssetLabel) -> String {
    if let Some(ip) = a.ips.first() {
        let tail = ip.rsplit(['.', ':']).next().unwrap_or(ip);
        return format!(".{tail}");
    }
    let name = asset_name(a.hostname.as_deref(), &a.ips, &a.key);
    svg::truncate(&name, 6)
}

/// The matrix of one page of assets as SVG.
pub(crate) fn matrix_svg(
    l: Lang,
    cells: &[AssetLabel],
    colours: &HashMap<String, &'static str>,
    by: ColourBy,
) -> Markup {
    let size = SIDE as f64 * (CELL + GAP) + GAP;
    html! {
        svg.matrix id="matrix" viewBox={"0 0 " (size) " " (size)} width=(size) height=(size) role="img" aria-label=(l.t("matrix-title")) {
            @for i in 0..PER_PAGE {
                @let x = GAP + (i % SIDE) as f64 * (CELL + GAP);
                @let y = GAP + (i / SIDE) as f64 * (CELL + GAP);
                @if let Some(a) = cells.get(i) {
                    @let fill = by.value(a).and_then(|v| colours.get(&v).copied()).unwrap_or(if by.value(a).is_some() { OTHER } else { UNKNOWN });
                    @let name = asset_name(a.hostname.as_deref(), &a.ips, &a.key);
                    a href=(asset_href(&a.key)) {
                        rect x=(x) y=(y) width=(CELL) height=(CELL) rx="4" fill=(fill) {
                            title {
                                (name) "\n" (a.ips.join(", ")) "\n"
                                (a.vendor.as_deref().unwrap_or("?")) " · " (a.os.as_deref().unwrap_or("?")) " · " (role_label(l, &a.role))
                            }
                        }
                        text x=(x + CELL / 2.0) y=(y + CELL / 2.0 + 4.0) text-anchor="middle" font-size="11" fill=(text_on(fill)) pointer-events="none" { (cell_text(a)) }
                    }
                } @else {
                    rect x=(x) y=(y) width=(CELL) height=(CELL) rx="4" fill="none" stroke="#e4e7eb" stroke-dasharray="3 3" {}
                }
            }
        }
    }
}

/// `GET /matrix`.
pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    lang: Lang,
    uri: Uri,
    Query(p): Query<MatrixParams>,
) -> Result<Html<String>, AppError> {
    super::render(state, auth, lang, &uri, move |state, ctx| {
        let l = ctx.lang;
        let labels = state.labels.get(&*state.store)?;
        let by = ColourBy::parse(p.color.as_deref());
        let (colours, legend) = categories(&labels.list, by);
        let total = labels.list.len();
        let pages = total.div_ceil(PER_PAGE).max(1);
        let page: usize = p.page.as_deref().and_then(|x| x.parse().ok()).unwrap_or(0).min(pages - 1);
        let cells = labels.list.get(page * PER_PAGE..total.min((page + 1) * PER_PAGE)).unwrap_or(&[]);
        let legend: Vec<(String, String, Option<u64>)> = legend
            .into_iter()
            .map(|(name, c, n)| {
                let name = match name.as_str() {
                    "\u{0}other" => l.t("matrix-other"),
                    "\u{0}unknown" => l.t("matrix-unknown"),
                    _ if by == ColourBy::Role => role_label(l, &name),
                    _ => name,
                };
                (name, c.to_string(), Some(n))
            })
            .collect();
        Ok(layout::page(ctx, &l.t("matrix-title"), html! {
            form.filters method="get" action="/matrix" {
                span { (l.t("matrix-colour-by")) }
                @for b in [ColourBy::Vendor, ColourBy::Os, ColourBy::Role] {
                    @if b == by { strong.button.secondary { (l.t(&format!("matrix-by-{}", b.code()))) } }
                    @else { a.button.secondary href=(ctx.url_with("color", b.code())) { (l.t(&format!("matrix-by-{}", b.code()))) } }
                }
                span.small { (l.ta("matrix-showing", &[("from", (page * PER_PAGE + usize::from(total > 0)).into()), ("to", (page * PER_PAGE + cells.len()).into()), ("total", total.into())])) }
            }
            div.matrix-wrap {
                div.card { (matrix_svg(l, cells, &colours, by)) }
                div.card {
                    h2 { (l.t("matrix-legend")) }
                    (svg::legend(&legend))
                    p.small { (l.t("matrix-help")) }
                }
            }
            @if pages > 1 {
                nav.pager {
                    @for i in 0..pages {
                        @if i == page { strong { (i + 1) } } @else { a href=(ctx.url_with("page", &i.to_string())) { (i + 1) } }
                    }
                }
            }
        }))
    })
    .await
}
