//! The administrator's console: the overview and Settings > Auth.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::keycloak_auth::stale_form;
use crate::app::AppState;
use crate::auth::extract::AdminSession;
use crate::keycloak_check::{self, Outcome, Report};
use crate::settings::{self, AuthSettingsError, AuthSettingsUpdate, AuthSettingsView};
use crate::web::error::PageError;

#[derive(Template, WebTemplate)]
#[template(path = "admin_overview.html")]
struct OverviewPage {
    section: &'static str,
    csrf: String,
    keycloak_enabled: bool,
    keycloak_issuer: String,
    user_count: i64,
    public_url: String,
}

pub async fn overview(
    State(app): State<AppState>,
    AdminSession(session): AdminSession,
) -> Result<Response, PageError> {
    let keycloak = settings::load(&app.store, &app.secrets)
        .await
        .map_err(settings_page_error)?;
    let page = OverviewPage {
        section: "overview",
        csrf: session.csrf_token().to_owned(),
        keycloak_enabled: keycloak.enabled,
        keycloak_issuer: keycloak.issuer(),
        user_count: app.store.count_users().await?,
        public_url: app.public_url.as_str().to_owned(),
    };
    Ok(page.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_settings_auth.html")]
struct AuthSettingsPage {
    section: &'static str,
    csrf: String,
    form: AuthSettingsView,
    secret_set: bool,
    saved: bool,
    error: Option<String>,
    public_url: String,
    check: Option<Report>,
}

#[derive(Debug, Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

pub async fn auth_settings_page(
    State(app): State<AppState>,
    AdminSession(session): AdminSession,
    Query(query): Query<SavedQuery>,
) -> Result<Response, PageError> {
    let form = AuthSettingsView::current(&app.store, &app.secrets)
        .await
        .map_err(settings_page_error)?;
    let page = AuthSettingsPage {
        section: "settings",
        csrf: session.csrf_token().to_owned(),
        secret_set: form.client_secret_set,
        form,
        saved: query.saved.is_some(),
        error: None,
        public_url: app.public_url.as_str().to_owned(),
        check: None,
    };
    Ok(page.into_response())
}

/// The Auth form as browsers post it: an unchecked box is simply absent.
#[derive(Debug, Deserialize)]
pub struct AuthSettingsForm {
    #[serde(default)]
    csrf: String,
    enabled: Option<String>,
    #[serde(default)]
    url: String,
    #[serde(default)]
    realm: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    password_login: Option<String>,
}

/// `POST /admin/settings/auth`: Save Settings.
pub async fn save_auth_settings(
    State(app): State<AppState>,
    AdminSession(session): AdminSession,
    Form(form): Form<AuthSettingsForm>,
) -> Result<Response, PageError> {
    if !session.csrf_matches(&form.csrf) {
        return Err(stale_form());
    }
    let update = AuthSettingsUpdate {
        enabled: form.enabled.is_some(),
        url: form.url,
        realm: form.realm,
        client_id: form.client_id,
        client_secret: Some(form.client_secret),
        password_login: Some(form.password_login.is_some()),
    };
    match settings::save(&app.store, &app.secrets, update.clone()).await {
        Ok(_) => {
            app.keycloak.forget_cached();
            Ok(Redirect::to("/admin/settings/auth?saved=1").into_response())
        }
        Err(AuthSettingsError::Invalid(invalid)) => {
            let current = settings::load(&app.store, &app.secrets)
                .await
                .map_err(settings_page_error)?;
            let page = AuthSettingsPage {
                section: "settings",
                csrf: session.csrf_token().to_owned(),
                secret_set: !current.client_secret.is_empty(),
                form: AuthSettingsView {
                    enabled: update.enabled,
                    url: update.url,
                    realm: update.realm,
                    client_id: update.client_id,
                    client_secret_set: !current.client_secret.is_empty(),
                    password_login: update.password_login.unwrap_or(true),
                },
                saved: false,
                error: Some(format!("Not saved: {invalid}")),
                public_url: app.public_url.as_str().to_owned(),
                check: None,
            };
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(other) => Err(settings_page_error(other)),
    }
}

fn settings_page_error(err: AuthSettingsError) -> PageError {
    tracing::error!(error = %err, "Keycloak settings could not be read or saved");
    PageError::internal().try_again("/admin", "Back to the console")
}

/// `POST /admin/settings/auth/check`: Test connection, shown on the Auth tab.
pub async fn test_connection(
    State(app): State<AppState>,
    AdminSession(session): AdminSession,
    Form(form): Form<super::keycloak_auth::CsrfForm>,
) -> Result<Response, PageError> {
    if !session.csrf_matches(form.csrf()) {
        return Err(stale_form());
    }
    let settings = settings::load(&app.store, &app.secrets)
        .await
        .map_err(settings_page_error)?;
    let report = keycloak_check::run(&app, &settings).await;
    let form = AuthSettingsView::current(&app.store, &app.secrets)
        .await
        .map_err(settings_page_error)?;
    let page = AuthSettingsPage {
        section: "settings",
        csrf: session.csrf_token().to_owned(),
        secret_set: form.client_secret_set,
        form,
        saved: false,
        error: None,
        public_url: app.public_url.as_str().to_owned(),
        check: Some(report),
    };
    Ok(page.into_response())
}
