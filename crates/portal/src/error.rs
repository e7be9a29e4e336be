//! The portal's one error type and how it becomes a response.
//!
//! Pages answer with a short HTML page, the REST API with `{"error": "..."}`; the
//! status is the same either way. Store errors are logged to stderr and shown as
//! a plain 500 without their detail (paths and SQL are not for the browser).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use mamori_store::StoreError;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The store failed.
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// No such thing.
    #[error("not found")]
    NotFound,
    /// Logged in, but the role does not allow it.
    #[error("forbidden")]
    Forbidden,
    /// Not logged in (only the API uses this; pages show the login form).
    #[error("authentication required")]
    Unauthorized,
    /// A form without the right CSRF token.
    #[error("invalid or missing CSRF token")]
    Csrf,
    /// Too many failed logins.
    #[error("too many failed logins; try again later")]
    TooManyAttempts,
    /// Input that does not make sense.
    #[error("{0}")]
    BadRequest(String),
    /// Something else broke (a task panicked, the random source failed).
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Store(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Forbidden | AppError::Csrf => StatusCode::FORBIDDEN,
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
        }
    }

    /// What the user may see.
    fn public_message(&self) -> String {
        match self {
            AppError::Store(e) => {
                eprintln!("mamori portal: {e}");
                "internal error (see the server log)".into()
            }
            AppError::Internal(e) => {
                eprintln!("mamori portal: {e}");
                "internal error (see the server log)".into()
            }
            other => other.to_string(),
        }
    }
}

impl From<getrandom::Error> for AppError {
    fn from(e: getrandom::Error) -> Self {
        AppError::Internal(format!("random source: {e}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        let msg = self.public_message();
        let body = maud::html! {
            (maud::DOCTYPE)
            html {
                head { meta charset="utf-8"; title { "mamori: " (status.as_u16()) } link rel="stylesheet" href="/static/mamori.css"; }
                body.error-page {
                    main {
                        h1 { (status.as_u16()) " " (status.canonical_reason().unwrap_or("")) }
                        p { (msg) }
                        p { a href="/" { "mamori" } }
                    }
                }
            }
        };
        (status, Html(body.into_string())).into_response()
    }
}

/// An [`AppError`] answered as JSON, for the REST API.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl<E: Into<AppError>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let body = serde_json::json!({ "error": self.0.public_message() });
        (status, Json(body)).into_response()
    }
}
