//! Japanese and English, through Fluent.
//!
//! The messages live in `locales/{en,ja}/*.ftl` and are compiled into the binary.
//! A request's language is, in order: a `lang` query parameter (which also sets
//! the `lang` cookie, so the switch sticks), the `lang` cookie, the browser's
//! `Accept-Language`, and English. Pages call [`Lang::t`] with a message id; a
//! missing id shows the id itself, and a test checks that every id the sources
//! use exists in both languages.

use std::borrow::Cow;
use std::collections::HashMap;
use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use fluent_templates::fluent_bundle::FluentValue;
use fluent_templates::{LanguageIdentifier, Loader, langid};

fluent_templates::static_loader! {
    static LOCALES = {
        locales: "./locales",
        fallback_language: "en",
        customise: |bundle| bundle.set_use_isolating(false),
    };
}

static EN: LanguageIdentifier = langid!("en");
static JA: LanguageIdentifier = langid!("ja");

/// A language the portal speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Japanese.
    Ja,
}

impl Lang {
    /// Every language, in the order the switch shows them.
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ja];

    /// `en` or `ja`.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }

    /// The language's own name.
    pub fn name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Ja => "日本語",
        }
    }

    /// `en`/`ja` (or a tag starting so); `None` for others.
    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next().unwrap_or("");
        if primary.eq_ignore_ascii_case("ja") {
            Some(Lang::Ja)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    fn id(self) -> &'static LanguageIdentifier {
        match self {
            Lang::En => &EN,
            Lang::Ja => &JA,
        }
    }

    /// The message `key`, or the key itself when it is missing.
    pub fn t(self, key: &str) -> String {
        LOCALES
            .try_lookup(self.id(), key)
            .unwrap_or_else(|| key.to_string())
    }

    /// The message `key` with arguments.
    pub fn ta(self, key: &str, args: &[(&'static str, FluentValue<'static>)]) -> String {
        let map: HashMap<Cow<'static, str>, FluentValue<'_>> = args
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), v.clone()))
            .collect();
        LOCALES
            .try_lookup_with_args(self.id(), key, &map)
            .unwrap_or_else(|| key.to_string())
    }

    /// The language a request asks for (query, cookie, Accept-Language).
    pub fn negotiate(query: Option<&str>, headers: &HeaderMap) -> Lang {
        if let Some(l) = query.and_then(query_lang) {
            return l;
        }
        if let Some(l) = cookie(headers, "lang").and_then(|v| Lang::from_code(&v)) {
            return l;
        }
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok())
            .and_then(accept_language)
            .unwrap_or_default()
    }
}

/// The `lang` parameter of a query string.
pub(crate) fn query_lang(query: &str) -> Option<Lang> {
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "lang")
        .and_then(|(_, v)| Lang::from_code(v))
}

/// The best supported language of an `Accept-Language` header, by q-value.
fn accept_language(value: &str) -> Option<Lang> {
    let mut best: Option<(f32, Lang)> = None;
    for item in value.split(',') {
        let mut parts = item.split(';');
        let tag = parts.next().unwrap_or("");
        let q = parts
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        if let Some(l) = Lang::from_code(tag)
            && best.is_none_or(|(bq, _)| q > bq)
        {
            best = Some((q, l));
        }
    }
    best.map(|(_, l)| l)
}

/// The value of cookie `name`.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Lang::negotiate(parts.uri.query(), &parts.headers))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn negotiation_prefers_query_then_cookie_then_header() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("fr-FR, ja;q=0.8, en;q=0.5"),
        );
        assert_eq!(Lang::negotiate(None, &h), Lang::Ja);
        h.insert(header::COOKIE, HeaderValue::from_static("x=1; lang=en"));
        assert_eq!(Lang::negotiate(None, &h), Lang::En);
        assert_eq!(Lang::negotiate(Some("page=2&lang=ja"), &h), Lang::Ja);
        assert_eq!(Lang::negotiate(None, &HeaderMap::new()), Lang::En);
    }

    /// Ids built at run time (`role-…`, `severity-…`, `status-…`, `nav-…`).
    #[test]
    fn computed_message_ids_exist() {
        let ids = [
            "role-admin",
            "role-operator",
            "role-viewer",
            "role-plc",
            "role-hmi",
            "role-ews",
            "role-scada_server",
            "role-historian",
            "role-it_host",
            "role-network_device",
            "role-iot",
            "role-unknown",
            "severity-critical",
            "severity-high",
            "severity-medium",
            "severity-low",
            "severity-unknown",
            "status-open",
            "status-acknowledged",
            "status-accepted",
            "nav-overview",
            "nav-matrix",
            "nav-map",
            "nav-traffic",
            "nav-diff",
            "nav-alerts",
            "nav-settings",
            "matrix-by-vendor",
            "matrix-by-os",
            "matrix-by-role",
            "users-bad-name",
            "users-short-password",
            "users-taken",
            "users-not-self",
            "settings-bad-json",
            "settings-not-array",
            "settings-bad-zone",
            "login-blocked",
            "login-failed",
            "login-need-code",
            "login-bad-code",
            "login-csrf",
        ];
        for id in ids {
            for l in Lang::ALL {
                assert!(ftl_has(l, id), "{}: {id}", l.code());
            }
        }
    }

    #[test]
    fn messages_exist_in_both_languages() {
        assert_eq!(Lang::En.t("nav-assets"), "Assets");
        assert_eq!(Lang::Ja.t("nav-assets"), "資産");
        assert_eq!(Lang::En.t("no-such-message"), "no-such-message");
    }

    /// Every `t("…")` / `ta("…"` id in the sources exists in both languages.
    #[test]
    fn every_used_message_is_translated() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut missing = Vec::new();
        let mut seen = 0;
        let mut stack = vec![std::path::PathBuf::from(dir)];
        while let Some(p) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&p) else {
                continue;
            };
            for e in entries.flatten() {
                let path = e.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let Ok(src) = std::fs::read_to_string(&path) else {
                    continue;
                };
                for pat in [".t(\"", ".ta(\""] {
                    for (i, _) in src.match_indices(pat) {
                        let rest = &src[i + pat.len()..];
                        let Some(end) = rest.find('"') else { continue };
                        let key = &rest[..end];
                        if key.is_empty() || key.contains(' ') || key == "no-such-message" {
                            continue;
                        }
                        seen += 1;
                        for l in Lang::ALL {
                            let resolves =
                                pat == ".ta(\"" || LOCALES.try_lookup(l.id(), key).is_some();
                            if !resolves || !ftl_has(l, key) {
                                missing.push(format!("{}:{key}", l.code()));
                            }
                        }
                    }
                }
            }
        }
        missing.sort();
        missing.dedup();
        assert!(seen > 50, "found only {seen} message uses");
        assert!(missing.is_empty(), "missing messages: {missing:?}");
    }

    /// Whether the language's own files define `key` (the loader falls back to
    /// English, which would hide a missing Japanese message).
    fn ftl_has(l: Lang, key: &str) -> bool {
        let dir = format!("{}/locales/{}", env!("CARGO_MANIFEST_DIR"), l.code());
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.path()).ok())
            .any(|text| {
                text.lines()
                    .any(|line| line.split_once('=').is_some_and(|(k, _)| k.trim() == key))
            })
    }
}
