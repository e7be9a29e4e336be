//! The pages, one module each. A handler extracts who is asking ([`Auth`]), the
//! language and its query, then renders on the blocking pool with [`render`].

use axum::http::Uri;
use axum::response::Html;
use maud::Markup;

use crate::AppState;
use crate::auth::Auth;
use crate::error::AppError;
use crate::i18n::Lang;
use crate::layout::Ctx;

pub(crate) mod alerts;
pub(crate) mod assets;
pub(crate) mod diff;
pub(crate) mod login;
pub(crate) mod map;
pub(crate) mod matrix;
pub(crate) mod overview;
pub(crate) mod settings;
pub(crate) mod traffic;

/// Builds the page context and runs `f` on the blocking pool.
pub(crate) async fn render<F>(
    state: AppState,
    auth: Auth,
    lang: Lang,
    uri: &Uri,
    f: F,
) -> Result<Html<String>, AppError>
where
    F: FnOnce(&AppState, &Ctx) -> Result<Markup, AppError> + Send + 'static,
{
    let ctx = Ctx {
        lang,
        user: auth.0,
        path: uri.path().to_string(),
        query: uri.query().unwrap_or("").to_string(),
    };
    let markup = crate::blocking(move || f(&state, &ctx)).await?;
    Ok(Html(markup.into_string()))
}

/// A form or query value, `None` when absent or blank.
pub(crate) fn opt(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
}
