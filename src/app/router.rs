//! Every route of the server, and the layers around them.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::header::{
    CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use super::AppState;
use crate::auth::cross_site::is_same_site;
use crate::gateway;
use crate::metrics::metrics;
use crate::web::error::{ApiError, PageError};
use crate::web::{api, assets, health, pages};

/// Forms and admin JSON are small; inference bodies get their own limit.
const PAGE_BODY_LIMIT: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    let pages = Router::new()
        .route("/", get(pages::login::home))
        .route("/login", get(pages::login::login_page))
        .route("/auth/keycloak/start", get(pages::keycloak_auth::start))
        .route(
            "/auth/keycloak/callback",
            get(pages::keycloak_auth::callback),
        )
        .route("/logout", post(pages::keycloak_auth::logout))
        .route("/me", get(pages::me::me_page))
        .route("/me/key", post(pages::me::regenerate_key))
        .route("/me/team", post(pages::me::choose_team))
        .route(
            "/admin/login",
            get(pages::admin_login::admin_login_page).post(pages::admin_login::admin_login),
        )
        .route("/admin/logout", post(pages::admin_login::admin_logout))
        .route("/admin", get(pages::admin_console::overview))
        .route("/admin/users", get(pages::admin_users::users_page))
        .route(
            "/admin/users/{id}",
            get(pages::admin_users::user_detail).post(pages::admin_users::user_action),
        )
        .route(
            "/admin/teams",
            get(pages::admin_teams::teams_page).post(pages::admin_teams::save_team),
        )
        .route(
            "/admin/teams/mappings",
            post(pages::admin_teams::change_mappings),
        )
        .route(
            "/admin/models",
            get(pages::admin_models::models_page).post(pages::admin_models::save_upstream),
        )
        .route(
            "/admin/models/delete",
            post(pages::admin_models::remove_upstream),
        )
        .route(
            "/admin/settings/auth/check",
            post(pages::admin_console::test_connection),
        )
        .route("/admin/usage", get(pages::admin_usage::usage_page))
        .route(
            "/admin/directory",
            get(pages::admin_directory::directory_page),
        )
        .route(
            "/admin/directory/sync",
            post(pages::admin_directory::sync_now),
        )
        .route("/admin/usage.csv", get(pages::admin_usage::usage_csv))
        .route(
            "/admin/settings/auth",
            get(pages::admin_console::auth_settings_page)
                .post(pages::admin_console::save_auth_settings),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            refuse_cross_site,
        ));

    use api::gateway_admin as ga;
    let admin_api = Router::new()
        .route(
            "/admin/api/settings/keycloak",
            get(api::settings::get_keycloak).put(api::settings::put_keycloak),
        )
        .route("/admin/api/upstreams", get(ga::list_upstreams))
        .route(
            "/admin/api/upstreams/{name}",
            put(ga::put_upstream).delete(ga::delete_upstream),
        )
        .route("/admin/api/teams", get(ga::list_teams))
        .route("/admin/api/teams/{name}", put(ga::put_team))
        .route(
            "/admin/api/group-mappings",
            get(api::group_mappings::list)
                .put(api::group_mappings::put)
                .delete(api::group_mappings::delete),
        )
        .route(
            "/admin/api/group-mappings/policy",
            put(api::group_mappings::put_policy),
        )
        .route(
            "/admin/api/directory/sync",
            get(api::directory::status).post(api::directory::start),
        )
        .route("/admin/api/keycloak/check", get(api::keycloak_check::check))
        .route("/admin/api/users/{username}", get(ga::get_user))
        .route("/admin/api/users", get(ga::list_users))
        .route(
            "/admin/api/users/{username}/team",
            put(ga::put_user_team).delete(ga::delete_user_team),
        )
        .route(
            "/admin/api/users/{username}/key/revoke",
            post(ga::revoke_key),
        )
        .route(
            "/admin/api/users/{username}/key/rotate",
            post(ga::rotate_key),
        )
        .route(
            "/admin/api/users/{username}/disable",
            post(ga::disable_user),
        )
        .route("/admin/api/users/{username}/enable", post(ga::enable_user))
        .route("/admin/api/usage", get(api::usage::totals))
        .route("/admin/api/usage.csv", get(api::usage::totals_csv));

    // The inference API reads its body itself, with its own (larger) limit.
    let inference = Router::new()
        .route("/v1/models", get(gateway::handlers::list_models))
        .route("/v1/completions", post(gateway::handlers::completions))
        .route(
            "/v1/chat/completions",
            post(gateway::handlers::chat_completions),
        )
        .route("/v1/embeddings", post(gateway::handlers::embeddings))
        .route("/refact-caps", get(gateway::refact::caps))
        .route("/coding_assistant_caps.json", get(gateway::refact::caps))
        .route("/tokenizer/{*model}", get(gateway::refact::tokenizer))
        .route(
            "/stats/telemetry-basic",
            post(gateway::refact::telemetry_basic),
        )
        .route("/stats/rh-stats", get(gateway::refact::own_stats));

    // Keycloak calls this from its server: no browser, no cross-site check.
    let from_keycloak = Router::new()
        .route(
            "/auth/keycloak/backchannel-logout",
            post(pages::backchannel_logout::backchannel_logout),
        )
        .route("/v1/login", post(api::password_login::login));

    Router::new()
        .merge(
            pages
                .merge(admin_api)
                .merge(from_keycloak)
                .layer(RequestBodyLimitLayer::new(PAGE_BODY_LIMIT)),
        )
        .merge(inference)
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics_endpoint))
        .route("/assets/gatehouse.css", get(assets::stylesheet))
        .route("/assets/gatehouse.js", get(assets::script))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .route_layer(middleware::from_fn(record_metrics))
        .layer(security_header(
            CONTENT_SECURITY_POLICY,
            "default-src 'self'; frame-ancestors 'none'; form-action 'self' http: https:",
        ))
        .layer(security_header(X_FRAME_OPTIONS, "DENY"))
        .layer(security_header(X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // The callback URL carries a one-time code: never pass it to another site.
        // (`no-referrer` would also make browsers send `Origin: null` on our own forms.)
        .layer(security_header(REFERRER_POLICY, "same-origin"))
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
        .with_state(state)
}

fn security_header(
    name: axum::http::HeaderName,
    value: &'static str,
) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

/// One span per request with the method and the matched route, never the
/// raw URI: query strings can carry codes and states.
fn request_span(request: &Request) -> tracing::Span {
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("unmatched", |path| path.as_str());
    tracing::info_span!("request", method = %request.method(), route = %route)
}

/// Counts every request by its matched route and status.
async fn record_metrics(request: Request, next: Next) -> Response {
    // A matched path is a shared string: cloning it copies nothing.
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .cloned();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    let route = route.as_ref().map_or("unmatched", |path| path.as_str());
    metrics().observe_request(route, response.status().as_u16(), started.elapsed());
    response
}

async fn metrics_endpoint() -> impl IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics().render(),
    )
}

async fn refuse_cross_site(State(app): State<AppState>, request: Request, next: Next) -> Response {
    if is_same_site(
        request.method(),
        request.headers(),
        &app.public_url.origin(),
    ) {
        return next.run(request).await;
    }
    tracing::warn!(method = %request.method(), "refused a cross-site form submission");
    PageError::new(
        StatusCode::FORBIDDEN,
        "cross_site",
        "Request refused",
        "This form was submitted from another site. Open gatehouse directly and try again.",
    )
    .try_again("/", "Open gatehouse")
    .into_response()
}

/// Paths whose errors are JSON for programs rather than pages for people.
fn is_api_path(path: &str) -> bool {
    [
        "/v1/",
        "/admin/api/",
        "/refact-caps",
        "/coding_assistant_caps.json",
        "/tokenizer/",
        "/stats/",
    ]
    .iter()
    .any(|prefix| path.starts_with(prefix))
}

async fn not_found(uri: axum::http::Uri) -> Response {
    if is_api_path(uri.path()) {
        return ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no such endpoint: {}", uri.path()),
        )
        .into_response();
    }
    PageError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "Page not found",
        "There is nothing at this address.",
    )
    .try_again("/", "Go to the start page")
    .into_response()
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> Response {
    let detail = format!("{method} is not allowed on {}", uri.path());
    if is_api_path(uri.path()) {
        return ApiError::new(StatusCode::METHOD_NOT_ALLOWED, detail).into_response();
    }
    PageError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Not allowed",
        detail,
    )
    .try_again("/", "Go to the start page")
    .into_response()
}
