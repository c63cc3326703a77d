//! Direct Access Grants: checks a person's user name and password with
//! Keycloak's password grant, for people and tools without a browser. The
//! ID token is checked like a browser sign-in's, except that it has no
//! nonce.

use openidconnect::http::{self, Method, header};
use serde::Deserialize;
use tracing::{instrument, warn};

use super::Keycloak;
use super::discovery::unreachable;
use super::error::{KeycloakError, tidy_remote_text};
use super::identity::SignedInIdentity;
use super::settings::KeycloakSettings;
use super::token::{self, Tokens};

#[derive(Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
    access_token: Option<String>,
}

#[derive(Deserialize)]
struct Refusal {
    error: Option<String>,
    error_description: Option<String>,
}

impl Keycloak {
    /// Signs `username` in with `password`. Wrong credentials come back as
    /// `CodeRejected` (Keycloak's `invalid_grant`), with Keycloak's reason.
    #[instrument(skip_all, fields(issuer = %settings.issuer()))]
    pub async fn password_sign_in(
        &self,
        settings: &KeycloakSettings,
        username: &str,
        password: &str,
    ) -> Result<SignedInIdentity, KeycloakError> {
        let config = self.provider_config(settings).await?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "password")
            .append_pair("username", username)
            .append_pair("password", password)
            .append_pair("scope", "openid profile email")
            .append_pair("client_id", settings.client_id.trim())
            .append_pair("client_secret", settings.client_secret.expose().trim())
            .finish();
        let request = http::Request::builder()
            .method(Method::POST)
            .uri(config.token_endpoint.as_str())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .body(form.into_bytes())
            .map_err(|e| KeycloakError::UnexpectedResponse {
                url: config.token_endpoint.to_string(),
                detail: e.to_string(),
            })?;
        let answer = self.inner.http.send(request).await.map_err(unreachable)?;
        let status = answer.status().as_u16();

        if !answer.status().is_success() {
            let refusal: Option<Refusal> = serde_json::from_slice(answer.body()).ok();
            let error = token::refused(
                Some(status),
                refusal.as_ref().and_then(|r| r.error.as_deref()),
                refusal
                    .as_ref()
                    .and_then(|r| r.error_description.as_deref()),
            );
            warn!(code = error.code(), status, "password grant refused");
            return Err(error);
        }
        let tokens: TokenAnswer = serde_json::from_slice(answer.body()).map_err(|e| {
            KeycloakError::UnexpectedResponse {
                url: config.token_endpoint.to_string(),
                detail: tidy_remote_text(&format!("unreadable token answer: {e}")),
            }
        })?;
        let tokens = Tokens {
            id_token: tokens.id_token.ok_or(KeycloakError::IdTokenInvalid(
                super::error::IdTokenProblem::Missing,
            ))?,
            access_token: tokens.access_token.unwrap_or_default(),
        };
        self.identity_from_tokens(&config, settings, tokens, None)
            .await
    }
}
