//! Every route through the router with `oneshot`, no socket: logged out (401),
//! as a viewer (reads, but 403 on operator and admin actions), as an operator
//! and as an admin; CSRF rejections, login rate limits, TOTP, the API with
//! tokens, CSV, downloads and the language switch.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use mamori_portal::{
    AppState, PortalConfig, Role, create_api_token, seed, set_password, totp_code,
};
use mamori_store::{AlertStatus, LedgerStore, PortalStore, SqliteStore};
use tower::ServiceExt;

const PW: &str = "correct horse battery";

struct Fixture {
    _dir: tempfile::TempDir,
    store: Arc<SqliteStore>,
    app: Router,
    accepted: Arc<AtomicUsize>,
}

fn fixture(config: PortalConfig) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(SqliteStore::open(dir.path().join("m.db")).expect("open store"));
    seed::plant(&*store, 120, 400).expect("seed");
    for (name, role) in [
        ("admin", Role::Admin),
        ("op", Role::Operator),
        ("viewer", Role::Viewer),
    ] {
        set_password(&*store, name, PW, role).expect("user");
    }
    let accepted = Arc::new(AtomicUsize::new(0));
    let seen = accepted.clone();
    let state = AppState::new(store.clone(), config).with_accept(Arc::new(move |a| {
        if a.kind == "scan" {
            return Err("scans cannot be accepted".into());
        }
        seen.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }));
    Fixture {
        _dir: dir,
        store,
        app: mamori_portal::router(state),
        accepted,
    }
}

fn config() -> PortalConfig {
    PortalConfig {
        require_admin_totp: false,
        ..PortalConfig::default()
    }
}

struct Reply {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    body: String,
}

async fn send(app: &Router, req: Request<Body>) -> Reply {
    let res = app.clone().oneshot(req).await.expect("router answers");
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

async fn get(app: &Router, path: &str, cookie: Option<&str>) -> Reply {
    let mut b = Request::get(path);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    send(app, b.body(Body::empty()).expect("request")).await
}

async fn post_form(app: &Router, path: &str, cookie: Option<&str>, form: &[(&str, &str)]) -> Reply {
    let body: Vec<String> = form
        .iter()
        .map(|(k, v)| format!("{k}={}", enc(v)))
        .collect();
    let mut b =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    send(app, b.body(Body::from(body.join("&"))).expect("request")).await
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The value of `name="csrf" value="…"` in a page.
fn csrf_of(body: &str) -> String {
    let at = body
        .find("name=\"csrf\" value=\"")
        .expect("page has a CSRF field");
    let rest = &body[at + 19..];
    rest[..rest.find('"').expect("closing quote")].to_string()
}

/// `name=value` of a Set-Cookie header for `name`.
fn cookie_of(r: &Reply, name: &str) -> Option<String> {
    r.headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| v.split(';').next().unwrap_or("").to_string())
}

async fn try_login(app: &Router, user: &str, pw: &str, code: &str) -> Reply {
    let page = get(app, "/login", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let pre = cookie_of(&page, "mamori_pre").expect("pre-login cookie");
    let csrf = csrf_of(&page.body);
    post_form(
        app,
        "/login",
        Some(&pre),
        &[
            ("csrf", &csrf),
            ("next", "/alerts"),
            ("username", user),
            ("password", pw),
            ("code", code),
        ],
    )
    .await
}

/// Logs in; returns the session cookie and the CSRF token of its pages.
async fn login(app: &Router, user: &str) -> (String, String) {
    let r = try_login(app, user, PW, "").await;
    assert_eq!(
        r.status,
        StatusCode::SEE_OTHER,
        "login of {user}: {}",
        r.body
    );
    assert_eq!(
        r.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok()),
        Some("/alerts")
    );
    let set = r
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("mamori_session="))
        .expect("session cookie")
        .to_string();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Secure"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap_or("").to_string();
    let page = get(app, "/", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let csrf = csrf_of(&page.body);
    (cookie, csrf)
}

const PAGES: &[&str] = &[
    "/",
    "/assets",
    "/assets?sort=vendor&dir=desc&role=plc&q=siemens&page=1",
    "/assets/mac:02:00:00:00:00:07",
    "/matrix",
    "/matrix?color=role",
    "/map",
    "/map?group=zone&service=modbus",
    "/traffic",
    "/diff",
    "/flows?host=10.10.1.9",
    "/flows?uid=CS00000001a",
    "/alerts",
    "/alerts?severity=high&kind=ot_command",
    "/alerts/3",
    "/account",
];

#[tokio::test]
async fn logged_out_requests_get_the_login_form_or_401() {
    let f = fixture(config());
    for path in PAGES
        .iter()
        .chain(&["/settings", "/assets.csv", "/map.svg"])
    {
        let r = get(&f.app, path, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(
            r.body.contains("action=\"/login\""),
            "{path} shows the login form"
        );
    }
    for path in [
        "/api/v1/assets",
        "/api/v1/assets/mac:02:00:00:00:00:07",
        "/api/v1/alerts",
        "/api/v1/alerts/1",
        "/api/v1/flows",
        "/api/v1/diff",
        "/api/v1/baselines",
    ] {
        let r = get(&f.app, path, None).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{path}");
        assert!(r.body.contains("\"error\""), "{path}");
    }
    let r = post_form(
        &f.app,
        "/alerts/1/status",
        None,
        &[("csrf", "x"), ("status", "acknowledged")],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    // Public: the login page, static files, the API description and docs.
    for path in [
        "/login",
        "/static/mamori.css",
        "/static/app.js",
        "/api/openapi.json",
        "/api/docs",
        "/api/docs/swagger-ui-bundle.js",
    ] {
        assert_eq!(
            get(&f.app, path, None).await.status,
            StatusCode::OK,
            "{path}"
        );
    }
    assert_eq!(
        get(&f.app, "/static/nope.css", None).await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_viewer_reads_every_page_but_changes_nothing() {
    let f = fixture(config());
    let (cookie, csrf) = login(&f.app, "viewer").await;
    for path in PAGES {
        let r = get(&f.app, path, Some(&cookie)).await;
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{path}: {}",
            &r.body[..r.body.len().min(300)]
        );
        assert!(
            r.headers.get(header::CONTENT_SECURITY_POLICY).is_some(),
            "{path}"
        );
    }
    let assets = get(&f.app, "/assets", Some(&cookie)).await.body;
    assert!(
        assets.contains("plc-0000") && assets.contains("Siemens"),
        "asset rows"
    );
    let asset = get(&f.app, "/assets/mac:02:00:00:00:00:07", Some(&cookie))
        .await
        .body;
    assert!(
        asset.contains("it-host-0007") && asset.contains("10.10.1.9"),
        "asset page"
    );
    assert!(
        asset.contains("modbus") || asset.contains("https"),
        "services from flows"
    );
    let alerts = get(&f.app, "/alerts", Some(&cookie)).await.body;
    assert!(alerts.contains("/alerts/400"), "newest alert listed");
    assert!(
        !alerts.contains("/status\""),
        "no workflow buttons for viewers"
    );
    let alert = get(&f.app, "/alerts/3", Some(&cookie)).await.body;
    assert!(
        alert.contains("href=\"/flows?uid=CS00000002a\""),
        "evidence uids link to the flow search"
    );
    let matrix = get(&f.app, "/matrix", Some(&cookie)).await.body;
    assert_eq!(
        matrix.matches("<a href=\"/assets/mac:").count(),
        120,
        "one cell per asset"
    );
    assert_eq!(
        matrix.matches("stroke-dasharray").count(),
        256 - 120,
        "empty cells"
    );
    assert!(matrix.contains("<title>plc-0000"), "hover names the asset");
    let map = get(&f.app, "/map", Some(&cookie)).await.body;
    assert!(map.contains("<svg class=\"map\""), "map drawn");
    assert!(map.contains("10.10.1.0/24"), "grouped by subnet");
    // Admin pages and operator actions are refused.
    assert_eq!(
        get(&f.app, "/settings", Some(&cookie)).await.status,
        StatusCode::FORBIDDEN
    );
    let r = post_form(
        &f.app,
        "/alerts/1/status",
        Some(&cookie),
        &[("csrf", &csrf), ("status", "acknowledged")],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = post_form(
        &f.app,
        "/settings/json/zones",
        Some(&cookie),
        &[("csrf", &csrf), ("value", "[]")],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = post_form(
        &f.app,
        "/settings/users",
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("username", "x"),
            ("role", "admin"),
            ("password", PW),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        f.store.alert(1).expect("read").expect("alert").status,
        AlertStatus::Open
    );
    assert!(f.store.user_by_name("x").expect("read").is_none());
}

#[tokio::test]
async fn operators_acknowledge_and_accept_with_csrf() {
    let f = fixture(config());
    let (cookie, csrf) = login(&f.app, "op").await;
    // Missing or wrong CSRF token.
    let r = post_form(
        &f.app,
        "/alerts/1/status",
        Some(&cookie),
        &[("csrf", "wrong"), ("status", "acknowledged")],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = post_form(&f.app, "/logout", Some(&cookie), &[("csrf", "")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(
        f.store.alert(1).expect("read").expect("alert").status,
        AlertStatus::Open
    );
    // With the token.
    let r = post_form(
        &f.app,
        "/alerts/1/status",
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("status", "acknowledged"),
            ("back", "/alerts"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let a = f.store.alert(1).expect("read").expect("alert");
    assert_eq!(
        (a.status, a.status_by.as_deref()),
        (AlertStatus::Acknowledged, Some("op"))
    );
    let r = post_form(
        &f.app,
        "/alerts/2/status",
        Some(&cookie),
        &[("csrf", &csrf), ("status", "accepted")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        f.store.alert(2).expect("read").expect("alert").status,
        AlertStatus::Accepted
    );
    assert_eq!(f.accepted.load(Ordering::SeqCst), 1, "the accept hook ran");
    // The hook refuses scans (kind index 4 → alert id 5): status unchanged, message shown.
    let r = post_form(
        &f.app,
        "/alerts/5/status",
        Some(&cookie),
        &[("csrf", &csrf), ("status", "accepted")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        r.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|l| l.contains("msg=hook"))
    );
    assert_eq!(
        f.store.alert(5).expect("read").expect("alert").status,
        AlertStatus::Open
    );
    assert_eq!(
        post_form(
            &f.app,
            "/alerts/999999/status",
            Some(&cookie),
            &[("csrf", &csrf), ("status", "accepted")]
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    // Operators are not admins.
    assert_eq!(
        get(&f.app, "/settings", Some(&cookie)).await.status,
        StatusCode::FORBIDDEN
    );
    // Logging out ends the session.
    let r = post_form(&f.app, "/logout", Some(&cookie), &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        get(&f.app, "/", Some(&cookie)).await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn admins_manage_settings_users_and_tokens() {
    let f = fixture(config());
    let (cookie, csrf) = login(&f.app, "admin").await;
    let page = get(&f.app, "/settings", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("viewer") && page.body.contains("op"));
    let zones = r#"[{"name":"Cell A","cidrs":["10.10.1.0/24"]}]"#;
    let r = post_form(
        &f.app,
        "/settings/json/zones",
        Some(&cookie),
        &[("csrf", &csrf), ("value", zones)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        f.store
            .setting("zones")
            .expect("read")
            .expect("set")
            .contains("Cell A")
    );
    let map = get(&f.app, "/map?group=zone", Some(&cookie)).await.body;
    assert!(map.contains("Cell A"), "the map groups by the zone");
    let r = post_form(
        &f.app,
        "/settings/json/zones",
        Some(&cookie),
        &[("csrf", &csrf), ("value", "{oops")],
    )
    .await;
    assert!(
        r.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|l| l.contains("settings-bad-json"))
    );
    assert_eq!(
        post_form(
            &f.app,
            "/settings/json/nope",
            Some(&cookie),
            &[("csrf", &csrf), ("value", "[]")]
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post_form(
            &f.app,
            "/settings/json/zones",
            Some(&cookie),
            &[("csrf", "bad"), ("value", "[]")]
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    // Users.
    let r = post_form(
        &f.app,
        "/settings/users",
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("username", "newbie"),
            ("role", "operator"),
            ("password", PW),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let u = f
        .store
        .user_by_name("newbie")
        .expect("read")
        .expect("created");
    assert!(u.must_change_password);
    let r = post_form(
        &f.app,
        &format!("/settings/users/{}", u.id),
        Some(&cookie),
        &[("csrf", &csrf), ("role", "viewer"), ("action", "disable")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let u = f.store.user(u.id).expect("read").expect("user");
    assert!(u.disabled && u.role == Role::Viewer);
    let me = f.store.user_by_name("admin").expect("read").expect("admin");
    let r = post_form(
        &f.app,
        &format!("/settings/users/{}", me.id),
        Some(&cookie),
        &[("csrf", &csrf), ("role", "admin"), ("action", "delete")],
    )
    .await;
    assert!(
        r.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|l| l.contains("users-not-self"))
    );
    // Tokens: shown once, then usable.
    let r = post_form(
        &f.app,
        "/settings/tokens",
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("name", "ci"),
            ("user", &me.id.to_string()),
            ("days", "1"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    let at = r.body.find("mamori_").expect("token shown");
    let token: String = r.body[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let api = send(
        &f.app,
        Request::get("/api/v1/assets?limit=5")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(api.status, StatusCode::OK);
    let tid = f.store.api_tokens().expect("read")[0].id;
    let r = post_form(
        &f.app,
        &format!("/settings/tokens/{tid}/delete"),
        Some(&cookie),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let api = send(
        &f.app,
        Request::get("/api/v1/assets")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn login_rate_limit_per_user_and_per_address() {
    let f = fixture(PortalConfig {
        max_failures_per_user: 3,
        max_failures_per_ip: 6,
        ..config()
    });
    for _ in 0..3 {
        assert_eq!(
            try_login(&f.app, "viewer", "wrong password", "")
                .await
                .status,
            StatusCode::UNAUTHORIZED
        );
    }
    // Now even the right password is refused for this name.
    let r = try_login(&f.app, "viewer", PW, "").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    // Another name from the same address still works until the address limit.
    for _ in 0..3 {
        assert_eq!(
            try_login(&f.app, "nobody", "x", "").await.status,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        try_login(&f.app, "op", PW, "").await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Login CSRF: a form without the pre-login cookie is refused.
    let page = get(&f.app, "/login", None).await;
    let r = post_form(
        &f.app,
        "/login",
        None,
        &[
            ("csrf", &csrf_of(&page.body)),
            ("username", "admin"),
            ("password", PW),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn totp_is_required_once_enrolled_and_codes_are_single_use() {
    let f = fixture(PortalConfig {
        require_admin_totp: true,
        ..PortalConfig::default()
    });
    // An admin without a second factor can only reach the account page.
    let (cookie, csrf) = {
        let r = try_login(&f.app, "admin", PW, "").await;
        assert_eq!(r.status, StatusCode::SEE_OTHER);
        let c = cookie_of(&r, "mamori_session").expect("session");
        let acc = get(&f.app, "/account", Some(&c)).await;
        assert_eq!(acc.status, StatusCode::OK);
        (c, csrf_of(&acc.body))
    };
    let r = get(&f.app, "/assets", Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        r.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok()),
        Some("/account")
    );
    // Enrol: the page shows a secret; a wrong code is refused, the right one enrols.
    let acc = get(&f.app, "/account", Some(&cookie)).await.body;
    let at = acc.find("name=\"secret\" value=\"").expect("secret field") + 21;
    let secret: String = acc[at..].chars().take_while(|c| *c != '"').collect();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let r = post_form(
        &f.app,
        "/account/totp",
        Some(&cookie),
        &[("csrf", &csrf), ("secret", &secret), ("code", "000000")],
    )
    .await;
    assert!(
        r.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|l| l.contains("bad-code"))
    );
    let code = totp_code(&secret, now).expect("code");
    let r = post_form(
        &f.app,
        "/account/totp",
        Some(&cookie),
        &[("csrf", &csrf), ("secret", &secret), ("code", &code)],
    )
    .await;
    assert!(
        r.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|l| l.contains("msg=totp"))
    );
    assert_eq!(
        get(&f.app, "/assets", Some(&cookie)).await.status,
        StatusCode::OK
    );
    // Logging in now needs a code; the one used to enrol is spent.
    let r = try_login(&f.app, "admin", PW, "").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.body.contains("autocomplete=\"one-time-code\" pattern"),
        "asks for the code"
    );
    assert_eq!(
        try_login(&f.app, "admin", PW, &code).await.status,
        StatusCode::UNAUTHORIZED,
        "replayed code"
    );
    let next = totp_code(&secret, now + 30).expect("code");
    assert_eq!(
        try_login(&f.app, "admin", PW, &next).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        try_login(&f.app, "admin", "wrong password", &next)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn one_time_passwords_must_be_changed() {
    let f = fixture(config());
    let first = {
        let dir = tempfile::tempdir().expect("dir");
        let s = SqliteStore::open(dir.path().join("x.db")).expect("store");
        let pw = mamori_portal::ensure_admin(&s)
            .expect("ensure")
            .expect("created");
        assert!(
            mamori_portal::ensure_admin(&s).expect("ensure").is_none(),
            "only once"
        );
        pw
    };
    assert_eq!(first.len(), 16);
    let u = f.store.user_by_name("viewer").expect("read").expect("user");
    f.store
        .update_user(&mamori_store::UserRow {
            must_change_password: true,
            ..u
        })
        .expect("update");
    let (cookie, _) = {
        let r = try_login(&f.app, "viewer", PW, "").await;
        let c = cookie_of(&r, "mamori_session").expect("session");
        (c, ())
    };
    let r = get(&f.app, "/", Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let acc = get(&f.app, "/account", Some(&cookie)).await;
    let csrf = csrf_of(&acc.body);
    let new = "a much better password";
    let r = post_form(
        &f.app,
        "/account/password",
        Some(&cookie),
        &[
            ("csrf", &csrf),
            ("current", PW),
            ("new", new),
            ("repeat", new),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        !f.store
            .user_by_name("viewer")
            .expect("read")
            .expect("user")
            .must_change_password
    );
    assert_eq!(
        try_login(&f.app, "viewer", new, "").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn csv_export_is_utf8_with_bom_and_follows_the_filter() {
    let f = fixture(config());
    let (cookie, _) = login(&f.app, "viewer").await;
    let r = get(&f.app, "/assets.csv?role=plc&lang=ja", Some(&cookie)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        r.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/csv"))
    );
    assert!(r.body.starts_with('\u{feff}'), "BOM");
    let lines: Vec<&str> = r.body.lines().collect();
    assert!(
        lines[0].contains("ベンダー"),
        "Japanese headers: {}",
        lines[0]
    );
    assert_eq!(lines.len() - 1, 30, "120 assets, a quarter PLCs");
    assert!(lines.iter().skip(1).all(|l| l.contains(",PLC,")));
    let svg = get(&f.app, "/map.svg", Some(&cookie)).await;
    assert_eq!(
        svg.headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("image/svg+xml; charset=utf-8")
    );
    assert!(svg.body.contains("xmlns=\"http://www.w3.org/2000/svg\""));
}

#[tokio::test]
async fn language_follows_the_browser_and_the_switch() {
    let f = fixture(config());
    let (cookie, _) = login(&f.app, "viewer").await;
    let ja = send(
        &f.app,
        Request::get("/alerts")
            .header(header::COOKIE, &cookie)
            .header(header::ACCEPT_LANGUAGE, "ja-JP,ja;q=0.9")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert!(ja.body.contains("<html lang=\"ja\"") && ja.body.contains("アラート"));
    let en = get(&f.app, "/alerts?lang=en", Some(&cookie)).await;
    assert!(en.body.contains("<html lang=\"en\"") && en.body.contains("Alerts"));
    assert_eq!(cookie_of(&en, "lang").as_deref(), Some("lang=en"));
    let login_ja = send(
        &f.app,
        Request::get("/login")
            .header(header::ACCEPT_LANGUAGE, "ja")
            .body(Body::empty())
            .expect("req"),
    )
    .await;
    assert!(login_ja.body.contains("ログイン"));
}

#[tokio::test]
async fn the_api_answers_with_tokens_and_sessions() {
    let f = fixture(config());
    let viewer = f
        .store
        .user_by_name("viewer")
        .expect("read")
        .expect("viewer");
    let op = f.store.user_by_name("op").expect("read").expect("op");
    let vt = create_api_token(&*f.store, viewer.id, "v", None).expect("token");
    let ot = create_api_token(&*f.store, op.id, "o", None).expect("token");
    let call = |method: &str, path: &str, token: &str, body: Option<&str>| {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        if body.is_some() {
            b = b.header(header::CONTENT_TYPE, "application/json");
        }
        b.body(Body::from(body.unwrap_or("").to_string()))
            .expect("req")
    };
    let r = send(
        &f.app,
        call("GET", "/api/v1/assets?role=plc&limit=3", &vt, None),
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(v["total"], 30);
    assert_eq!(v["items"].as_array().map(Vec::len), Some(3));
    let r = send(
        &f.app,
        call("GET", "/api/v1/assets/mac:02:00:00:00:00:07", &vt, None),
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(v["hostname"], "it-host-0007");
    assert!(
        v["detail"]["vendor"]["source"].is_string(),
        "detail as JSON"
    );
    assert_eq!(
        send(&f.app, call("GET", "/api/v1/assets/mac:nope", &vt, None))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let r = send(
        &f.app,
        call("GET", "/api/v1/alerts?severity=critical&limit=2", &vt, None),
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    let critical = (0..400).filter(|i| (i / 3) % 4 == 3).count();
    assert_eq!(v["total"], critical);
    assert!(v["items"][0]["evidence"]["uids"].is_array());
    assert_eq!(
        send(
            &f.app,
            call("GET", "/api/v1/alerts?status=bogus", &vt, None)
        )
        .await
        .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        send(&f.app, call("GET", "/api/v1/alerts/7", &vt, None))
            .await
            .status,
        StatusCode::OK
    );
    let r = send(
        &f.app,
        call("GET", "/api/v1/flows?host=10.10.1.9&limit=5", &vt, None),
    )
    .await;
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert_eq!(v.as_array().map(Vec::len), Some(5));
    assert_eq!(
        send(&f.app, call("GET", "/api/v1/flows?host=nope", &vt, None))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    let r = send(&f.app, call("GET", "/api/v1/diff", &vt, None)).await;
    let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
    assert!(
        v["new_comms"].as_array().is_some_and(|a| !a.is_empty()),
        "day two adds 4840/tcp"
    );
    assert_eq!(
        send(&f.app, call("GET", "/api/v1/baselines", &vt, None))
            .await
            .status,
        StatusCode::OK
    );
    // Status changes: viewers 403, operators 200.
    let body = Some(r#"{"status":"acknowledged"}"#);
    assert_eq!(
        send(&f.app, call("POST", "/api/v1/alerts/9/status", &vt, body))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let r = send(&f.app, call("POST", "/api/v1/alerts/9/status", &ot, body)).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        f.store.alert(9).expect("read").expect("alert").status,
        AlertStatus::Acknowledged
    );
    let r = send(
        &f.app,
        call(
            "POST",
            "/api/v1/alerts/13/status",
            &ot,
            Some(r#"{"status":"accepted"}"#),
        ),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::CONFLICT,
        "alert 13 is a scan: the hook refuses"
    );
    // With a session, a write needs the CSRF header.
    let (cookie, csrf) = login(&f.app, "op").await;
    let mk = |csrf: Option<&str>| {
        let mut b = Request::post("/api/v1/alerts/10/status")
            .header(header::COOKIE, &cookie)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(c) = csrf {
            b = b.header("x-csrf-token", c);
        }
        b.body(Body::from(r#"{"status":"acknowledged"}"#))
            .expect("req")
    };
    assert_eq!(send(&f.app, mk(None)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(send(&f.app, mk(Some(&csrf))).await.status, StatusCode::OK);
    // The OpenAPI document names every path.
    let doc = get(&f.app, "/api/openapi.json", None).await.body;
    for p in [
        "/api/v1/assets",
        "/api/v1/alerts/{id}/status",
        "/api/v1/flows",
        "/api/v1/diff",
        "/api/v1/baselines",
    ] {
        assert!(doc.contains(p), "{p}");
    }
    assert!(
        send(&f.app, call("GET", "/api/v1/assets", "mamori_0000", None))
            .await
            .status
            == StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn serving_beyond_loopback_needs_permission() {
    let f = fixture(config());
    let remote = PortalConfig {
        bind: "0.0.0.0:0".parse().expect("addr"),
        ..config()
    };
    let state = AppState::new(f.store.clone(), remote);
    let r = mamori_portal::serve_state(state, async {}).await;
    assert!(
        matches!(r, Err(mamori_portal::ServeError::NotLoopback(_))),
        "{r:?}"
    );
    // Loopback serves, and stops when told.
    let local = PortalConfig {
        bind: "127.0.0.1:0".parse().expect("addr"),
        ..config()
    };
    let r = mamori_portal::serve_state(AppState::new(f.store.clone(), local), async {}).await;
    assert!(r.is_ok(), "{r:?}");
}
