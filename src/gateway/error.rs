//! Errors of the inference API, as JSON that both Refact's engine (`detail`)
//! and OpenAI clients (`error.message`) show to the user.

use axum::Json;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("{0}")]
    Unauthorized(String),
    #[error("your team may not use the model \"{0}\"; ask an administrator to allow it")]
    ModelForbidden(String),
    #[error("{0}")]
    ModelUnknown(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_seconds: u64,
    },
    #[error("{0}")]
    UpstreamUnavailable(String),
    #[error("{0}")]
    UpstreamTimeout(String),
    #[error("request body is larger than the limit of {0} bytes")]
    BodyTooLarge(usize),
    #[error("internal error; see the server log")]
    Internal,
}

impl GatewayError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::ModelForbidden(_) => StatusCode::FORBIDDEN,
            Self::ModelUnknown(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::UpstreamUnavailable(_) => StatusCode::BAD_GATEWAY,
            Self::UpstreamTimeout(_) => StatusCode::GATEWAY_TIMEOUT,
            Self::BodyTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Self::Unauthorized(_) => "invalid_api_key",
            Self::ModelForbidden(_) => "model_not_allowed",
            Self::ModelUnknown(_) => "model_not_found",
            Self::BadRequest(_) | Self::BodyTooLarge(_) => "invalid_request_error",
            Self::RateLimited { .. } => "rate_limit_exceeded",
            Self::UpstreamUnavailable(_) | Self::UpstreamTimeout(_) => "upstream_error",
            Self::Internal => "internal_error",
        }
    }
}

impl From<StoreError> for GatewayError {
    fn from(err: StoreError) -> Self {
        tracing::error!(error = %err, "storage failed on the inference API");
        Self::Internal
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let detail = self.to_string();
        let body = serde_json::json!({
            "detail": detail,
            "error": { "message": detail, "type": self.kind(), "code": self.kind() },
        });
        let mut response = (self.status(), Json(body)).into_response();
        if let Self::RateLimited {
            retry_after_seconds,
            ..
        } = self
        {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(retry_after_seconds));
        }
        response
    }
}
