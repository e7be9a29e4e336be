//! Settings, for admins: zones and conduits, the OT command watch list,
//! notification targets (each a JSON document in the store's `settings` table,
//! read by the detectors and notifiers), users and API tokens.
//!
//! Settings are edited as JSON, checked on save: each must be an array of
//! objects, and zones must name valid CIDR blocks. The expected shapes:
//!
//! - `zones`: `[{"name": "Cell 1", "cidrs": ["10.0.1.0/24"], "level": 1}]`
//! - `conduits`: `[{"from": "Cell 1", "to": "DMZ", "protocols": ["modbus"]}]`
//! - `ot_watchlist`: `[{"protocol": "s7comm", "category": "program"}]`
//!   (`category` as in `ot.jsonl`, or `function` for one code)
//! - `notifications`: `[{"kind": "syslog", "target": "udp://192.0.2.5:514",
//!   "min_severity": "high"}]`

use std::net::IpAddr;

use axum::extract::{Form, Path, State};
use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use mamori_store::{PortalStore, Role, UserRow, unix_nanos_now};
use maud::{Markup, html};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{self, Auth, CurrentUser};
use crate::error::AppError;
use crate::i18n::Lang;
use crate::jsonview;
use crate::layout::{self, Ctx, notice, time_cell};

/// The JSON settings the page edits: key, title message, help message, example.
pub(crate) const JSON_SETTINGS: [(&str, &str, &str, &str); 4] = [
    (
        "zones",
        "settings-zones",
        "settings-zones-help",
        r#"[{"name": "Cell 1", "cidrs": ["10.0.1.0/24"], "level": 1}]"#,
    ),
    (
        "conduits",
        "settings-conduits",
        "settings-conduits-help",
        r#"[{"from": "Cell 1", "to": "DMZ", "protocols": ["modbus"]}]"#,
    ),
    (
        "ot_watchlist",
        "settings-watchlist",
        "settings-watchlist-help",
        r#"[{"protocol": "s7comm", "category": "program"}, {"protocol": "modbus", "category": "write"}]"#,
    ),
    (
        "notifications",
        "settings-notifications",
        "settings-notifications-help",
        r#"[{"kind": "syslog", "target": "udp://192.0.2.5:514", "min_severity": "high"}]"#,
    ),
];

/// A zone from the settings.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Zone {
    /// Its name.
    pub name: String,
    /// Its address blocks.
    #[serde(default)]
    pub cidrs: Vec<String>,
}

impl Zone {
    /// Whether one of the zone's blocks holds `addr`.
    pub(crate) fn contains(&self, addr: IpAddr) -> bool {
        self.cidrs
            .iter()
            .any(|c| cidr_contains(c, addr).unwrap_or(false))
    }
}

/// Whether CIDR block `cidr` holds `addr`; `None` when `cidr` is not one.
pub(crate) fn cidr_contains(cidr: &str, addr: IpAddr) -> Option<bool> {
    let (net, len) = cidr.split_once('/').unwrap_or((cidr, ""));
    let net: IpAddr = net.trim().parse().ok()?;
    match (net, addr) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let len: u32 = if len.is_empty() {
                32
            } else {
                len.parse().ok()?
            };
            if len > 32 {
                return None;
            }
            let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
            Some(u32::from(n) & mask == u32::from(a) & mask)
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let len: u32 = if len.is_empty() {
                128
            } else {
                len.parse().ok()?
            };
            if len > 128 {
                return None;
            }
            let mask = if len == 0 {
                0
            } else {
                u128::MAX << (128 - len)
            };
            Some(u128::from(n) & mask == u128::from(a) & mask)
        }
        _ => Some(false),
    }
}

/// The zones in the settings (none when unset or unreadable).
pub(crate) fn zones(store: &dyn PortalStore) -> Result<Vec<Zone>, AppError> {
    Ok(store
        .setting("zones")?
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default())
}

/// Checks a setting's JSON; the message id of what is wrong.
pub(crate) fn validate(key: &str, text: &str) -> Result<String, &'static str> {
    let v: serde_json::Value = serde_json::from_str(text).map_err(|_| "settings-bad-json")?;
    let items = v.as_array().ok_or("settings-not-array")?;
    if !items.iter().all(|i| i.is_object()) {
        return Err("settings-not-array");
    }
    if key == "zones" {
        let zones: Vec<Zone> =
            serde_json::from_value(v.clone()).map_err(|_| "settings-bad-zone")?;
        let probe: IpAddr = IpAddr::from([0, 0, 0, 0]);
        if zones.iter().any(|z| {
            z.name.trim().is_empty() || z.cidrs.iter().any(|c| cidr_contains(c, probe).is_none())
        }) {
            return Err("settings-bad-zone");
        }
    }
    serde_json::to_string_pretty(&v).map_err(|_| "settings-bad-json")
}

fn see_other(to: &str) -> Response {
    let mut res = Redirect::to(to).into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    res
}

/// `GET /settings` (admins).
pub(crate) async fn page(
    State(state): State<AppState>,
    auth: Auth,
    lang: Lang,
    uri: Uri,
) -> Result<Html<String>, AppError> {
    auth.0.require(Role::Admin)?;
    super::render(state, auth, lang, &uri, |state, ctx| {
        settings_page(state, ctx, None)
    })
    .await
}

fn settings_page(state: &AppState, ctx: &Ctx, new_token: Option<&str>) -> Result<Markup, AppError> {
    let l = ctx.lang;
    let store = &*state.store;
    let msg = ctx
        .query
        .split('&')
        .find_map(|kv| kv.strip_prefix("msg="))
        .unwrap_or("");
    let users = store.users()?;
    let tokens = store.api_tokens()?;
    let mut docs = Vec::new();
    for (key, title, help, example) in JSON_SETTINGS {
        docs.push((key, title, help, example, store.setting(key)?));
    }
    Ok(layout::page(
        ctx,
        &l.t("settings-title"),
        html! {
            @if msg == "saved" { (notice("ok", &l.t("settings-saved"))) }
            @if msg.starts_with("settings-") || msg.starts_with("users-") { (notice("error", &l.t(msg))) }
            @if let Some(t) = new_token {
                (notice("warn", &l.t("tokens-copy-now")))
                p { code.secret { (t) } }
            }
            div.grid2 {
                @for (key, title, help, example, value) in &docs {
                    section.card id=(key) {
                        h2 { (l.t(title)) }
                        p.small { (l.t(help)) }
                        @if let Some(v) = value { (jsonview::tree(v, &crate::pages::assets::flow_link)) } @else { p.empty { (l.t("settings-unset")) } }
                        form.stack method="post" action={"/settings/json/" (key)} {
                            (layout::csrf_input(ctx))
                            textarea name="value" placeholder=(example) spellcheck="false" { (value.clone().unwrap_or_default()) }
                            button type="submit" { (l.t("settings-save")) }
                        }
                    }
                }
            }
            section.card id="users" {
                h2 { (l.t("users-title")) }
                table {
                    thead { tr { th { (l.t("login-username")) } th { (l.t("users-role")) } th { "TOTP" } th { (l.t("users-last-login")) } th { (l.t("users-state")) } th { (l.t("alert-actions")) } } }
                    tbody {
                        @for u in &users {
                            tr {
                                td { (u.username) }
                                td { (l.t(&format!("role-{}", u.role))) }
                                td { (if u.totp_secret.is_some() { l.t("yes") } else { l.t("no") }) }
                                td { @if let Some(t) = u.last_login { (time_cell(t)) } @else { "—" } }
                                td { (if u.disabled { l.t("users-disabled") } else { l.t("users-active") }) }
                                td { (user_form(ctx, u)) }
                            }
                        }
                    }
                }
                h2 { (l.t("users-new")) }
                form.filters method="post" action="/settings/users" {
                    (layout::csrf_input(ctx))
                    input name="username" placeholder=(l.t("login-username")) required;
                    (role_select(l, Role::Viewer))
                    input type="password" name="password" placeholder=(l.t("login-password")) minlength=(auth::MIN_PASSWORD_LEN) autocomplete="new-password" required;
                    button type="submit" { (l.t("users-create")) }
                }
            }
            section.card id="tokens" {
                h2 { (l.t("tokens-title")) }
                p.small { (l.t("tokens-help")) }
                table {
                    thead { tr { th { (l.t("tokens-name")) } th { (l.t("login-username")) } th { (l.t("tokens-created")) } th { (l.t("tokens-last-used")) } th { (l.t("tokens-expires")) } th {} } }
                    tbody {
                        @for t in &tokens {
                            tr {
                                td { (t.name) }
                                td { (users.iter().find(|u| u.id == t.user_id).map_or("?", |u| u.username.as_str())) }
                                td { (time_cell(t.created_at)) }
                                td { @if let Some(x) = t.last_used { (time_cell(x)) } @else { "—" } }
                                td { @if let Some(x) = t.expires_at { (time_cell(x)) } @else { "—" } }
                                td { form.inline method="post" action={"/settings/tokens/" (t.id) "/delete"} { (layout::csrf_input(ctx)) button.small.danger type="submit" data-confirm=(l.t("tokens-delete-confirm")) { (l.t("tokens-delete")) } } }
                            }
                        }
                    }
                }
                form.filters method="post" action="/settings/tokens" {
                    (layout::csrf_input(ctx))
                    input name="name" placeholder=(l.t("tokens-name")) required;
                    select name="user" { @for u in &users { option value=(u.id) selected[u.id == ctx.user.user.id] { (u.username) } } }
                    label.inline { (l.t("tokens-days")) input type="number" name="days" min="0" value="90" size="4"; }
                    button type="submit" { (l.t("tokens-create")) }
                }
            }
        },
    ))
}

fn role_select(l: Lang, current: Role) -> Markup {
    html! {
        select name="role" {
            @for r in [Role::Viewer, Role::Operator, Role::Admin] {
                option value=(r.as_str()) selected[r == current] { (l.t(&format!("role-{r}"))) }
            }
        }
    }
}

fn user_form(ctx: &Ctx, u: &UserRow) -> Markup {
    let l = ctx.lang;
    html! {
        form.inline method="post" action={"/settings/users/" (u.id)} {
            (layout::csrf_input(ctx))
            (role_select(l, u.role))
            " "
            input type="password" name="password" placeholder=(l.t("users-new-password")) minlength=(auth::MIN_PASSWORD_LEN) autocomplete="new-password" size="12";
            " "
            select name="action" {
                option value="update" { (l.t("users-update")) }
                option value=(if u.disabled { "enable" } else { "disable" }) { (if u.disabled { l.t("users-enable") } else { l.t("users-disable") }) }
                option value="reset_totp" { (l.t("users-reset-totp")) }
                option value="delete" { (l.t("users-delete")) }
            }
            " "
            button.small type="submit" { (l.t("users-apply")) }
        }
    }
}

/// A JSON setting form.
#[derive(Deserialize)]
pub(crate) struct JsonForm {
    csrf: String,
    value: String,
}

fn admin_post(cu: &CurrentUser, csrf: &str) -> Result<(), AppError> {
    cu.require(Role::Admin)?;
    cu.check_csrf(csrf)
}

/// `POST /settings/json/{key}`.
pub(crate) async fn save_json(
    State(state): State<AppState>,
    Auth(cu): Auth,
    Path(key): Path<String>,
    Form(form): Form<JsonForm>,
) -> Result<Response, AppError> {
    admin_post(&cu, &form.csrf)?;
    if !JSON_SETTINGS.iter().any(|(k, ..)| *k == key) {
        return Err(AppError::NotFound);
    }
    let text = form.value.trim();
    let text = if text.is_empty() { "[]" } else { text };
    let pretty = match validate(&key, text) {
        Ok(p) => p,
        Err(msg) => return Ok(see_other(&format!("/settings?msg={msg}#{key}"))),
    };
    let by = cu.user.username.clone();
    crate::blocking(move || {
        Ok(state
            .store
            .set_setting(&key, &pretty, &by, unix_nanos_now())?)
    })
    .await?;
    Ok(see_other("/settings?msg=saved"))
}

/// The new-user form.
#[derive(Deserialize)]
pub(crate) struct NewUserForm {
    csrf: String,
    username: String,
    role: String,
    password: String,
}

/// `POST /settings/users`.
pub(crate) async fn create_user(
    State(state): State<AppState>,
    Auth(cu): Auth,
    Form(form): Form<NewUserForm>,
) -> Result<Response, AppError> {
    admin_post(&cu, &form.csrf)?;
    let role: Role = form.role.parse().map_err(AppError::BadRequest)?;
    let name = form.username.trim().to_string();
    if name.is_empty()
        || name.len() > 64
        || name.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Ok(see_other("/settings?msg=users-bad-name#users"));
    }
    if form.password.chars().count() < auth::MIN_PASSWORD_LEN {
        return Ok(see_other("/settings?msg=users-short-password#users"));
    }
    crate::blocking(move || {
        let user = UserRow {
            id: 0,
            username: name,
            role,
            password_hash: auth::hash_password(&form.password)?,
            totp_secret: None,
            totp_last_step: None,
            must_change_password: true,
            disabled: false,
            created_at: unix_nanos_now(),
            last_login: None,
        };
        Ok(match state.store.create_user(&user)? {
            Some(_) => see_other("/settings?msg=saved#users"),
            None => see_other("/settings?msg=users-taken#users"),
        })
    })
    .await
}

/// The per-user form.
#[derive(Deserialize)]
pub(crate) struct UserForm {
    csrf: String,
    role: String,
    #[serde(default)]
    password: String,
    action: String,
}

/// `POST /settings/users/{id}`.
pub(crate) async fn update_user(
    State(state): State<AppState>,
    Auth(cu): Auth,
    Path(id): Path<i64>,
    Form(form): Form<UserForm>,
) -> Result<Response, AppError> {
    admin_post(&cu, &form.csrf)?;
    let role: Role = form.role.parse().map_err(AppError::BadRequest)?;
    let me = cu.user.id;
    crate::blocking(move || {
        let store = &*state.store;
        let mut u = store.user(id)?.ok_or(AppError::NotFound)?;
        // An admin cannot lock themselves out.
        if id == me && (form.action == "delete" || form.action == "disable" || role != Role::Admin)
        {
            return Ok(see_other("/settings?msg=users-not-self#users"));
        }
        match form.action.as_str() {
            "delete" => {
                store.delete_user(id)?;
                return Ok(see_other("/settings?msg=saved#users"));
            }
            "disable" => u.disabled = true,
            "enable" => u.disabled = false,
            "reset_totp" => {
                u.totp_secret = None;
                u.totp_last_step = None;
            }
            "update" => {}
            _ => return Err(AppError::BadRequest("unknown action".into())),
        }
        u.role = role;
        if !form.password.is_empty() {
            if form.password.chars().count() < auth::MIN_PASSWORD_LEN {
                return Ok(see_other("/settings?msg=users-short-password#users"));
            }
            u.password_hash = auth::hash_password(&form.password)?;
            u.must_change_password = true;
        }
        store.update_user(&u)?;
        if u.disabled || !form.password.is_empty() {
            store.delete_user_sessions(id)?;
        }
        Ok(see_other("/settings?msg=saved#users"))
    })
    .await
}

/// The new-token form.
#[derive(Deserialize)]
pub(crate) struct TokenForm {
    csrf: String,
    name: String,
    user: i64,
    #[serde(default)]
    days: String,
}

/// `POST /settings/tokens`: shows the new token once.
pub(crate) async fn create_token(
    State(state): State<AppState>,
    auth: Auth,
    lang: Lang,
    uri: Uri,
    Form(form): Form<TokenForm>,
) -> Result<Html<String>, AppError> {
    admin_post(&auth.0, &form.csrf)?;
    super::render(state, auth, lang, &uri, move |state, ctx| {
        state
            .store
            .user(form.user)?
            .ok_or(AppError::BadRequest("no such user".into()))?;
        let days: i64 = form.days.trim().parse().unwrap_or(0);
        let expires = (days > 0).then(|| unix_nanos_now() + days.min(3650) * crate::util::DAY);
        let name = if form.name.trim().is_empty() {
            "token"
        } else {
            form.name.trim()
        };
        let token = auth::create_api_token(&*state.store, form.user, name, expires)?;
        settings_page(state, ctx, Some(&token))
    })
    .await
}

/// `POST /settings/tokens/{id}/delete`.
pub(crate) async fn delete_token(
    State(state): State<AppState>,
    Auth(cu): Auth,
    Path(id): Path<i64>,
    Form(form): Form<crate::pages::login::CsrfForm>,
) -> Result<Response, AppError> {
    admin_post(&cu, form.csrf())?;
    crate::blocking(move || Ok(state.store.delete_api_token(id)?)).await?;
    Ok(see_other("/settings?msg=saved#tokens"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_match() {
        let a: IpAddr = "10.0.1.7".parse().expect("ip");
        assert_eq!(cidr_contains("10.0.1.0/24", a), Some(true));
        assert_eq!(cidr_contains("10.0.2.0/24", a), Some(false));
        assert_eq!(cidr_contains("0.0.0.0/0", a), Some(true));
        assert_eq!(cidr_contains("10.0.1.7", a), Some(true));
        assert_eq!(cidr_contains("10.0.1.0/33", a), None);
        assert_eq!(cidr_contains("fd00::/8", a), Some(false));
        assert_eq!(cidr_contains("nonsense", a), None);
    }

    #[test]
    fn settings_are_validated() {
        assert!(validate("zones", r#"[{"name":"a","cidrs":["10.0.0.0/8"]}]"#).is_ok());
        assert_eq!(
            validate("zones", r#"[{"name":"a","cidrs":["10.0.0.0/99"]}]"#),
            Err("settings-bad-zone")
        );
        assert_eq!(validate("zones", "{"), Err("settings-bad-json"));
        assert_eq!(validate("conduits", "{}"), Err("settings-not-array"));
        assert_eq!(validate("conduits", "[1]"), Err("settings-not-array"));
        assert!(validate("notifications", "[]").is_ok());
    }
}
