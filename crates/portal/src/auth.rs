//! Who is asking, and what they may do.
//!
//! # Users and roles
//!
//! Local users with a role: a **viewer** reads everything, an **operator** also
//! acknowledges alerts and accepts them into the baseline, an **admin** also
//! edits settings and manages users and API tokens. Passwords are argon2id PHC
//! strings ([`hash_password`]). On first start [`ensure_admin`] creates `admin`
//! with a random one-time password, which must be changed at the first login.
//!
//! # Sessions
//!
//! A login creates a session: 32 random bytes in a cookie (`HttpOnly`,
//! `SameSite=Strict`, `Secure` unless configured off, path `/`), of which the store
//! keeps only the SHA-256. A session expires after [`PortalConfig::session_idle`]
//! without a request. Every form that changes something carries a CSRF token,
//! SHA-256 of the session id under a label, so it is bound to the session and
//! needs no storage; the login form, which comes before any session, uses a
//! double-submit cookie instead. JSON calls with a session send the token in
//! `X-CSRF-Token`; calls with an API token (`Authorization: Bearer ...`) carry no
//! cookie and need none.
//!
//! # Second factor and rate limits
//!
//! A user with an enrolled TOTP secret (RFC 6238: SHA-1, 6 digits, 30 s, one
//! step of skew) must give a code at login, and a code is accepted once only
//! (the store keeps the last step used). With
//! [`PortalConfig::require_admin_totp`], an admin without a second factor can do
//! nothing but enrol one. Failed logins are recorded in the store: more than
//! [`PortalConfig::max_failures_per_user`] for a name, or
//! [`PortalConfig::max_failures_per_ip`] from an address, within
//! [`PortalConfig::failure_window`] answer `429 Too Many Requests` until the
//! window has passed (a success clears the count for the name).

use std::net::SocketAddr;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use mamori_store::{ApiTokenRow, PortalStore, Role, SessionRow, UserRow, unix_nanos_now};

use crate::error::{ApiError, AppError};
use crate::i18n::{Lang, cookie};
use crate::util::{self, SEC};
use crate::{AppState, PortalConfig};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "mamori_session";
/// The pre-login CSRF cookie's name.
pub(crate) const PRE_COOKIE: &str = "mamori_pre";
/// Shortest password accepted.
pub const MIN_PASSWORD_LEN: usize = 10;

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, AppError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("hashing a password: {e}")))
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// A hash to verify against when the user does not exist, so that a wrong name
/// takes as long as a wrong password.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
}

/// A random password of 16 letters and digits (no look-alikes).
pub fn random_password() -> Result<String, AppError> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let bytes = util::random_bytes::<16>()?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect())
}

/// Creates `admin` with a random one-time password when the store has no user
/// yet, and returns that password (to print once); `None` when users exist.
pub fn ensure_admin(store: &dyn PortalStore) -> Result<Option<String>, AppError> {
    if !store.users()?.is_empty() {
        return Ok(None);
    }
    let password = random_password()?;
    let user = UserRow {
        id: 0,
        username: "admin".into(),
        role: Role::Admin,
        password_hash: hash_password(&password)?,
        totp_secret: None,
        totp_last_step: None,
        must_change_password: true,
        disabled: false,
        created_at: unix_nanos_now(),
        last_login: None,
    };
    Ok(store.create_user(&user)?.map(|_| password))
}

/// Sets `username`'s password (creating the user with `role` if missing, else
/// also setting the role) and enables it; the password need not be changed at
/// the next login. For the demo and for `mamori` commands that reset a login.
pub fn set_password(
    store: &dyn PortalStore,
    username: &str,
    password: &str,
    role: Role,
) -> Result<(), AppError> {
    if username.trim().is_empty() {
        return Err(AppError::BadRequest("empty user name".into()));
    }
    let hash = hash_password(password)?;
    match store.user_by_name(username)? {
        Some(mut u) => {
            u.password_hash = hash;
            u.role = role;
            u.must_change_password = false;
            u.disabled = false;
            store.update_user(&u)?;
            store.delete_user_sessions(u.id)?;
        }
        None => {
            let u = UserRow {
                id: 0,
                username: username.to_string(),
                role,
                password_hash: hash,
                totp_secret: None,
                totp_last_step: None,
                must_change_password: false,
                disabled: false,
                created_at: unix_nanos_now(),
                last_login: None,
            };
            store.create_user(&u)?;
        }
    }
    Ok(())
}

/// The CSRF token of a session id.
pub(crate) fn csrf_for(session_id: &str) -> String {
    util::sha256_hex(format!("mamori csrf {session_id}").as_bytes())
}

/// The `Set-Cookie` value of a cookie.
pub(crate) fn set_cookie(config: &PortalConfig, name: &str, value: &str, max_age: i64) -> String {
    let secure = if config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
}

/// The client's address as the connection gives it (`unknown` when the server
/// was not started with connect info, as in router tests).
pub(crate) struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string()),
        ))
    }
}

/// Someone logged in, by session or API token.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// The user.
    pub user: UserRow,
    /// The CSRF token forms must carry (empty for API tokens).
    pub csrf: String,
    /// The session id's hash (`None` for API tokens).
    pub session_hash: Option<String>,
}

impl CurrentUser {
    /// Fails with 403 unless the user's role is at least `role`.
    pub fn require(&self, role: Role) -> Result<(), AppError> {
        if self.user.role >= role {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// Fails with 403 unless `token` is this session's CSRF token. API-token
    /// calls carry no cookie, so they pass.
    pub fn check_csrf(&self, token: &str) -> Result<(), AppError> {
        if self.session_hash.is_none() || util::constant_time_eq(&self.csrf, token) {
            Ok(())
        } else {
            Err(AppError::Csrf)
        }
    }

    /// Whether the user may acknowledge alerts.
    pub fn is_operator(&self) -> bool {
        self.user.role >= Role::Operator
    }

    /// Whether the user may manage settings.
    pub fn is_admin(&self) -> bool {
        self.user.role >= Role::Admin
    }
}

/// Finds the user behind a request's bearer token or session cookie.
pub(crate) fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<CurrentUser>, AppError> {
    let store = &*state.store;
    let now = unix_nanos_now();
    if let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let Some(token) = auth.strip_prefix("Bearer ") else {
            return Ok(None);
        };
        let Some(row) = store.api_token(&util::sha256_hex(token.trim().as_bytes()))? else {
            return Ok(None);
        };
        if row.expires_at.is_some_and(|t| t <= now) {
            return Ok(None);
        }
        let Some(user) = store.user(row.user_id)?.filter(|u| !u.disabled) else {
            return Ok(None);
        };
        if row.last_used.is_none_or(|t| now - t > 60 * SEC) {
            store.touch_api_token(row.id, now)?;
        }
        return Ok(Some(CurrentUser {
            user,
            csrf: String::new(),
            session_hash: None,
        }));
    }
    let Some(id) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    if id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let hash = util::sha256_hex(id.as_bytes());
    let Some(session) = store.session(&hash)? else {
        return Ok(None);
    };
    if session.expires_at <= now {
        store.delete_session(&hash)?;
        return Ok(None);
    }
    let Some(user) = store.user(session.user_id)?.filter(|u| !u.disabled) else {
        return Ok(None);
    };
    if now - session.last_used > 60 * SEC {
        store.touch_session(&hash, now, now + state.config.session_idle_nanos())?;
    }
    Ok(Some(CurrentUser {
        user,
        csrf: csrf_for(&id),
        session_hash: Some(hash),
    }))
}

/// Starts a session for `user`; returns the cookie value.
pub(crate) fn start_session(
    state: &AppState,
    user: &UserRow,
    ip: &str,
) -> Result<String, AppError> {
    let id = util::random_token()?;
    let now = unix_nanos_now();
    state.store.create_session(&SessionRow {
        id_hash: util::sha256_hex(id.as_bytes()),
        user_id: user.id,
        created_at: now,
        last_used: now,
        expires_at: now + state.config.session_idle_nanos(),
        ip: Some(ip.to_string()),
    })?;
    Ok(id)
}

/// Creates an API token for `user_id`; returns the token (shown once).
pub fn create_api_token(
    store: &dyn PortalStore,
    user_id: i64,
    name: &str,
    expires_at: Option<i64>,
) -> Result<String, AppError> {
    let token = format!("mamori_{}", util::random_token()?);
    store.create_api_token(&ApiTokenRow {
        id: 0,
        token_hash: util::sha256_hex(token.as_bytes()),
        user_id,
        name: name.to_string(),
        created_at: unix_nanos_now(),
        last_used: None,
        expires_at,
    })?;
    Ok(token)
}

/// A fresh TOTP secret, base32.
pub(crate) fn new_totp_secret() -> Result<String, AppError> {
    Ok(util::base32_encode(&util::random_bytes::<20>()?))
}

fn totp_of(secret_b32: &str) -> Option<totp_rs::Totp> {
    let bytes = util::base32_decode(secret_b32)?;
    totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::new(bytes.into_boxed_slice()))
        .build()
        .ok()
}

/// The TOTP time step `code` is valid for at `unix_secs`, if any.
pub(crate) fn totp_step(secret_b32: &str, code: &str, unix_secs: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp_of(secret_b32)?.check(&code, unix_secs)
}

/// The current code of a secret (for tests and for the demo's documentation).
pub fn totp_code(secret_b32: &str, unix_secs: u64) -> Option<String> {
    Some(totp_of(secret_b32)?.generate(unix_secs).to_string())
}

/// Seconds since the epoch now.
pub(crate) fn unix_secs() -> u64 {
    u64::try_from(unix_nanos_now() / SEC).unwrap_or(0)
}

/// Checks a TOTP code for `user` and records its step (no replay).
pub(crate) fn check_totp(
    store: &dyn PortalStore,
    user: &UserRow,
    code: &str,
) -> Result<bool, AppError> {
    let Some(secret) = &user.totp_secret else {
        return Ok(true);
    };
    let Some(step) = totp_step(secret, code, unix_secs()) else {
        return Ok(false);
    };
    Ok(store.accept_totp_step(user.id, i64::try_from(step).unwrap_or(i64::MAX))?)
}

/// Whether the rate limits block a login for `username` from `ip` now.
pub(crate) fn login_blocked(state: &AppState, username: &str, ip: &str) -> Result<bool, AppError> {
    let since = unix_nanos_now() - state.config.failure_window_nanos();
    let store = &*state.store;
    Ok(
        store.failed_logins_for_user(username, since)? >= state.config.max_failures_per_user
            || store.failed_logins_from_ip(ip, since)? >= state.config.max_failures_per_ip,
    )
}

/// What a login attempt came to.
pub(crate) enum LoginOutcome {
    /// Logged in: the session cookie value.
    Ok(String),
    /// Wrong name or password (or disabled).
    Failed,
    /// Right password, but a TOTP code is needed (or was wrong).
    NeedCode,
    /// Rate-limited.
    Blocked,
}

/// Checks a login and, when it is right, starts a session.
pub(crate) fn login(
    state: &AppState,
    username: &str,
    password: &str,
    code: &str,
    ip: &str,
) -> Result<LoginOutcome, AppError> {
    let store = &*state.store;
    let now = unix_nanos_now();
    let username = username.trim();
    if login_blocked(state, username, ip)? {
        return Ok(LoginOutcome::Blocked);
    }
    let user = store.user_by_name(username)?;
    let hash = user
        .as_ref()
        .map_or(dummy_hash(), |u| u.password_hash.as_str());
    let password_ok = verify_password(password, hash);
    let Some(mut user) = user.filter(|u| password_ok && !u.disabled) else {
        store.record_login_attempt(now, username, ip, false)?;
        return Ok(LoginOutcome::Failed);
    };
    if user.totp_secret.is_some() {
        if code.trim().is_empty() {
            return Ok(LoginOutcome::NeedCode);
        }
        if !check_totp(store, &user, code)? {
            store.record_login_attempt(now, username, ip, false)?;
            return Ok(LoginOutcome::NeedCode);
        }
    }
    store.record_login_attempt(now, username, ip, true)?;
    store.purge_expired(now, now - 7 * util::DAY)?;
    user.last_login = Some(now);
    store.update_user(&user)?;
    let id = start_session(state, &user, ip)?;
    Ok(LoginOutcome::Ok(id))
}

/// The logged-in user of a page request. Without one, the request is answered
/// with the login form (status 401); a user who must change the password or
/// (when required) enrol a second factor is sent to the account page.
pub struct Auth(pub CurrentUser);

impl FromRequestParts<AppState> for Auth {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let lang = Lang::negotiate(parts.uri.query(), &parts.headers);
        let st = state.clone();
        let headers = parts.headers.clone();
        let found = crate::blocking(move || authenticate(&st, &headers))
            .await
            .map_err(IntoResponse::into_response)?;
        let Some(cu) = found else {
            let next = parts
                .uri
                .path_and_query()
                .map_or("/".to_string(), |p| p.to_string());
            return Err(crate::pages::login::login_response(
                state,
                lang,
                &next,
                None,
                axum::http::StatusCode::UNAUTHORIZED,
            ));
        };
        let path = parts.uri.path();
        let on_account = path.starts_with("/account") || path == "/logout";
        if !on_account && needs_account_step(state, &cu) {
            return Err(axum::response::Redirect::to("/account").into_response());
        }
        Ok(Auth(cu))
    }
}

/// Whether the user must change the password or enrol TOTP before anything else.
pub(crate) fn needs_account_step(state: &AppState, cu: &CurrentUser) -> bool {
    cu.user.must_change_password
        || (state.config.require_admin_totp
            && cu.user.role == Role::Admin
            && cu.user.totp_secret.is_none())
}

/// The logged-in user of an API request (session or bearer token); 401 as JSON
/// without one.
pub struct ApiAuth(pub CurrentUser);

impl FromRequestParts<AppState> for ApiAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let st = state.clone();
        let headers = parts.headers.clone();
        let cu = crate::blocking(move || authenticate(&st, &headers))
            .await?
            .ok_or(AppError::Unauthorized)?;
        if needs_account_step(state, &cu) {
            return Err(AppError::Forbidden.into());
        }
        Ok(ApiAuth(cu))
    }
}

impl ApiAuth {
    /// For a state-changing call: the role, and the CSRF header when the call
    /// came with a session cookie.
    pub(crate) fn check_write(&self, headers: &HeaderMap, role: Role) -> Result<(), AppError> {
        self.0.require(role)?;
        let token = headers
            .get("x-csrf-token")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        self.0.check_csrf(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() -> Result<(), AppError> {
        let h = hash_password("correct horse")?;
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct horsf", &h));
        assert!(!verify_password("correct horse", "not a hash"));
        Ok(())
    }

    #[test]
    fn totp_matches_rfc6238_vector() {
        // RFC 6238 appendix B: SHA-1 secret "12345678901234567890", T = 59 s.
        let secret = util::base32_encode(b"12345678901234567890");
        assert_eq!(totp_code(&secret, 59).as_deref(), Some("287082"));
        assert_eq!(totp_step(&secret, "287082", 59), Some(1));
        assert_eq!(totp_step(&secret, "287 082", 59), Some(1));
        assert_eq!(totp_step(&secret, "287083", 59), None);
        assert_eq!(totp_step(&secret, "28708", 59), None);
        // One step of skew either way, no more.
        assert_eq!(totp_step(&secret, "287082", 59 + 30), Some(1));
        assert_eq!(totp_step(&secret, "287082", 59 + 90), None);
    }

    #[test]
    fn random_passwords_differ() -> Result<(), AppError> {
        let (a, b) = (random_password()?, random_password()?);
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
        Ok(())
    }
}
