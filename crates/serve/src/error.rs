//! The one error shape every API failure takes:
//! `{"error": {"code": "...", "field": "...", "message": "..."}}` with a 4xx or 5xx status.
//!
//! `code` is a stable machine-readable word, `field` the dotted path of the offending request
//! field (absent when no single field is to blame), `message` a sentence for people.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApiError {
    #[serde(skip)]
    pub status: u16,
    pub code: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            field: None,
            message: message.into(),
        }
    }

    pub fn field(mut self, field: impl Into<String>) -> ApiError {
        self.field = Some(field.into());
        self
    }

    /// A value that is well-formed but not acceptable (unknown queue, out of range).
    pub fn invalid(field: impl Into<String>, code: &'static str, message: String) -> ApiError {
        ApiError::new(422, code, message).field(field)
    }

    pub fn not_found(field: &str, message: String) -> ApiError {
        ApiError::new(404, "not-found", message).field(field)
    }

    pub fn conflict(code: &'static str, field: &str, message: String) -> ApiError {
        ApiError::new(409, code, message).field(field)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(403, "forbidden", message)
    }

    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(503, "unavailable", message)
    }

    pub fn body(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Wrapper<'a> {
            error: &'a ApiError,
        }
        serde_json::to_vec(&Wrapper { error: self }).unwrap_or_default()
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.field {
            Some(field) => write!(
                f,
                "{} {}: {}: {}",
                self.status, self.code, field, self.message
            ),
            None => write!(f, "{} {}: {}", self.status, self.code, self.message),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, self.body()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if status == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
