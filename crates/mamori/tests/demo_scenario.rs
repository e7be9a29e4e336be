//! Acceptance of the plant simulator and the whole chain (issue 3, item 1): after
//! learning a normal day, the incident day raises every alert of its ground truth,
//! and another normal day raises at most one alert that learning had not seen.
//! Days are one hour here (attacks packed a minute apart) so the test stays quick;
//! `mamori demo` runs the same with 24-hour days.

use std::collections::BTreeSet;
use std::path::Path;

mod common;

fn ok(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The fingerprints of an `alerts.jsonl`.
fn fingerprints(logs: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(logs.join("alerts.jsonl")).unwrap();
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["fingerprint"].as_str().unwrap().to_string(),
                v["summary"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect()
}

#[test]
fn the_incident_raises_its_ground_truth_and_a_normal_day_stays_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let demo_dir = dir.path().join("demo");
    let db = dir.path().join("demo.db");
    let out = common::run_mamori(&[
        "demo",
        "--hours",
        "1",
        "--no-serve",
        "-q",
        "--dir",
        demo_dir.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    let stdout = ok(&out);
    let line = stdout
        .lines()
        .find(|l| l.contains("expected alerts raised"))
        .unwrap_or_else(|| panic!("no verdict line in:\n{stdout}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let (found, expected): (usize, usize) = (words[0].parse().unwrap(), words[2].parse().unwrap());
    assert!(expected >= 15, "the incident has its attacks: {line}");
    assert_eq!(found, expected, "every expected alert is raised:\n{stdout}");

    // A normal hour (another seed) against a baseline learned from the first three
    // hours of a normal night: rare operator writes need more than an hour to learn.
    let config = demo_dir.join("mamori-demo.toml");
    let db2 = dir.path().join("normal.db");
    let learn = dir.path().join("learn.pcapng");
    let normal = dir.path().join("normal-seed2.pcapng");
    for (seed, hours, path) in [("1", "3", &learn), ("2", "1", &normal)] {
        ok(&common::run_mamori(&[
            "simulate",
            "--hours",
            hours,
            "--seed",
            seed,
            "--out",
            path.to_str().unwrap(),
        ]));
    }
    let learn_logs = dir.path().join("learn-logs");
    let logs = dir.path().join("logs");
    for (path, logs, extra) in [
        (&learn, &learn_logs, Some("--learn")),
        (&normal, &logs, None),
    ] {
        let mut args = vec![
            "analyze",
            path.to_str().unwrap(),
            "-q",
            "--db",
            db2.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
            "--logs",
            logs.to_str().unwrap(),
        ];
        args.extend(extra);
        ok(&common::run_mamori(&args));
    }
    // Alerts that also fired while learning (an end-of-support OS, say) are findings
    // about the plant, not about the day; what counts is what is new.
    let learned: BTreeSet<String> = fingerprints(&learn_logs)
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    let new: Vec<_> = fingerprints(&logs)
        .into_iter()
        .filter(|(f, _)| !learned.contains(f))
        .collect();
    assert!(
        new.len() <= 1,
        "a normal day raises at most one new alert, got {new:#?}"
    );

    // The ledger and the exports see the plant.
    let assets = std::fs::read_to_string(logs.join("assets.jsonl")).unwrap();
    assert!(assets.lines().count() >= 20, "{assets}");
    assert!(assets.contains("\"role\":\"plc\""));
    let csv = common::run_mamori(&[
        "assets",
        "export",
        "--db",
        db.to_str().unwrap(),
        "--lang",
        "ja",
    ]);
    ok(&csv);
    let csv = csv.stdout;
    assert!(csv.starts_with(b"\xef\xbb\xbf"), "CSV starts with a BOM");
    assert!(String::from_utf8_lossy(&csv).contains("\r\n"));

    // Accepting an alert saves a new baseline version.
    let listed = ok(&common::run_mamori(&[
        "alerts",
        "list",
        "--db",
        db.to_str().unwrap(),
    ]));
    let first_id = listed
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().next())
        .expect("an alert");
    let accepted = ok(&common::run_mamori(&[
        "alerts",
        "accept",
        first_id,
        "--db",
        db.to_str().unwrap(),
    ]));
    assert!(accepted.contains("baseline version"), "{accepted}");
}
