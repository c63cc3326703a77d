//! Request extractors for handlers: the signed-in user, the administrator's
//! browser session, and the admin token on the JSON API. Each rejects with
//! what its audience needs: a redirect for browsers, JSON for programs.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};

use super::sessions::ActiveSession;
use crate::app::AppState;
use crate::store::{SessionKind, UserRecord};
use crate::web::error::{ApiError, PageError};

/// A signed-in Keycloak user with a live session.
pub struct SignedInUser {
    pub session: ActiveSession,
    pub user: UserRecord,
}

impl FromRequestParts<AppState> for SignedInUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Response> {
        let session = app
            .sessions
            .current(&parts.headers)
            .await
            .map_err(|e| PageError::from(e).into_response())?;
        let Some(session) = session.filter(|s| s.record.kind == SessionKind::User) else {
            return Err(Redirect::to("/login").into_response());
        };
        let user_id = session.record.user_id.clone().unwrap_or_default();
        let user = app
            .store
            .user(&user_id)
            .await
            .map_err(|e| PageError::from(e).into_response())?;
        match user.filter(|u| u.disabled_at.is_none()) {
            Some(user) => Ok(Self { session, user }),
            None => Err(Redirect::to("/login").into_response()),
        }
    }
}

/// An administrator signed in with the admin token in this browser.
pub struct AdminSession(pub ActiveSession);

impl FromRequestParts<AppState> for AdminSession {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Response> {
        let session = app
            .sessions
            .current(&parts.headers)
            .await
            .map_err(|e| PageError::from(e).into_response())?;
        match session.filter(|s| s.record.kind == SessionKind::Admin) {
            Some(session) => Ok(Self(session)),
            None => Err(Redirect::to("/admin/login").into_response()),
        }
    }
}

/// A program presenting `Authorization: Bearer <admin token>`.
pub struct AdminApiCaller;

impl FromRequestParts<AppState> for AdminApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or_else(|| {
                ApiError::unauthorized("send the admin token as `Authorization: Bearer <token>`")
            })?;
        let address = client_address(parts);
        if let Err(wait) = app.admin_throttle.check(&address) {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("too many failed admin token attempts from this address; wait {wait} s"),
            ));
        }
        if app.admin_token.verify(token) {
            Ok(Self)
        } else {
            app.admin_throttle.record_failure(&address);
            tracing::warn!(client = %address, "admin API call with a wrong admin token");
            Err(ApiError::unauthorized("the admin token is not valid"))
        }
    }
}

/// The peer address of the connection. Forwarding headers are not trusted,
/// since anyone can send them.
pub fn client_address(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}
