//! Where the service account's requests go: the realm's token endpoint and admin API, both
//! derived from the Server URL as typed (not from discovery, which may name a public hostname
//! that gatehouse cannot reach). Every path segment is percent-encoded, so an id from anywhere
//! cannot step outside the admin API path.

use url::Url;

use super::error::DirectoryError;
use crate::keycloak::{KeycloakSettings, SettingsError};

/// The URLs of one realm's Keycloak endpoints.
#[derive(Debug, Clone)]
pub(super) struct Endpoints {
    server: Url,
    realm: String,
}

impl Endpoints {
    /// Checks that the settings are complete (whether or not sign-in is switched on: a
    /// connection check runs before that) and derives the server's base URL.
    pub fn new(settings: &KeycloakSettings) -> Result<Self, DirectoryError> {
        settings.validate()?;
        let missing = if settings.url.trim().is_empty() {
            Some(SettingsError::UrlMissing)
        } else if settings.realm.trim().is_empty() {
            Some(SettingsError::RealmMissing)
        } else if settings.client_id.trim().is_empty() {
            Some(SettingsError::ClientIdMissing)
        } else if settings.client_secret.is_empty() {
            Some(SettingsError::SecretMissing)
        } else {
            None
        };
        if let Some(problem) = missing {
            return Err(problem.into());
        }

        // `issuer()` normalises the URL the same way everywhere; the server is what precedes
        // `/realms/{realm}` in it.
        let realm = settings.realm.trim().to_owned();
        let issuer = settings.issuer();
        let server = issuer
            .strip_suffix(&format!("/realms/{realm}"))
            .and_then(|base| Url::parse(base).ok())
            .filter(|url| !url.cannot_be_a_base())
            .ok_or_else(|| SettingsError::UrlInvalid {
                reason: "it cannot be extended with Keycloak's paths".to_owned(),
            })?;
        Ok(Self { server, realm })
    }

    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// `{server}/realms/{realm}/protocol/openid-connect/token`.
    pub fn token(&self) -> Url {
        self.under_server(&["realms", &self.realm, "protocol", "openid-connect", "token"])
    }

    /// `{server}/admin/realms/{realm}/{segments...}?{query}`.
    pub fn admin(&self, segments: &[&str], query: &[(&str, String)]) -> Url {
        let mut path = vec!["admin", "realms", self.realm.as_str()];
        path.extend_from_slice(segments);
        let mut url = self.under_server(&path);
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (k, v.as_str())));
        }
        url
    }

    fn under_server(&self, segments: &[&str]) -> Url {
        let mut url = self.server.clone();
        // `new` made sure the URL can take path segments.
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keycloak::ClientSecret;

    fn settings(url: &str) -> KeycloakSettings {
        KeycloakSettings {
            enabled: false,
            url: url.to_owned(),
            realm: "gatehouse".to_owned(),
            client_id: "refact_client".to_owned(),
            client_secret: ClientSecret::from("s3cret".to_owned()),
        }
    }

    #[test]
    fn builds_token_and_admin_urls() {
        let endpoints = Endpoints::new(&settings("http://127.0.0.1:18080/")).expect("complete");
        assert_eq!(
            endpoints.token().as_str(),
            "http://127.0.0.1:18080/realms/gatehouse/protocol/openid-connect/token"
        );
        let users = endpoints.admin(&["users"], &[("first", "0".into()), ("max", "10".into())]);
        assert_eq!(
            users.as_str(),
            "http://127.0.0.1:18080/admin/realms/gatehouse/users?first=0&max=10"
        );
    }

    #[test]
    fn keeps_a_path_prefix_and_encodes_segments() {
        let endpoints = Endpoints::new(&settings("https://KC.example.com/auth/")).expect("ok");
        let user = endpoints.admin(&["users", "../../master/users"], &[]);
        assert_eq!(
            user.as_str(),
            "https://kc.example.com/auth/admin/realms/gatehouse/users/..%2F..%2Fmaster%2Fusers"
        );
    }

    #[test]
    fn incomplete_settings_are_refused_even_when_disabled() {
        let mut s = settings("http://kc");
        s.client_secret = ClientSecret::default();
        let err = Endpoints::new(&s).expect_err("must fail");
        assert_eq!(err.code(), "settings_invalid");
        assert!(matches!(
            err,
            DirectoryError::Settings(SettingsError::SecretMissing)
        ));
        let err = Endpoints::new(&settings("")).expect_err("must fail");
        assert!(matches!(
            err,
            DirectoryError::Settings(SettingsError::UrlMissing)
        ));
    }
}
