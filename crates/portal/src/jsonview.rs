//! A JSON value shown as a key/value tree.
//!
//! The ledger's `detail` and a detector's `evidence` are JSON whose shape grows
//! with the protocols, so the portal shows them generically: objects as two-column
//! tables, arrays as lists (arrays of flat objects as tables), scalars as text.
//! Values under a key that names flow uids (`uid`, `uids`, `flow_uids`,
//! `conn_uids`) link to the flow search; values that are nanosecond timestamps
//! under a key ending in `ts`, `_at`, `first_seen` or `last_seen` are shown as
//! times as well.

use maud::{Markup, html};
use serde_json::Value;

use crate::util;

/// Nesting deeper than this is shown as JSON text.
const MAX_DEPTH: usize = 8;

/// Shows `text` (JSON) as a tree; text that is not JSON is shown as it is.
pub(crate) fn tree(text: &str, flow_link: &dyn Fn(&str) -> String) -> Markup {
    match serde_json::from_str::<Value>(text) {
        Ok(v) => value(&v, "", 0, flow_link),
        Err(_) => html! { pre { (text) } },
    }
}

fn is_uid_key(key: &str) -> bool {
    matches!(key, "uid" | "uids" | "flow_uids" | "conn_uids" | "flows")
}

fn is_time_key(key: &str) -> bool {
    key == "ts"
        || key.ends_with("_ts")
        || key.ends_with("_at")
        || key.ends_with("first_seen")
        || key.ends_with("last_seen")
        || key == "since"
        || key == "until"
}

fn value(v: &Value, key: &str, depth: usize, flow_link: &dyn Fn(&str) -> String) -> Markup {
    if depth > MAX_DEPTH {
        return html! { code { (v.to_string()) } };
    }
    match v {
        Value::Null => html! { span.null { "—" } },
        Value::Bool(b) => html! { (b) },
        Value::Number(n) => {
            let t = n
                .as_i64()
                .filter(|t| is_time_key(key) && *t > 1_000_000_000_000_000_000 / 100);
            html! {
                (n)
                @if let Some(t) = t { " " span.small { "(" (util::fmt_time_secs(t)) ")" } }
            }
        }
        Value::String(s) if is_uid_key(key) => html! { a.uid href=(flow_link(s)) { (s) } },
        Value::String(s) => html! { (s) },
        Value::Array(items) if items.is_empty() => html! { span.null { "[]" } },
        Value::Array(items) => {
            if let Some(cols) = flat_table_columns(items) {
                html! {
                    table.json {
                        thead { tr { @for c in &cols { th { (c) } } } }
                        tbody {
                            @for it in items {
                                tr { @for c in &cols { td { (value(it.get(c.as_str()).unwrap_or(&Value::Null), c, depth + 1, flow_link)) } } }
                            }
                        }
                    }
                }
            } else {
                html! {
                    ul.json {
                        @for it in items { li { (value(it, key, depth + 1, flow_link)) } }
                    }
                }
            }
        }
        Value::Object(map) if map.is_empty() => html! { span.null { "{}" } },
        Value::Object(map) => html! {
            table.json.kv {
                @for (k, v) in map {
                    tr { th { (k) } td { (value(v, k, depth + 1, flow_link)) } }
                }
            }
        },
    }
}

/// Columns when `items` are all objects of scalars (at most 12 distinct keys).
fn flat_table_columns(items: &[Value]) -> Option<Vec<String>> {
    let mut cols: Vec<String> = Vec::new();
    for it in items {
        let obj = it.as_object()?;
        for (k, v) in obj {
            if v.is_object()
                || v.as_array()
                    .is_some_and(|a| a.iter().any(|x| x.is_object() || x.is_array()))
            {
                return None;
            }
            if !cols.iter().any(|c| c == k) {
                cols.push(k.clone());
            }
        }
    }
    (cols.len() <= 12 && !cols.is_empty()).then_some(cols)
}

/// The flow uids anywhere in `text` (JSON), for "search these flows" links.
pub(crate) fn uids(text: &str) -> Vec<String> {
    fn walk(v: &Value, key: &str, out: &mut Vec<String>, depth: usize) {
        if depth > MAX_DEPTH || out.len() >= 100 {
            return;
        }
        match v {
            Value::String(s) if is_uid_key(key) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| walk(x, key, out, depth + 1)),
            Value::Object(m) => m.iter().for_each(|(k, x)| walk(x, k, out, depth + 1)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        walk(&v, "", &mut out, 0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uids_link_and_objects_nest() {
        let link = |u: &str| format!("/flows?uid={u}");
        let html = tree(
            r#"{"seen":{"function":5,"name":"write single coil"},"uids":["CAbc1","CAbc2"],"peers":[{"ip":"10.0.0.1","bytes":4}]}"#,
            &link,
        )
        .into_string();
        assert!(html.contains(r#"href="/flows?uid=CAbc1""#));
        assert!(html.contains("write single coil"));
        assert!(
            html.contains("<th>ip</th>"),
            "flat objects become a table: {html}"
        );
        assert_eq!(
            uids(r#"{"evidence":{"flow_uids":["C1"]},"uid":"C2"}"#),
            vec!["C1", "C2"]
        );
        assert!(
            tree("not json <b>", &link)
                .into_string()
                .contains("&lt;b&gt;")
        );
    }
}
