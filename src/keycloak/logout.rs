//! RP-initiated logout: the address that ends the person's Keycloak session and sends them back.
//! Without an ID token hint Keycloak asks the person to confirm, so the hint is sent when known.

use tracing::instrument;
use url::Url;

use super::Keycloak;
use super::error::KeycloakError;
use super::settings::KeycloakSettings;

impl Keycloak {
    /// `{end_session_endpoint}?id_token_hint=..&post_logout_redirect_uri=..&client_id=..`.
    /// An empty `id_token_hint` is left out.
    #[instrument(skip_all, fields(issuer = %settings.issuer(), realm = %settings.realm))]
    pub async fn end_session_url(
        &self,
        settings: &KeycloakSettings,
        id_token_hint: &str,
        post_logout_redirect_uri: &str,
    ) -> Result<String, KeycloakError> {
        let config = self.provider_config(settings).await?;
        let endpoint =
            config
                .end_session_endpoint
                .as_ref()
                .ok_or(KeycloakError::MissingEndpoint {
                    endpoint: "logout endpoint (end_session_endpoint)",
                })?;
        build_end_session_url(
            endpoint,
            id_token_hint,
            post_logout_redirect_uri,
            settings.client_id.trim(),
        )
    }
}

fn build_end_session_url(
    endpoint: &Url,
    id_token_hint: &str,
    post_logout_redirect_uri: &str,
    client_id: &str,
) -> Result<String, KeycloakError> {
    // Checked, but sent exactly as given: Keycloak compares it with its registered URIs.
    Url::parse(post_logout_redirect_uri)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| KeycloakError::InvalidRedirectUri {
            uri: post_logout_redirect_uri.to_owned(),
        })?;

    let mut url = endpoint.clone();
    {
        let mut query = url.query_pairs_mut();
        if !id_token_hint.is_empty() {
            query.append_pair("id_token_hint", id_token_hint);
        }
        query
            .append_pair("post_logout_redirect_uri", post_logout_redirect_uri)
            .append_pair("client_id", client_id);
    }
    Ok(url.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint() -> Url {
        Url::parse("http://127.0.0.1:18080/realms/gatehouse/protocol/openid-connect/logout")
            .expect("valid URL")
    }

    #[test]
    fn builds_keycloak_logout_url() {
        let url = build_end_session_url(
            &endpoint(),
            "eyJhbGciOi.x.y",
            "http://127.0.0.1:18008/signed-out?from=menu",
            "refact_client",
        )
        .expect("builds");
        assert_eq!(
            url,
            "http://127.0.0.1:18080/realms/gatehouse/protocol/openid-connect/logout\
             ?id_token_hint=eyJhbGciOi.x.y\
             &post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A18008%2Fsigned-out%3Ffrom%3Dmenu\
             &client_id=refact_client"
        );
    }

    #[test]
    fn keeps_existing_query_and_skips_empty_hint() {
        let with_query = Url::parse("https://kc/logout?ui_locales=de").expect("valid URL");
        let url = build_end_session_url(&with_query, "", "https://gh/", "c").expect("builds");
        assert_eq!(
            url,
            "https://kc/logout?ui_locales=de&post_logout_redirect_uri=https%3A%2F%2Fgh%2F&client_id=c"
        );
    }

    #[test]
    fn relative_return_address_is_refused() {
        let err =
            build_end_session_url(&endpoint(), "t", "/signed-out", "c").expect_err("must fail");
        assert_eq!(err.code(), "gatehouse_misconfigured");
    }
}
