//! Exports for people and their spreadsheets: CSV (UTF-8 with a byte-order mark,
//! every text cell quoted, CRLF line ends, so Excel opens Japanese text correctly)
//! and JSON (an array of the `assets.jsonl` records).
//!
//! Both read the store's rows ([`AssetRow`]), so `mamori assets export` needs no
//! ledger in memory. A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage
//! return would be taken by a spreadsheet for a formula (a hostname is whatever the
//! network said it is), so it gets a leading `'`.

use std::io::{self, Write};

use mamori_store::AssetRow;
use serde::Deserialize;

/// Header language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English headers, role codes as in `assets.jsonl`.
    #[default]
    En,
    /// Japanese headers and role names.
    Ja,
}

const HEADERS_EN: [&str; 17] = [
    "key",
    "mac",
    "ips",
    "vendor",
    "hostname",
    "os",
    "os_eol",
    "role",
    "model",
    "firmware",
    "protocols_served",
    "protocols_used",
    "behind",
    "first_seen",
    "last_seen",
    "pkts",
    "bytes",
];

const HEADERS_JA: [&str; 17] = [
    "キー",
    "MACアドレス",
    "IPアドレス",
    "ベンダー",
    "ホスト名",
    "OS",
    "サポート終了日",
    "役割",
    "型式",
    "ファームウェア",
    "提供プロトコル",
    "利用プロトコル",
    "経由ルーター",
    "初回確認 (UTC)",
    "最終確認 (UTC)",
    "パケット数",
    "バイト数",
];

fn role_ja(role: &str) -> &str {
    match role {
        "plc" => "PLC",
        "hmi" => "HMI",
        "ews" => "エンジニアリング端末",
        "scada_server" => "SCADAサーバー",
        "historian" => "ヒストリアン",
        "it_host" => "IT機器",
        "network_device" => "ネットワーク機器",
        "iot" => "IoT機器",
        "unknown" => "不明",
        other => other,
    }
}

/// The two lists the CSV needs from `detail` (everything else is skipped unread).
#[derive(Deserialize, Default)]
struct Protocols {
    #[serde(default)]
    protocols_served: Vec<String>,
    #[serde(default)]
    protocols_used: Vec<String>,
}

/// Appends one quoted cell, with the formula guard.
fn push_cell(out: &mut String, value: &str) {
    out.push('"');
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        out.push('\'');
    }
    for c in value.chars() {
        if c == '"' {
            out.push('"');
        }
        out.push(c);
    }
    out.push('"');
}

/// Writes assets as CSV; returns the number of rows written.
pub fn write_csv<'a, W: Write>(
    w: W,
    rows: impl IntoIterator<Item = &'a AssetRow>,
    lang: Lang,
) -> io::Result<u64> {
    let mut w = io::BufWriter::with_capacity(1 << 16, w);
    w.write_all("\u{feff}".as_bytes())?;
    let headers = match lang {
        Lang::En => &HEADERS_EN,
        Lang::Ja => &HEADERS_JA,
    };
    let mut line = String::with_capacity(1024);
    for (i, h) in headers.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        push_cell(&mut line, h);
    }
    line.push_str("\r\n");
    w.write_all(line.as_bytes())?;
    let mut n = 0;
    for r in rows {
        line.clear();
        let p: Protocols = serde_json::from_str(&r.detail).unwrap_or_default();
        let role = match lang {
            Lang::En => r.role.as_str(),
            Lang::Ja => role_ja(&r.role),
        };
        let text: [&str; 13] = [
            &r.key,
            r.mac.as_deref().unwrap_or(""),
            &r.ips.join(" "),
            r.vendor.as_deref().unwrap_or(""),
            r.hostname.as_deref().unwrap_or(""),
            r.os.as_deref().unwrap_or(""),
            r.os_eol.as_deref().unwrap_or(""),
            role,
            r.model.as_deref().unwrap_or(""),
            r.firmware.as_deref().unwrap_or(""),
            &p.protocols_served.join(" "),
            &p.protocols_used.join(" "),
            r.behind.as_deref().unwrap_or(""),
        ];
        for (i, t) in text.iter().enumerate() {
            if i > 0 {
                line.push(',');
            }
            push_cell(&mut line, t);
        }
        for t in [r.first_seen, r.last_seen] {
            line.push(',');
            push_cell(&mut line, &crate::date::iso_datetime(t));
        }
        use std::fmt::Write as _;
        let _ = write!(line, ",{},{}\r\n", r.pkts, r.bytes);
        w.write_all(line.as_bytes())?;
        n += 1;
    }
    w.flush()?;
    Ok(n)
}

/// Writes assets as one JSON array of their `assets.jsonl` records; returns the
/// number written.
pub fn write_json<'a, W: Write>(
    w: W,
    rows: impl IntoIterator<Item = &'a AssetRow>,
) -> io::Result<u64> {
    let mut w = io::BufWriter::with_capacity(1 << 16, w);
    w.write_all(b"[")?;
    let mut n = 0u64;
    for r in rows {
        w.write_all(if n == 0 { b"\n" } else { b",\n" })?;
        w.write_all(r.detail.as_bytes())?;
        n += 1;
    }
    w.write_all(b"\n]\n")?;
    w.flush()?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(hostname: &str) -> AssetRow {
        AssetRow {
            key: "mac:00:1b:1b:13:41:73".into(),
            mac: Some("00:1b:1b:13:41:73".into()),
            ips: vec!["192.168.25.139".into(), "192.168.25.9".into()],
            vendor: Some("Siemens AG".into()),
            hostname: Some(hostname.into()),
            os: None,
            os_eol: None,
            role: "plc".into(),
            model: Some("6ES7 511-1AK00-0AB0".into()),
            firmware: Some("V2.1".into()),
            behind: None,
            first_seen: 1_500_000_000_000_000_000,
            last_seen: 1_500_000_060_000_000_000,
            pkts: 10,
            bytes: 1000,
            detail: r#"{"protocols_served":["s7comm"],"protocols_used":[],"x":{"y":[1,2]}}"#.into(),
            updated_run: None,
        }
    }

    #[test]
    fn csv_has_bom_crlf_quotes_and_formula_guard() {
        let rows = [row("=HYPERLINK(\"http://x\")"), row("plc,\"one\"")];
        let mut out = Vec::new();
        assert_eq!(write_csv(&mut out, &rows, Lang::En).unwrap(), 2);
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with('\u{feff}'));
        let lines: Vec<&str> = text.trim_start_matches('\u{feff}').split("\r\n").collect();
        assert_eq!(lines.len(), 4, "{lines:?}"); // header, 2 rows, empty after the last CRLF
        assert!(lines[0].starts_with("\"key\",\"mac\",\"ips\""));
        assert!(
            lines[1].contains(r#","'=HYPERLINK(""http://x"")","#),
            "{}",
            lines[1]
        );
        assert!(lines[2].contains(r#","plc,""one""","#));
        assert!(lines[1].contains(r#""192.168.25.139 192.168.25.9""#));
        assert!(lines[1].contains(r#""s7comm""#));
        assert!(
            lines[1].ends_with(r#""2017-07-14T02:40:00Z","2017-07-14T02:41:00Z",10,1000"#),
            "{}",
            lines[1]
        );
        assert!(!text.contains("\n\"") || text.contains("\r\n\""));
    }

    #[test]
    fn japanese_headers_and_roles() {
        let mut out = Vec::new();
        write_csv(&mut out, &[row("plc1")], Lang::Ja).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("\"MACアドレス\""));
        assert!(text.contains("\"サポート終了日\""));
        assert!(text.contains(",\"PLC\","));
    }

    #[test]
    fn json_is_an_array_of_the_records() {
        let mut out = Vec::new();
        write_json(&mut out, &[row("a"), row("b")]).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v.as_array().map(Vec::len), Some(2));
        assert_eq!(v[0]["protocols_served"][0], "s7comm");
        let mut empty = Vec::new();
        write_json(&mut empty, &[]).unwrap();
        assert_eq!(
            serde_json::from_slice::<serde_json::Value>(&empty).unwrap(),
            serde_json::json!([])
        );
    }
}
