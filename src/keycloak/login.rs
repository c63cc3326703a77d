//! The authorization code flow with PKCE (S256): the redirect to Keycloak, and the callback that
//! turns a code into a verified identity. The login state is handed to the caller to keep
//! server-side; nothing here remembers a login attempt.

use std::sync::Arc;
use std::time::SystemTime;

use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreJsonWebKeySet};
use openidconnect::{
    AuthType, AuthUrl, ClientId, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, RedirectUrl,
    Scope, TokenUrl,
};
use serde::{Deserialize, Serialize};
use tracing::{debug, info, instrument, warn};

use super::discovery::ProviderConfig;
use super::error::{IdTokenProblem, KeycloakError};
use super::id_token::{self, Expected};
use super::identity::SignedInIdentity;
use super::settings::KeycloakSettings;
use super::token::{self, OidcClient};
use super::{Keycloak, userinfo};

/// Where to send the browser, and what to keep until it comes back.
#[derive(Debug)]
pub struct LoginRequest {
    pub authorize_url: String,
    pub pending: PendingLogin,
}

/// One login attempt's secrets, to be stored server-side keyed by `state` with a short TTL
/// and used once. The `Debug` output hides them.
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PendingLogin([redacted])")
    }
}

impl Keycloak {
    /// Prepares the redirect to Keycloak's login page for `redirect_uri` (gatehouse's callback).
    #[instrument(skip_all, fields(issuer = %settings.issuer(), realm = %settings.realm))]
    pub async fn begin_login(
        &self,
        settings: &KeycloakSettings,
        redirect_uri: &str,
    ) -> Result<LoginRequest, KeycloakError> {
        let config = self.provider_config(settings).await?;
        let client = oidc_client(&config, settings, redirect_uri)?;

        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".to_owned()))
            .add_scope(Scope::new("email".to_owned()))
            .set_pkce_challenge(challenge)
            .url();

        debug!("login started");
        Ok(LoginRequest {
            authorize_url: url.to_string(),
            pending: PendingLogin {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
            },
        })
    }

    /// Completes a login: exchanges `code`, verifies the ID token, and asks userinfo for
    /// `groups` when the ID token has none. The caller has already matched `state` to
    /// `pending` and must not offer the same code again.
    #[instrument(skip_all, fields(issuer = %settings.issuer(), realm = %settings.realm))]
    pub async fn finish_login(
        &self,
        settings: &KeycloakSettings,
        redirect_uri: &str,
        pending: &PendingLogin,
        code: &str,
    ) -> Result<SignedInIdentity, KeycloakError> {
        let config = self.provider_config(settings).await?;
        let client = oidc_client(&config, settings, redirect_uri)?;
        let tokens = token::exchange_code(&self.inner.http, &client, code, &pending.pkce_verifier)
            .await
            .inspect_err(|e| warn!(code = e.code(), error = %e, "token request failed"))?;

        self.identity_from_tokens(&config, settings, tokens, Some(&pending.nonce))
            .await
    }

    /// Verifies the ID token of `tokens` (fetching the keys again on an unknown key id) and
    /// asks userinfo for `groups` when the ID token has none.
    pub(super) async fn identity_from_tokens(
        &self,
        config: &ProviderConfig,
        settings: &KeycloakSettings,
        tokens: token::Tokens,
        nonce: Option<&str>,
    ) -> Result<SignedInIdentity, KeycloakError> {
        let expected = Expected {
            issuer: &config.issuer,
            client_id: settings.client_id.trim(),
            nonce,
        };
        let keys = self.signing_keys(config, false).await?;
        let verified = match id_token::verify(&tokens.id_token, &keys, &expected, now()) {
            // Keycloak may have rotated its keys since they were cached.
            Err(IdTokenProblem::UnknownSigningKey) if self.may_refresh_keys(config) => {
                info!("ID token signed with an unknown key; fetching the key set again");
                let keys = self.signing_keys(config, true).await?;
                id_token::verify(&tokens.id_token, &keys, &expected, now())
            }
            other => other,
        }
        .inspect_err(|problem| warn!(problem = %problem, "ID token rejected"))?;

        let mut profile = verified.profile;
        if profile.groups.is_none() {
            match &config.userinfo_endpoint {
                Some(endpoint) => {
                    let fetched = userinfo::fetch_profile(
                        &self.inner.http,
                        endpoint,
                        &tokens.access_token,
                        &profile.subject,
                    )
                    .await;
                    match fetched {
                        Ok(extra) => {
                            profile.fill_gaps_from(extra);
                            if profile.groups.is_none() {
                                warn!(
                                    "no groups claim in ID token or userinfo: add a group mapper"
                                );
                            }
                        }
                        Err(reason) => warn!(reason = %reason, "userinfo failed; groups unknown"),
                    }
                }
                None => warn!("Keycloak advertises no userinfo endpoint; groups unknown"),
            }
        }

        let identity =
            profile.into_identity(config.issuer.clone(), verified.session_id, tokens.id_token);
        info!(subject = %identity.subject, username = %identity.username, "signed in with Keycloak");
        Ok(identity)
    }

    /// The realm's signing keys, from the cache unless `refresh` is set or they are stale.
    pub(super) async fn signing_keys(
        &self,
        config: &ProviderConfig,
        refresh: bool,
    ) -> Result<Arc<CoreJsonWebKeySet>, KeycloakError> {
        let cache = &self.inner.cache;
        if !refresh && let Some(keys) = cache.jwks(&config.issuer) {
            return Ok(keys);
        }
        let ticket = cache.ticket();
        let keys =
            Arc::new(super::discovery::fetch_jwks(&self.inner.http, &config.jwks_uri).await?);
        cache.store_jwks(ticket, &config.issuer, keys.clone());
        Ok(keys)
    }

    pub(super) fn may_refresh_keys(&self, config: &ProviderConfig) -> bool {
        self.inner.cache.may_refresh_jwks(&config.issuer)
    }
}

/// An openidconnect client for one request, authenticating with the client secret.
pub(super) fn oidc_client(
    config: &ProviderConfig,
    settings: &KeycloakSettings,
    redirect_uri: &str,
) -> Result<OidcClient, KeycloakError> {
    let redirect = RedirectUrl::new(redirect_uri.to_owned())
        .ok()
        .filter(|r| matches!(r.url().scheme(), "http" | "https"))
        .ok_or_else(|| KeycloakError::InvalidRedirectUri {
            uri: redirect_uri.to_owned(),
        })?;
    let issuer = IssuerUrl::from_url(url_of(&config.issuer)?);

    // The secret in the form body is read the same way by every Keycloak version; HTTP Basic
    // needs both sides to agree on URL-encoding first (RFC 6749 2.3.1).
    let auth_type = if config.accepts_client_secret_post {
        AuthType::RequestBody
    } else {
        AuthType::BasicAuth
    };

    Ok(CoreClient::new(
        ClientId::new(settings.client_id.trim().to_owned()),
        issuer,
        CoreJsonWebKeySet::new(Vec::new()),
    )
    .set_client_secret(openidconnect::ClientSecret::new(
        settings.client_secret.expose().trim().to_owned(),
    ))
    .set_auth_type(auth_type)
    .set_auth_uri(AuthUrl::from_url(config.authorization_endpoint.clone()))
    .set_token_uri(TokenUrl::from_url(config.token_endpoint.clone()))
    .set_redirect_uri(redirect))
}

fn url_of(issuer: &str) -> Result<url::Url, KeycloakError> {
    url::Url::parse(issuer).map_err(|e| KeycloakError::UnexpectedResponse {
        url: issuer.to_owned(),
        detail: format!("the issuer is not a URL: {e}"),
    })
}

fn now() -> SystemTime {
    SystemTime::now()
}
