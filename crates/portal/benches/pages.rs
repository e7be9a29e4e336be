//! Server time per page over a large store: 10,000 assets, 100,000 alerts and
//! two days of hourly flows among 2,000 of the assets (about 110,000 hourly
//! rows). Each page is requested through the router (no socket) once cold
//! (timed: flow summaries not cached yet, unless an earlier page read the same
//! ones) and then `RUNS` times; the median and the worst are printed, and pages
//! over the 100 ms target are flagged. Run with
//! `cargo bench -p mamori-portal --bench pages`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use mamori_portal::{AppState, PortalConfig, Role, seed, set_password};
use mamori_store::SqliteStore;
use tower::ServiceExt;

const RUNS: usize = 7;
const TARGET: Duration = Duration::from_millis(100);

async fn call(
    app: &axum::Router,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let res = app.clone().oneshot(req).await.expect("router answers");
    let status = res.status();
    let headers = res.headers().clone();
    let body = res.into_body().collect().await.expect("body").to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn cookie(headers: &axum::http::HeaderMap, name: &str) -> String {
    headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(name))
        .and_then(|v| v.split(';').next())
        .unwrap_or("")
        .to_string()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = Arc::new(SqliteStore::open(dir.path().join("bench.db")).expect("store"));
    let t = Instant::now();
    seed::assets(&*store, 10_000).expect("assets");
    seed::flows(&*store, 2_000).expect("flows");
    seed::alerts(&*store, 100_000, 10_000).expect("alerts");
    set_password(&*store, "admin", "benchmark password", Role::Admin).expect("user");
    println!(
        "seeded 10,000 assets, 100,000 alerts and hourly flows in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let app = mamori_portal::router(AppState::new(
        store.clone(),
        PortalConfig {
            require_admin_totp: false,
            ..PortalConfig::default()
        },
    ));

    let (_, h, body) = call(
        &app,
        Request::get("/login").body(Body::empty()).expect("req"),
    )
    .await;
    let pre = cookie(&h, "mamori_pre=");
    let at = body.find("name=\"csrf\" value=\"").expect("csrf") + 19;
    let csrf = &body[at..at + 64];
    let form = format!("csrf={csrf}&next=%2F&username=admin&password=benchmark+password");
    let (status, h, _) = call(
        &app,
        Request::post("/login")
            .header(header::COOKIE, pre)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(form))
            .expect("req"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "login");
    let session = cookie(&h, "mamori_session=");

    let pages = [
        "/",
        "/assets",
        "/assets?sort=vendor&dir=desc&page=150",
        "/assets?q=siemens&role=plc",
        "/assets/mac:02:00:00:00:00:07",
        "/matrix",
        "/matrix?color=os&page=38",
        "/map",
        "/map?limit=1000",
        "/traffic",
        "/diff",
        "/flows?host=10.10.1.9",
        "/alerts",
        "/alerts?severity=high&kind=ot_command",
        "/alerts?host=10.10.1.9",
        "/alerts/50000",
        "/settings",
        "/assets.csv",
        "/api/v1/assets?limit=1000",
        "/api/v1/alerts?limit=1000",
        "/api/v1/diff",
    ];
    println!(
        "{:<42} {:>8} {:>10} {:>8} {:>6}",
        "page", "cold ms", "median ms", "max ms", "KiB"
    );
    let mut over = 0;
    let mut cold_over = 0;
    for p in pages {
        let req = || {
            Request::get(p)
                .header(header::COOKIE, &session)
                .body(Body::empty())
                .expect("req")
        };
        let t = Instant::now();
        let (status, _, body) = call(&app, req()).await;
        let cold = t.elapsed();
        assert_eq!(status, StatusCode::OK, "{p}");
        let mut times = Vec::with_capacity(RUNS);
        for _ in 0..RUNS {
            let t = Instant::now();
            let (status, _, _) = call(&app, req()).await;
            times.push(t.elapsed());
            assert_eq!(status, StatusCode::OK, "{p}");
        }
        times.sort();
        let (median, max) = (times[RUNS / 2], times[RUNS - 1]);
        let flag = if median > TARGET {
            over += 1;
            "  OVER TARGET"
        } else {
            ""
        };
        if cold > TARGET {
            cold_over += 1;
        }
        println!(
            "{:<42} {:>8.1} {:>10.1} {:>8.1} {:>6}{flag}",
            p,
            cold.as_secs_f64() * 1e3,
            median.as_secs_f64() * 1e3,
            max.as_secs_f64() * 1e3,
            body.len() / 1024
        );
    }
    println!(
        "{over} page(s) over {} ms (median), {cold_over} on the first request (cold caches)",
        TARGET.as_millis()
    );
}
