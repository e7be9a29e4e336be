//! stub
use crate::AppState;
/// Routes.
pub(crate) fn routes() -> axum::Router<AppState> {
    axum::Router::new()
}
