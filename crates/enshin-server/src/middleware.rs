//! Layers every response passes through: request id and security headers.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// The request id of one request, also sent back as `x-request-id`.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

const SECURITY_HEADERS: &[(HeaderName, &str)] = &[
    (
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=63072000; includeSubDomains",
    ),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (header::REFERRER_POLICY, "no-referrer"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::CACHE_CONTROL, "no-store"),
];

/// Whether a path carries a percent-encoded control character (`%00`–`%1F`, `%7F`). No page or
/// id has one, and PostgreSQL refuses NUL in text, so such an id would otherwise fail as a
/// database error instead of a clear answer.
fn encoded_control(path: &str) -> bool {
    let hex = |b: u8| (b as char).to_digit(16);
    path.as_bytes().windows(3).any(|w| {
        w[0] == b'%'
            && matches!((hex(w[1]), hex(w[2])), (Some(h), Some(l)) if h * 16 + l < 0x20 || h * 16 + l == 0x7f)
    })
}

/// Gives each request a fresh id (a client-sent one is ignored: it could be forged into logs)
/// and adds the security headers a response does not set itself. A path with an encoded
/// control character is answered 400 before any route sees it.
pub async fn request_frame(mut request: Request, next: Next) -> Response {
    let id = uuid::Uuid::now_v7().to_string();
    request.extensions_mut().insert(RequestId(id.clone()));
    let mut response = if encoded_control(request.uri().path()) {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_path",
            "the address contains a control character",
        )
        .into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        if !headers.contains_key(name) {
            headers.insert(name.clone(), HeaderValue::from_static(value));
        }
    }
    // Only the call pages set their own, allowing camera and microphone on this origin.
    headers
        .entry(HeaderName::from_static("permissions-policy"))
        .or_insert(HeaderValue::from_static(
            "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        ));
    if let Ok(value) = HeaderValue::from_str(&id) {
        headers.insert(HeaderName::from_static("x-request-id"), value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::encoded_control;

    #[test]
    fn encoded_control_characters_in_paths_are_found() {
        for bad in ["/calls/%00", "/x%0a", "/a/%1F/b", "/%7f"] {
            assert!(encoded_control(bad), "{bad}");
        }
        for good in [
            "/calls/0193-ab",
            "/search/%E5%B1%B1",
            "/%20x",
            "/100%",
            "/%zz",
            "/%2",
        ] {
            assert!(!encoded_control(good), "{good}");
        }
    }
}
