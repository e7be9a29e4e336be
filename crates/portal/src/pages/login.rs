//! Logging in and out, and a user's own account: password change and TOTP
//! enrolment.

use axum::extract::{Form, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use maud::{DOCTYPE, html};
use serde::Deserialize;

use crate::auth::{self, Auth, ClientIp, LoginOutcome, PRE_COOKIE, SESSION_COOKIE};
use crate::error::AppError;
use crate::i18n::{Lang, cookie};
use crate::layout::{self, notice};
use crate::{AppState, util};

/// The login form as a response with `status`, setting a fresh pre-login CSRF
/// cookie. `message` is a message id shown above the form.
pub(crate) fn login_response(
    state: &AppState,
    lang: Lang,
    next: &str,
    message: Option<(&str, &str)>,
    status: StatusCode,
) -> Response {
    login_form(state, lang, next, message, status, false, "")
}

fn login_form(
    state: &AppState,
    l: Lang,
    next: &str,
    message: Option<(&str, &str)>,
    status: StatusCode,
    ask_code: bool,
    username: &str,
) -> Response {
    let Ok(pre) = util::random_token() else {
        return AppError::Internal("no random source".into()).into_response();
    };
    let body = html! {
        (DOCTYPE)
        html lang=(l.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (l.t("login-title")) " · mamori" }
                link rel="stylesheet" href="/static/mamori.css";
            }
            body.login {
                main.login-box {
                    h1 { "mamori " span.kanji { "守り" } }
                    p.sub { (l.t("login-tagline")) }
                    @if let Some((kind, key)) = message { (notice(kind, &l.t(key))) }
                    form method="post" action="/login" {
                        input type="hidden" name="csrf" value=(pre);
                        input type="hidden" name="next" value=(next);
                        label { (l.t("login-username")) input name="username" autocomplete="username" required autofocus[!ask_code] value=(username); }
                        label { (l.t("login-password")) input type="password" name="password" autocomplete="current-password" required; }
                        @if ask_code {
                            label { (l.t("login-code")) input name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}" autofocus; }
                        } @else {
                            details { summary { (l.t("login-have-code")) } label { (l.t("login-code")) input name="code" inputmode="numeric" autocomplete="one-time-code"; } }
                        }
                        button type="submit" { (l.t("login-submit")) }
                    }
                    p.lang {
                        @for other in Lang::ALL {
                            @if other != l { a href={"/login?lang=" (other.code())} { (other.name()) } }
                        }
                    }
                }
            }
        }
    };
    let mut res = (status, Html(body.into_string())).into_response();
    if let Ok(v) = HeaderValue::from_str(&auth::set_cookie(&state.config, PRE_COOKIE, &pre, 3600)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    res
}

/// `GET /login`.
pub(crate) async fn get_login(State(state): State<AppState>, lang: Lang) -> Response {
    login_response(&state, lang, "/", None, StatusCode::OK)
}

/// The login form's fields.
#[derive(Deserialize)]
pub(crate) struct LoginForm {
    csrf: String,
    #[serde(default)]
    next: String,
    username: String,
    password: String,
    #[serde(default)]
    code: String,
}

/// Only local paths are followed after login.
fn safe_next(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.starts_with("/\\") {
        next
    } else {
        "/"
    }
}

/// `POST /login`.
pub(crate) async fn post_login(
    State(state): State<AppState>,
    lang: Lang,
    headers: HeaderMap,
    ClientIp(ip): ClientIp,
    Form(form): Form<LoginForm>,
) -> Response {
    let pre = cookie(&headers, PRE_COOKIE).unwrap_or_default();
    if pre.is_empty() || !util::constant_time_eq(&pre, &form.csrf) {
        return login_response(
            &state,
            lang,
            safe_next(&form.next),
            Some(("error", "login-csrf")),
            StatusCode::FORBIDDEN,
        );
    }
    let st = state.clone();
    let (user, pass, code) = (
        form.username.clone(),
        form.password.clone(),
        form.code.clone(),
    );
    let outcome = crate::blocking(move || auth::login(&st, &user, &pass, &code, &ip)).await;
    let next = safe_next(&form.next);
    match outcome {
        Err(e) => e.into_response(),
        Ok(LoginOutcome::Blocked) => login_response(
            &state,
            lang,
            next,
            Some(("error", "login-blocked")),
            StatusCode::TOO_MANY_REQUESTS,
        ),
        Ok(LoginOutcome::Failed) => login_response(
            &state,
            lang,
            next,
            Some(("error", "login-failed")),
            StatusCode::UNAUTHORIZED,
        ),
        Ok(LoginOutcome::NeedCode) => login_form(
            &state,
            lang,
            next,
            Some((
                "warn",
                if form.code.trim().is_empty() {
                    "login-need-code"
                } else {
                    "login-bad-code"
                },
            )),
            StatusCode::UNAUTHORIZED,
            true,
            &form.username,
        ),
        Ok(LoginOutcome::Ok(id)) => {
            let mut res = Redirect::to(next).into_response();
            *res.status_mut() = StatusCode::SEE_OTHER;
            let max_age = state.config.session_idle.as_secs();
            let max_age = i64::try_from(max_age).unwrap_or(i64::MAX);
            for v in [
                auth::set_cookie(&state.config, SESSION_COOKIE, &id, max_age),
                auth::set_cookie(&state.config, PRE_COOKIE, "", 0),
            ] {
                if let Ok(v) = HeaderValue::from_str(&v) {
                    res.headers_mut().append(header::SET_COOKIE, v);
                }
            }
            res
        }
    }
}

/// A form with only its CSRF token.
#[derive(Deserialize)]
pub(crate) struct CsrfForm {
    csrf: String,
}

impl CsrfForm {
    /// The token.
    pub(crate) fn csrf(&self) -> &str {
        &self.csrf
    }
}

/// `POST /logout`.
pub(crate) async fn logout(
    State(state): State<AppState>,
    Auth(cu): Auth,
    Form(form): Form<CsrfForm>,
) -> Result<Response, AppError> {
    cu.check_csrf(&form.csrf)?;
    if let Some(hash) = cu.session_hash.clone() {
        let st = state.clone();
        crate::blocking(move || Ok(st.store.delete_session(&hash)?)).await?;
    }
    let mut res = Redirect::to("/login").into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    if let Ok(v) = HeaderValue::from_str(&auth::set_cookie(&state.config, SESSION_COOKIE, "", 0)) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// `GET /account`: change the password, enrol a second factor.
pub(crate) async fn account(
    State(state): State<AppState>,
    auth: Auth,
    lang: Lang,
    uri: Uri,
) -> Result<Html<String>, AppError> {
    super::render(state, auth, lang, &uri, |state, ctx| {
        let l = ctx.lang;
        let u = &ctx.user.user;
        let secret = auth::new_totp_secret()?;
        let uri = format!(
            "otpauth://totp/mamori:{}?secret={secret}&issuer=mamori&algorithm=SHA1&digits=6&period=30",
            util::url_encode(&u.username)
        );
        let msg = ctx.query.split('&').find_map(|kv| kv.strip_prefix("msg="));
        let need_totp = state.config.require_admin_totp && ctx.user.is_admin() && u.totp_secret.is_none();
        Ok(layout::page(ctx, &l.t("account-title"), html! {
            @match msg {
                Some("password") => (notice("ok", &l.t("account-password-changed"))),
                Some("totp") => (notice("ok", &l.t("account-totp-enrolled"))),
                Some("bad-password") => (notice("error", &l.t("account-bad-password"))),
                Some("bad-code") => (notice("error", &l.t("account-bad-code"))),
                _ => {}
            }
            @if u.must_change_password { (notice("warn", &l.t("account-must-change"))) }
            @if need_totp { (notice("warn", &l.t("account-must-enrol"))) }
            section.card {
                h2 { (l.t("account-password")) }
                form.stack method="post" action="/account/password" {
                    (layout::csrf_input(ctx))
                    label { (l.t("account-current")) input type="password" name="current" autocomplete="current-password" required; }
                    label { (l.t("account-new")) input type="password" name="new" autocomplete="new-password" minlength=(auth::MIN_PASSWORD_LEN) required; }
                    label { (l.t("account-repeat")) input type="password" name="repeat" autocomplete="new-password" minlength=(auth::MIN_PASSWORD_LEN) required; }
                    button type="submit" { (l.t("account-change")) }
                }
            }
            section.card {
                h2 { (l.t("account-totp")) }
                @if u.totp_secret.is_some() {
                    p { (l.t("account-totp-on")) }
                } @else {
                    p { (l.t("account-totp-howto")) }
                    p { code.secret { (secret) } }
                    p.small { code { (uri) } }
                    form.stack method="post" action="/account/totp" {
                        (layout::csrf_input(ctx))
                        input type="hidden" name="secret" value=(secret);
                        label { (l.t("login-code")) input name="code" inputmode="numeric" autocomplete="one-time-code" required; }
                        button type="submit" { (l.t("account-totp-enrol")) }
                    }
                }
            }
        }))
    })
    .await
}

/// The password form.
#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    csrf: String,
    current: String,
    new: String,
    repeat: String,
}

fn see_other(to: &str) -> Response {
    let mut res = Redirect::to(to).into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    res
}

/// `POST /account/password`.
pub(crate) async fn change_password(
    State(state): State<AppState>,
    Auth(cu): Auth,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    cu.check_csrf(&form.csrf)?;
    crate::blocking(move || {
        let mut u = cu.user;
        if !auth::verify_password(&form.current, &u.password_hash)
            || form.new != form.repeat
            || form.new.chars().count() < auth::MIN_PASSWORD_LEN
            || form.new == form.current
        {
            return Ok(see_other("/account?msg=bad-password"));
        }
        u.password_hash = auth::hash_password(&form.new)?;
        u.must_change_password = false;
        state.store.update_user(&u)?;
        // Every session of this user ends, this one too: log in with the new one.
        state.store.delete_user_sessions(u.id)?;
        Ok(see_other("/login?msg=password"))
    })
    .await
}

/// The TOTP enrolment form.
#[derive(Deserialize)]
pub(crate) struct TotpForm {
    csrf: String,
    secret: String,
    code: String,
}

/// `POST /account/totp`: enrols the secret shown if the code matches it.
pub(crate) async fn enrol_totp(
    State(state): State<AppState>,
    Auth(cu): Auth,
    Form(form): Form<TotpForm>,
) -> Result<Response, AppError> {
    cu.check_csrf(&form.csrf)?;
    crate::blocking(move || {
        let mut u = cu.user;
        if u.totp_secret.is_some() {
            return Err(AppError::BadRequest(
                "a second factor is enrolled already".into(),
            ));
        }
        let Some(step) = auth::totp_step(&form.secret, &form.code, auth::unix_secs()) else {
            return Ok(see_other("/account?msg=bad-code"));
        };
        if util::base32_decode(&form.secret).is_none_or(|b| b.len() < 16) {
            return Err(AppError::BadRequest("bad secret".into()));
        }
        u.totp_secret = Some(form.secret.clone());
        u.totp_last_step = Some(i64::try_from(step).unwrap_or(i64::MAX));
        state.store.update_user(&u)?;
        Ok(see_other("/account?msg=totp"))
    })
    .await
}
