//! Query-string parameters: a string that does not fit answers 400 with a message saying which
//! parameter is wrong, as JSON on the API and as a page elsewhere, never axum's plain text.

use axum::extract::{FromRequestParts, Query};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// The parameters `T` of the query string.
pub struct Params<T>(pub T);

impl<S, T> FromRequestParts<S> for Params<T>
where
    S: Send + Sync,
    T: serde::de::DeserializeOwned,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Response> {
        Query::<T>::try_from_uri(&parts.uri)
            .map(|Query(value)| Params(value))
            .map_err(|rejection| {
                let err = ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    format!(
                        "the address's parameters are not as expected: {}",
                        rejection.body_text()
                    ),
                );
                if parts.uri.path().starts_with("/api/") {
                    err.into_response()
                } else {
                    crate::web::error_page(parts, &err)
                }
            })
    }
}
