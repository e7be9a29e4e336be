//! `mamori serve`: the portal and REST API over the store.
//!
//! Binds to loopback unless the configuration says otherwise. On the first start
//! of a store it creates the `admin` user with a one-time password and prints it
//! (the password must be changed at the first login). Accepting an alert into the
//! baseline in the portal saves a new baseline version through the detect crate.

use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use mamori_portal::{AcceptHook, AppState, PortalConfig, Role};
use mamori_store::{PortalStore, SqliteStore};

use crate::cli::ServeArgs;
use crate::config::{self, Config};

pub(crate) fn run(args: &ServeArgs) -> anyhow::Result<ExitCode> {
    let config = config::load(args.config.as_deref())?;
    let path = args
        .db
        .clone()
        .or_else(|| config.store.path.clone())
        .unwrap_or_else(|| "mamori.db".into());
    serve(&path, &config, args.bind.as_deref(), None)?;
    Ok(ExitCode::SUCCESS)
}

/// Serves the store at `path` until Ctrl-C. `demo_login` sets a known admin
/// password (and no second factor) instead of printing a one-time one.
pub(crate) fn serve(
    path: &Path,
    config: &Config,
    bind: Option<&str>,
    demo_login: Option<(&str, &str)>,
) -> anyhow::Result<()> {
    let store = Arc::new(
        SqliteStore::open(path).with_context(|| format!("opening the store {}", path.display()))?,
    );
    let bind = bind.unwrap_or(&config.portal.bind);
    let bind: SocketAddr = bind
        .parse()
        .with_context(|| format!("portal.bind: {bind:?} is not an address:port"))?;
    let portal = PortalConfig {
        bind,
        allow_remote: config.portal.allow_remote,
        require_admin_totp: demo_login.is_none(),
        ..PortalConfig::default()
    };
    match demo_login {
        Some((user, password)) => {
            mamori_portal::set_password(store.as_ref(), user, password, Role::Admin)
                .map_err(|e| anyhow::anyhow!("setting the demo login: {e}"))?;
        }
        None => {
            if let Some(password) = mamori_portal::ensure_admin(store.as_ref())
                .map_err(|e| anyhow::anyhow!("creating the first user: {e}"))?
            {
                println!(
                    "First start: user `admin`, one-time password `{password}` (change it at the first login)."
                );
            }
        }
    }
    let accept_store = Arc::clone(&store);
    let accept: AcceptHook = Arc::new(move |alert| {
        crate::cmd::alerts::accept_into_baseline(&accept_store, alert)
            .map(|_| ())
            .map_err(|e| format!("{e:#}"))
    });
    let shared: Arc<dyn PortalStore> = store;
    let state = AppState::new(shared, portal).with_accept(accept);
    println!("Portal: http://{bind}/ (Ctrl-C stops it)");
    if let Some((user, password)) = demo_login {
        println!("Login: {user} / {password}");
    }
    mamori_portal::serve_blocking(state).map_err(|e| anyhow::anyhow!("{e}"))
}
