//! The edge where errors become responses: an HTML page for people, JSON
//! with a `detail` for programs. Internal causes are logged, never shown.

use askama::Template;
use askama_web::WebTemplate;
use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;

/// An error shown to a person as a page that says what happened and what
/// to do next.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    /// A stable code for the kind of problem, in `data-error`.
    pub code: &'static str,
    pub title: String,
    pub detail: String,
    pub try_again_href: &'static str,
    pub try_again_label: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    code: &'a str,
    title: &'a str,
    detail: &'a str,
    try_again_href: &'a str,
    try_again_label: &'a str,
}

impl PageError {
    pub fn new(
        status: StatusCode,
        code: &'static str,
        title: &str,
        detail: impl Into<String>,
    ) -> Self {
        Self {
            status,
            code,
            title: title.to_owned(),
            detail: detail.into(),
            try_again_href: "/login",
            try_again_label: "Back to sign-in",
        }
    }

    pub fn try_again(mut self, href: &'static str, label: &'static str) -> Self {
        self.try_again_href = href;
        self.try_again_label = label;
        self
    }

    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side",
            "gatehouse could not complete this request. Try again in a moment; if it keeps \
             happening, an administrator can find the cause in the server log.",
        )
    }
}

impl From<StoreError> for PageError {
    fn from(err: StoreError) -> Self {
        tracing::error!(error = %err, "storage failed while serving a page");
        Self::internal()
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            code: self.code,
            title: &self.title,
            detail: &self.detail,
            try_again_href: self.try_again_href,
            try_again_label: self.try_again_label,
        };
        (self.status, page).into_response()
    }
}

/// An error for programs: `{"detail": "..."}` with a status.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: String,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            detail: detail.into(),
        }
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, detail)
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        tracing::error!(error = %err, "storage failed while serving an API request");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error; see the server log",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({ "detail": self.detail }));
        (self.status, body).into_response()
    }
}
