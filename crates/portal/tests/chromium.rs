//! A real browser against a real server: headless Chromium logs in to a seeded
//! portal on 127.0.0.1, visits every page in English and Japanese, checks what
//! the page says (asset names, alert rows) and saves a screenshot of each under
//! `target/portal-screenshots/`.
//!
//! Skipped, with a message, when `/usr/bin/chromium` is absent (Debian's
//! `chromium` package; `.ci/run` installs it). The browser is driven over the
//! DevTools protocol on a pipe (`--remote-debugging-pipe`: JSON messages ending
//! in NUL on file descriptors 3 and 4), which needs no WebSocket client.

use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use mamori_portal::{AppState, PortalConfig, Role, seed, set_password};
use mamori_store::SqliteStore;
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const WAIT: Duration = Duration::from_secs(30);

struct Browser {
    child: Child,
    input: ChildStdin,
    output: Receiver<Value>,
    next_id: u64,
    session: String,
}

impl Browser {
    fn start(profile: &std::path::Path) -> Browser {
        let script = format!(
            "exec {CHROMIUM} --headless --no-sandbox --disable-gpu --no-first-run --disable-extensions \
             --disable-dev-shm-usage --hide-scrollbars --user-data-dir={} --remote-debugging-pipe \
             3<&0 4>&1 0</dev/null 1>/dev/null 2>/dev/null",
            profile.display()
        );
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start chromium");
        let input = child.stdin.take().expect("stdin");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            loop {
                let mut buf = Vec::new();
                match r.read_until(0, &mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        buf.pop();
                        if let Ok(v) = serde_json::from_slice::<Value>(&buf)
                            && tx.send(v).is_err()
                        {
                            return;
                        }
                    }
                }
            }
        });
        let mut b = Browser {
            child,
            input,
            output: rx,
            next_id: 0,
            session: String::new(),
        };
        let target = b.call("Target.createTarget", json!({ "url": "about:blank" }));
        let tid = target["targetId"].as_str().expect("target id").to_string();
        let att = b.call(
            "Target.attachToTarget",
            json!({ "targetId": tid, "flatten": true }),
        );
        b.session = att["sessionId"].as_str().expect("session id").to_string();
        b.call("Page.enable", json!({}));
        b.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": false }),
        );
        b
    }

    /// Sends a command (to the page session once attached) and waits for its answer.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if !self.session.is_empty() {
            msg["sessionId"] = Value::String(self.session.clone());
        }
        let mut bytes = serde_json::to_vec(&msg).expect("json");
        bytes.push(0);
        self.input.write_all(&bytes).expect("write to chromium");
        self.input.flush().expect("flush");
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(v) if v["id"].as_u64() == Some(id) => {
                    assert!(v.get("error").is_none(), "{method}: {v}");
                    return v["result"].clone();
                }
                Ok(_) => continue,
                Err(RecvTimeoutError::Timeout) => panic!("{method}: no answer from chromium"),
                Err(RecvTimeoutError::Disconnected) => panic!("chromium exited"),
            }
        }
    }

    /// Waits for the page's load event.
    fn wait_load(&mut self) {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.output.recv_timeout(left) {
                Ok(v) if v["method"] == "Page.loadEventFired" => return,
                Ok(_) => continue,
                Err(_) => panic!("page did not load"),
            }
        }
    }

    fn goto(&mut self, url: &str) {
        self.call("Page.navigate", json!({ "url": url }));
        self.wait_load();
    }

    fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": expr, "returnByValue": true, "awaitPromise": true }),
        );
        r["result"]["value"].clone()
    }

    fn screenshot(&mut self, path: &std::path::Path) {
        let m = self.call("Page.getLayoutMetrics", json!({}));
        let w = m["cssContentSize"]["width"]
            .as_f64()
            .unwrap_or(1400.0)
            .max(1400.0);
        let h = m["cssContentSize"]["height"]
            .as_f64()
            .unwrap_or(1000.0)
            .clamp(600.0, 4000.0);
        let shot = self.call(
            "Page.captureScreenshot",
            json!({ "format": "png", "captureBeyondViewport": true, "clip": { "x": 0, "y": 0, "width": w, "height": h, "scale": 1 } }),
        );
        let data = base64_decode(shot["data"].as_str().expect("png data"));
        assert!(data.starts_with(b"\x89PNG"), "a PNG");
        std::fs::write(path, data).expect("write screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let Some(v) = val(c) else { continue };
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    out
}

fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("portal-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// Pages to visit: path, a name for the file, texts the page must show in
/// (English, Japanese).
const PAGES: &[(&str, &str, &[&str], &[&str])] = &[
    (
        "/",
        "overview",
        &["Overview", "Newest assets", "Recent alerts"],
        &["概要", "新しい資産", "最近のアラート"],
    ),
    (
        "/assets",
        "assets",
        &["plc-0000", "Siemens", "Export CSV"],
        &["plc-0000", "CSV 出力"],
    ),
    (
        "/assets/mac:02:00:00:00:00:09",
        "asset",
        &["plc-0009", "Peers", "Everything the ledger knows"],
        &["plc-0009", "通信相手"],
    ),
    (
        "/matrix",
        "matrix",
        &["Device matrix", "Legend", "Siemens"],
        &["デバイスマトリクス", "凡例"],
    ),
    (
        "/matrix?color=role",
        "matrix-role",
        &["PLC", "HMI"],
        &["PLC", "ヒストリアン"],
    ),
    (
        "/map",
        "map",
        &["Network map", "10.10.1.0/24", "Download PNG"],
        &["ネットワークマップ", "10.10.1.0/24"],
    ),
    (
        "/traffic",
        "traffic",
        &[
            "Bandwidth per hour",
            "Top hosts by bytes",
            "Possible storms",
        ],
        &["1 時間ごとの帯域", "ストーム"],
    ),
    (
        "/diff",
        "diff",
        &["New communications", "Vanished assets"],
        &["新しい通信", "消えた資産"],
    ),
    (
        "/alerts",
        "alerts",
        &["Modbus write single coil", "Acknowledge"],
        &["Modbus write single coil", "確認"],
    ),
    (
        "/alerts/3",
        "alert",
        &["Evidence", "CS00000002a"],
        &["根拠", "CS00000002a"],
    ),
    (
        "/flows?host=10.10.1.9",
        "flows",
        &["Flow search", "modbus"],
        &["フロー検索"],
    ),
    (
        "/settings",
        "settings",
        &["Zones", "OT command watch list", "API tokens"],
        &["ゾーン", "OT コマンド監視リスト"],
    ),
    ("/account", "account", &["Second factor"], &["二要素認証"]),
];

#[test]
fn chromium_visits_every_page_in_both_languages() {
    if !std::path::Path::new(CHROMIUM).exists() {
        eprintln!("skipping: {CHROMIUM} is absent (apt-get install chromium to run this test)");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(SqliteStore::open(dir.path().join("m.db")).expect("store"));
    seed::plant(&*store, 300, 2_000).expect("seed");
    set_password(&*store, "admin", "browser test password", Role::Admin).expect("user");
    let config = PortalConfig {
        require_admin_totp: false,
        ..PortalConfig::default()
    };
    let app = mamori_portal::router(AppState::new(store, config));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    rt.spawn(async move {
        let _ = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    });
    let base = format!("http://{addr}");
    let profile = tempfile::tempdir().expect("profile");
    let mut b = Browser::start(profile.path());
    let shots = screenshot_dir();

    // Not logged in: the login form.
    b.goto(&format!("{base}/assets?lang=en"));
    assert_eq!(
        b.eval("document.querySelector('form[action=\"/login\"]') !== null"),
        Value::Bool(true)
    );
    b.screenshot(&shots.join("en-login.png"));
    b.eval(
        "document.querySelector('input[name=username]').value = 'admin';
         document.querySelector('input[name=password]').value = 'browser test password';
         document.querySelector('form[action=\"/login\"]').submit(); true",
    );
    b.wait_load();
    let url = b.eval("location.pathname");
    assert_eq!(
        url,
        Value::String("/assets".into()),
        "back where the login began"
    );

    for lang in ["en", "ja"] {
        for (path, name, en, ja) in PAGES {
            let sep = if path.contains('?') { '&' } else { '?' };
            b.goto(&format!("{base}{path}{sep}lang={lang}"));
            let text = b
                .eval("document.body.innerText")
                .as_str()
                .unwrap_or("")
                .to_string();
            let html_lang = b.eval("document.documentElement.lang");
            assert_eq!(html_lang, Value::String(lang.into()), "{path}");
            for want in if lang == "en" { *en } else { *ja } {
                assert!(
                    text.contains(want),
                    "{lang} {path} should show {want:?}; it shows:\n{}",
                    &text[..text.len().min(800)]
                );
            }
            b.screenshot(&shots.join(format!("{lang}-{name}.png")));
        }
    }
    // The matrix's cells name their assets on hover.
    b.goto(&format!("{base}/matrix?lang=en"));
    let titles = b.eval("document.querySelectorAll('svg.matrix a title').length");
    assert_eq!(titles, json!(256), "a full page of cells");
    // An operator action from the browser: acknowledge the newest alert.
    b.goto(&format!("{base}/alerts?lang=en"));
    b.eval("document.querySelector('form[action$=\"/status\"] button').click(); true");
    b.wait_load();
    let text = b
        .eval("document.body.innerText")
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        text.contains("Alert acknowledged."),
        "{}",
        &text[..text.len().min(500)]
    );
    // The vendored Swagger UI renders the OpenAPI document (its scripts run
    // under the portal's Content-Security-Policy).
    b.goto(&format!("{base}/api/docs"));
    let mut rendered = false;
    for _ in 0..40 {
        let text = b
            .eval("document.body.innerText")
            .as_str()
            .unwrap_or("")
            .to_string();
        if text.contains("/api/v1/assets") && text.contains("mamori API") {
            rendered = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    b.screenshot(&shots.join("en-api-docs.png"));
    assert!(rendered, "Swagger UI shows the API");
    eprintln!("screenshots in {}", shots.display());
}
