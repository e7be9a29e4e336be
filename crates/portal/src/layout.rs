//! The frame around every page and the pieces pages share: navigation, the
//! language switch, sortable table headers, pagers, badges and time cells.

use maud::{DOCTYPE, Markup, html};

use crate::auth::CurrentUser;
use crate::i18n::Lang;
use crate::util;

/// What a page knows about its request.
pub(crate) struct Ctx {
    /// The language.
    pub lang: Lang,
    /// Who is looking.
    pub user: CurrentUser,
    /// The request's path.
    pub path: String,
    /// The request's query string (without `?`).
    pub query: String,
}

impl Ctx {
    /// The current URL with `key` set to `value` (or removed when empty) and,
    /// unless `key` is `page`, the page number reset.
    pub(crate) fn url_with(&self, key: &str, value: &str) -> String {
        let mut pairs: Vec<(String, String)> = self
            .query
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .filter(|(k, _)| *k != key && *k != "lang" && (key == "page" || *k != "page"))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        if !value.is_empty() {
            pairs.push((key.to_string(), util::url_encode(value)));
        }
        if pairs.is_empty() {
            self.path.clone()
        } else {
            let q: Vec<String> = pairs.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{}?{}", self.path, q.join("&"))
        }
    }
}

/// The navigation entries: path, message id.
const NAV: &[(&str, &str)] = &[
    ("/", "nav-overview"),
    ("/assets", "nav-assets"),
    ("/matrix", "nav-matrix"),
    ("/map", "nav-map"),
    ("/traffic", "nav-traffic"),
    ("/diff", "nav-diff"),
    ("/alerts", "nav-alerts"),
    ("/settings", "nav-settings"),
];

/// A whole page: head, navigation, `body` under an `h1` of `title`.
pub(crate) fn page(ctx: &Ctx, title: &str, body: Markup) -> Markup {
    let l = ctx.lang;
    html! {
        (DOCTYPE)
        html lang=(l.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · mamori" }
                link rel="stylesheet" href="/static/mamori.css";
                script src="/static/app.js" defer {}
            }
            body {
                header.top {
                    a.brand href="/" { "mamori " span.kanji { "守り" } }
                    nav {
                        @for (href, key) in NAV {
                            @let active = if *href == "/" { ctx.path == "/" } else { ctx.path.starts_with(href) };
                            a href=(href) class=[active.then_some("active")] { (l.t(key)) }
                        }
                    }
                    div.user {
                        span.lang {
                            @for other in Lang::ALL {
                                @if other == l {
                                    strong { (other.name()) }
                                } @else {
                                    a href=(lang_url(ctx, other)) hreflang=(other.code()) { (other.name()) }
                                }
                            }
                        }
                        a href="/account" title=(l.t("nav-account")) { (ctx.user.user.username) " (" (l.t(&format!("role-{}", ctx.user.user.role))) ")" }
                        form.inline method="post" action="/logout" {
                            input type="hidden" name="csrf" value=(ctx.user.csrf);
                            button.link type="submit" { (l.t("nav-logout")) }
                        }
                    }
                }
                main {
                    h1 { (title) }
                    (body)
                }
                footer { "mamori " (env!("CARGO_PKG_VERSION")) " · " (l.t("footer-times-utc")) }
            }
        }
    }
}

/// The current URL in another language.
fn lang_url(ctx: &Ctx, lang: Lang) -> String {
    let q: Vec<&str> = ctx
        .query
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("lang="))
        .collect();
    if q.is_empty() {
        format!("{}?lang={}", ctx.path, lang.code())
    } else {
        format!("{}?{}&lang={}", ctx.path, q.join("&"), lang.code())
    }
}

/// A table header that sorts by `column` (toggling the direction when it is
/// the current one).
pub(crate) fn sort_th(ctx: &Ctx, label: &str, column: &str, current: &str, desc: bool) -> Markup {
    let is_current = current == column;
    let next_desc = if is_current { !desc } else { false };
    let mut url = ctx.url_with("sort", column);
    url.push_str(if url.contains('?') { "&" } else { "?" });
    url.push_str(if next_desc { "dir=desc" } else { "dir=asc" });
    // url_with kept an old dir=...; drop it.
    let url = dedupe_dir(&url, next_desc);
    html! {
        th {
            a href=(url) class=[is_current.then_some("sorted")] {
                (label)
                @if is_current { (if desc { " ▼" } else { " ▲" }) }
            }
        }
    }
}

fn dedupe_dir(url: &str, desc: bool) -> String {
    let Some((path, q)) = url.split_once('?') else {
        return url.to_string();
    };
    let mut parts: Vec<&str> = q.split('&').filter(|kv| !kv.starts_with("dir=")).collect();
    parts.push(if desc { "dir=desc" } else { "dir=asc" });
    format!("{path}?{}", parts.join("&"))
}

/// Page links for `total` rows, `per` a page, at page `current` (0-based).
pub(crate) fn pager(ctx: &Ctx, total: u64, per: u32, current: u32) -> Markup {
    let per = u64::from(per.max(1));
    let pages = total.div_ceil(per).max(1);
    let cur = u64::from(current).min(pages - 1);
    let l = ctx.lang;
    html! {
        nav.pager {
            span { (l.ta("pager-summary", &[("total", util::fmt_count(total).into()), ("page", (cur + 1).into()), ("pages", pages.into())])) }
            @if cur > 0 {
                a href=(ctx.url_with("page", "0")) { "« " (l.t("pager-first")) }
                a href=(ctx.url_with("page", &(cur - 1).to_string())) { "‹ " (l.t("pager-prev")) }
            }
            @if cur + 1 < pages {
                a href=(ctx.url_with("page", &(cur + 1).to_string())) { (l.t("pager-next")) " ›" }
                a href=(ctx.url_with("page", &(pages - 1).to_string())) { (l.t("pager-last")) " »" }
            }
        }
    }
}

/// A severity as a coloured badge.
pub(crate) fn severity_badge(l: Lang, severity: &str) -> Markup {
    let class = match severity {
        "critical" | "high" | "medium" | "low" => severity,
        _ => "unknown",
    };
    html! { span class={"badge sev-" (class)} { (l.t(&format!("severity-{class}"))) } }
}

/// An alert status as a badge.
pub(crate) fn status_badge(l: Lang, status: &str) -> Markup {
    html! { span class={"badge st-" (status)} { (l.t(&format!("status-{status}"))) } }
}

/// A time cell with the full time as its title.
pub(crate) fn time_cell(ns: i64) -> Markup {
    html! { time datetime=(util::fmt_input(ns)) title=(util::fmt_time_secs(ns)) { (util::fmt_time(ns)) } }
}

/// The hidden CSRF input of a form.
pub(crate) fn csrf_input(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.user.csrf); }
}

/// A message box (`kind` = `ok`, `warn` or `error`).
pub(crate) fn notice(kind: &str, text: &str) -> Markup {
    html! { p class={"notice " (kind)} { (text) } }
}

/// An asset's display name: hostname, else first IP, else key.
pub(crate) fn asset_name(hostname: Option<&str>, ips: &[String], key: &str) -> String {
    hostname
        .filter(|h| !h.is_empty())
        .map(String::from)
        .or_else(|| ips.first().cloned())
        .unwrap_or_else(|| {
            key.trim_start_matches("mac:")
                .trim_start_matches("ip:")
                .to_string()
        })
}

/// The link to an asset's page.
pub(crate) fn asset_href(key: &str) -> String {
    format!("/assets/{}", util::url_encode(key))
}
