//! The generators of the crate's tables, and checks that the committed tables are
//! what the generators make of their sources.
//!
//! Regenerate (writes the files in the crate):
//!
//! ```sh
//! apt-get install ieee-data        # the IEEE registries, /usr/share/ieee-data/*.csv
//! cargo test -p mamori-assets --test generate -- --ignored
//! ```
//!
//! - `data/oui.tsv` from `/usr/share/ieee-data/{oui,mam,oui36,iab}.csv` (MA-L, MA-M,
//!   MA-S, IAB): one line per vendor name, then its prefixes in hex.
//! - `src/eol_table.rs` from `data/eol.txt`, the hand-maintained list of operating
//!   systems and their end-of-support dates with the vendor pages they come from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use mamori_assets::date;

const IEEE_DIR: &str = "/usr/share/ieee-data";
const REGISTRIES: [(&str, usize); 4] = [
    ("oui.csv", 6),
    ("mam.csv", 7),
    ("oui36.csv", 9),
    ("iab.csv", 9),
];

fn crate_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Splits one CSV record (RFC 4180 quoting; records here never span lines).
fn csv_fields(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => out.push(std::mem::take(&mut cur)),
            (c, _) => cur.push(c),
        }
    }
    out.push(cur);
    out
}

/// Collapses white space and drops the trailing commas some registrations carry
/// (`Siemens AG,`).
fn clean_name(s: &str) -> String {
    let joined = s.split_whitespace().collect::<Vec<_>>().join(" ");
    joined.trim_end_matches([',', ' ']).to_string()
}

/// The generated OUI table's text, or `None` when the IEEE files are absent.
fn generate_oui() -> Option<String> {
    let dir = Path::new(IEEE_DIR);
    let stamp = std::fs::read_to_string(dir.join(".lastupdate")).ok()?;
    let secs: i64 = stamp.trim().parse().ok()?;
    let source_date = date::iso_date(secs.div_euclid(86_400));
    let mut by_vendor: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut seen = std::collections::BTreeSet::new();
    for (file, digits) in REGISTRIES {
        let text = std::fs::read_to_string(dir.join(file)).ok()?;
        for line in text.lines().skip(1) {
            let f = csv_fields(line);
            let (Some(assignment), Some(name)) = (f.get(1), f.get(2)) else {
                continue;
            };
            let hex = assignment.trim().to_ascii_uppercase();
            let name = clean_name(name);
            if hex.len() != digits || !hex.chars().all(|c| c.is_ascii_hexdigit()) || name.is_empty()
            {
                continue;
            }
            if seen.insert(hex.clone()) {
                by_vendor.entry(name).or_default().push(hex);
            }
        }
    }
    let mut out = String::new();
    out.push_str("# generated — do not edit. Regenerate with:\n");
    out.push_str("#   cargo test -p mamori-assets --test generate -- --ignored\n");
    out.push_str(
        "# Source: IEEE Registration Authority public registries MA-L, MA-M, MA-S and IAB,\n",
    );
    out.push_str(
        "# as packaged by Debian ieee-data (/usr/share/ieee-data/{oui,mam,oui36,iab}.csv).\n",
    );
    out.push_str(&format!("# source-date: {source_date}\n"));
    out.push_str("# Format: vendor<TAB>prefixes, space separated, hex: 6 digits MA-L (24 bits),\n");
    out.push_str("# 7 MA-M (28 bits), 9 MA-S or IAB (36 bits). One line per vendor name.\n");
    for (vendor, mut prefixes) in by_vendor {
        prefixes.sort();
        out.push_str(&vendor);
        out.push('\t');
        out.push_str(&prefixes.join(" "));
        out.push('\n');
    }
    Some(out)
}

/// One entry of `data/eol.txt`.
struct EolEntry {
    name: String,
    aliases: Vec<String>,
    days: i64,
    date: String,
    reference: String,
}

fn parse_eol_source(text: &str) -> Result<Vec<EolEntry>, String> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        let [name, aliases, date_text, reference] = cols[..] else {
            return Err(format!(
                "eol.txt line {}: want 4 columns separated by |",
                n + 1
            ));
        };
        let days = date::parse_iso_date(date_text)
            .ok_or_else(|| format!("eol.txt line {}: bad date {date_text:?}", n + 1))?;
        if reference.is_empty() {
            return Err(format!("eol.txt line {}: no reference", n + 1));
        }
        let mut aliases: Vec<String> = aliases
            .split(';')
            .map(|a| a.trim().to_ascii_lowercase())
            .filter(|a| !a.is_empty())
            .collect();
        aliases.push(name.to_ascii_lowercase());
        out.push(EolEntry {
            name: name.to_string(),
            aliases,
            days,
            date: date_text.to_string(),
            reference: reference.to_string(),
        });
    }
    Ok(out)
}

fn generate_eol() -> Result<String, String> {
    let text = std::fs::read_to_string(crate_path("data/eol.txt")).map_err(|e| e.to_string())?;
    let entries = parse_eol_source(&text)?;
    let mut keys: BTreeMap<String, usize> = BTreeMap::new();
    for (i, e) in entries.iter().enumerate() {
        for a in &e.aliases {
            if let Some(prev) = keys.insert(a.clone(), i)
                && prev != i
            {
                return Err(format!("alias {a:?} names two entries"));
            }
        }
    }
    let mut out = String::new();
    out.push_str(
        "// generated — do not edit. Source: crates/assets/data/eol.txt (hand-maintained,\n",
    );
    out.push_str("// with the vendor lifecycle pages each date comes from). Regenerate with:\n");
    out.push_str("//   cargo test -p mamori-assets --test generate -- --ignored\n\n");
    out.push_str("/// Operating systems and their end of support: `(name, ISO date, day number, reference)`.\n");
    out.push_str("pub(crate) const EOL: &[(&str, &str, i64, &str)] = &[\n");
    for e in &entries {
        out.push_str(&format!(
            "    ({:?}, {:?}, {}, {:?}),\n",
            e.name, e.date, e.days, e.reference
        ));
    }
    out.push_str("];\n\n");
    out.push_str("/// Lower-case names and aliases, sorted, with their index in [`EOL`].\n");
    out.push_str("pub(crate) const EOL_KEYS: &[(&str, usize)] = &[\n");
    for (k, i) in &keys {
        out.push_str(&format!("    ({k:?}, {i}),\n"));
    }
    out.push_str("];\n");
    Ok(out)
}

#[test]
#[ignore = "writes the generated tables; run with --ignored"]
fn regenerate() {
    match generate_oui() {
        Some(t) => std::fs::write(crate_path("data/oui.tsv"), t).expect("write oui.tsv"),
        None => eprintln!("skip: {IEEE_DIR} is absent (apt-get install ieee-data)"),
    }
    let eol = generate_eol().expect("eol.txt");
    std::fs::write(crate_path("src/eol_table.rs"), eol).expect("write eol_table.rs");
}

#[test]
fn committed_oui_table_is_the_generators_output() {
    let committed = std::fs::read_to_string(crate_path("data/oui.tsv")).expect("oui.tsv");
    let Some(fresh) = generate_oui() else {
        eprintln!("skip: {IEEE_DIR} is absent (apt-get install ieee-data)");
        return;
    };
    let date = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("# source-date"))
            .map(str::to_owned)
    };
    if date(&committed) != date(&fresh) {
        eprintln!("skip: installed ieee-data is not the version the table was made from");
        return;
    }
    assert!(
        committed == fresh,
        "data/oui.tsv differs from the generator's output"
    );
}

#[test]
fn committed_eol_table_is_the_generators_output() {
    let committed = std::fs::read_to_string(crate_path("src/eol_table.rs")).expect("eol_table.rs");
    let fresh = generate_eol().expect("eol.txt parses");
    assert!(committed == fresh, "src/eol_table.rs is stale: regenerate");
}

#[test]
fn csv_quoting() {
    assert_eq!(
        csv_fields(r#"MA-S,70B3D5F2F,"A, ""B"" C",x"#),
        vec!["MA-S", "70B3D5F2F", r#"A, "B" C"#, "x"]
    );
}
