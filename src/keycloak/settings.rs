//! The administrator's Keycloak settings: the issuer they imply and the checks run before saving.
//! Limitation: realm names are accepted only if they need no escaping inside a URL path.

use std::fmt;

use url::Url;

/// The client secret Keycloak issued to gatehouse. It prints as `[redacted]` so that settings
/// can be logged and debugged without leaking it.
#[derive(Clone, Default)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// The secret itself, for the token request only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when no secret has been entered.
    pub fn is_empty(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl From<String> for ClientSecret {
    fn from(secret: String) -> Self {
        Self(secret)
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How gatehouse reaches Keycloak, as entered in Settings > Auth.
#[derive(Clone, Debug, Default)]
pub struct KeycloakSettings {
    pub enabled: bool,
    /// The server URL as typed, e.g. `https://kc.example.com/` or `https://host/auth`.
    pub url: String,
    pub realm: String,
    pub client_id: String,
    pub client_secret: ClientSecret,
}

impl KeycloakSettings {
    /// The issuer Keycloak should announce for this realm: `{url}/realms/{realm}`.
    ///
    /// The URL is normalised the way a browser would (lower-case host, default port dropped)
    /// and loses its trailing slashes, so `https://KC.example.com:443/` and
    /// `https://kc.example.com` give the same issuer.
    pub fn issuer(&self) -> String {
        let typed = self.url.trim();
        let base = match Url::parse(typed) {
            Ok(parsed) => parsed.to_string(),
            Err(_) => typed.to_owned(),
        };
        format!(
            "{}/realms/{}",
            base.trim_end_matches('/'),
            self.realm.trim()
        )
    }

    /// Checks the settings before they are saved or used. Disabled settings may be left
    /// incomplete, but whatever is filled in must still be well formed.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let url = self.url.trim();
        if url.is_empty() {
            if self.enabled {
                return Err(SettingsError::UrlMissing);
            }
        } else {
            check_url(url)?;
        }

        let realm = self.realm.trim();
        if realm.is_empty() {
            if self.enabled {
                return Err(SettingsError::RealmMissing);
            }
        } else {
            check_realm(realm)?;
        }

        let client_id = self.client_id.trim();
        if client_id.is_empty() {
            if self.enabled {
                return Err(SettingsError::ClientIdMissing);
            }
        } else if client_id.chars().any(char::is_control) {
            return Err(SettingsError::ClientIdInvalid);
        }

        if self.enabled && self.client_secret.is_empty() {
            return Err(SettingsError::SecretMissing);
        }
        Ok(())
    }
}

fn check_url(url: &str) -> Result<(), SettingsError> {
    let parsed = Url::parse(url).map_err(|e| SettingsError::UrlInvalid {
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(SettingsError::UrlScheme {
            scheme: parsed.scheme().to_owned(),
        });
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(SettingsError::UrlInvalid {
            reason: "it has no host name".to_owned(),
        });
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(SettingsError::UrlHasCredentials);
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(SettingsError::UrlHasQueryOrFragment);
    }
    if parsed.path().contains("/realms/") || parsed.path().ends_with("/realms") {
        return Err(SettingsError::UrlContainsRealm);
    }
    Ok(())
}

fn check_realm(realm: &str) -> Result<(), SettingsError> {
    let bad_char = realm
        .chars()
        .find(|c| matches!(c, '/' | '\\' | '?' | '#' | '%') || c.is_whitespace() || c.is_control());
    if let Some(c) = bad_char {
        return Err(SettingsError::RealmInvalid {
            realm: realm.to_owned(),
            reason: format!("it contains {c:?}"),
        });
    }
    if realm == "." || realm == ".." {
        return Err(SettingsError::RealmInvalid {
            realm: realm.to_owned(),
            reason: "it is not a name".to_owned(),
        });
    }
    Ok(())
}

/// A problem with the Keycloak settings, worded for the administrator filling in the form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("Server URL is required, e.g. https://keycloak.example.com")]
    UrlMissing,
    #[error("Server URL is not a valid URL ({reason}); write it like https://keycloak.example.com")]
    UrlInvalid { reason: String },
    #[error("Server URL must start with http:// or https:// (found \"{scheme}:\")")]
    UrlScheme { scheme: String },
    #[error("Server URL must not contain a user name or password")]
    UrlHasCredentials,
    #[error("Server URL must not contain '?' or '#'; give only the address Keycloak is served at")]
    UrlHasQueryOrFragment,
    #[error("Server URL must stop before /realms/...; enter the realm name in the Realm field")]
    UrlContainsRealm,
    #[error("Realm is required: the name of the Keycloak realm gatehouse users sign in to")]
    RealmMissing,
    #[error("Realm \"{realm}\" is not a realm name: {reason}")]
    RealmInvalid { realm: String, reason: String },
    #[error("Client ID is required: the Client ID of gatehouse's client in Keycloak")]
    ClientIdMissing,
    #[error("Client ID must not contain control characters")]
    ClientIdInvalid,
    #[error("Client Secret is required: copy it from the client's Credentials tab in Keycloak")]
    SecretMissing,
}

impl SettingsError {
    /// Which form field the problem is about: `url`, `realm`, `client_id` or `client_secret`.
    pub fn field(&self) -> &'static str {
        match self {
            Self::UrlMissing
            | Self::UrlInvalid { .. }
            | Self::UrlScheme { .. }
            | Self::UrlHasCredentials
            | Self::UrlHasQueryOrFragment
            | Self::UrlContainsRealm => "url",
            Self::RealmMissing | Self::RealmInvalid { .. } => "realm",
            Self::ClientIdMissing | Self::ClientIdInvalid => "client_id",
            Self::SecretMissing => "client_secret",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: &str, realm: &str) -> KeycloakSettings {
        KeycloakSettings {
            enabled: true,
            url: url.to_owned(),
            realm: realm.to_owned(),
            client_id: "gatehouse".to_owned(),
            client_secret: ClientSecret::from("s3cret".to_owned()),
        }
    }

    #[test]
    fn issuer_with_and_without_trailing_slash() {
        let want = "https://kc.example.com/realms/acme";
        assert_eq!(settings("https://kc.example.com", "acme").issuer(), want);
        assert_eq!(settings("https://kc.example.com/", "acme").issuer(), want);
        assert_eq!(
            settings(" https://KC.example.com:443// ", "acme").issuer(),
            want
        );
    }

    #[test]
    fn issuer_keeps_path_prefix_and_port() {
        let s = settings("http://127.0.0.1:18080/auth/", "gatehouse");
        assert_eq!(s.issuer(), "http://127.0.0.1:18080/auth/realms/gatehouse");
    }

    #[test]
    fn valid_settings_pass() {
        assert_eq!(
            settings("https://kc.example.com/auth", "acme").validate(),
            Ok(())
        );
    }

    #[test]
    fn url_problems_are_named() {
        let check = |url: &str| settings(url, "acme").validate().expect_err("must fail");
        assert_eq!(check(""), SettingsError::UrlMissing);
        assert!(matches!(
            check("kc.example.com"),
            SettingsError::UrlInvalid { .. }
        ));
        assert!(matches!(
            check("ftp://kc.example.com"),
            SettingsError::UrlScheme { .. }
        ));
        assert_eq!(
            check("https://kc.example.com/?x=1"),
            SettingsError::UrlHasQueryOrFragment
        );
        assert_eq!(
            check("https://kc.example.com/#top"),
            SettingsError::UrlHasQueryOrFragment
        );
        assert_eq!(
            check("https://u:p@kc.example.com"),
            SettingsError::UrlHasCredentials
        );
        assert_eq!(
            check("https://kc.example.com/realms/acme"),
            SettingsError::UrlContainsRealm
        );
        assert_eq!(check("ftp://kc.example.com").field(), "url");
    }

    #[test]
    fn realm_problems_are_named() {
        let check = |realm: &str| settings("https://kc.example.com", realm).validate();
        assert_eq!(check("  "), Err(SettingsError::RealmMissing));
        assert!(matches!(
            check("a/b"),
            Err(SettingsError::RealmInvalid { .. })
        ));
        assert!(matches!(
            check("a b"),
            Err(SettingsError::RealmInvalid { .. })
        ));
        assert!(matches!(
            check(".."),
            Err(SettingsError::RealmInvalid { .. })
        ));
        assert_eq!(check("my-realm_2"), Ok(()));
    }

    #[test]
    fn client_fields_required_only_when_enabled() {
        let mut s = settings("https://kc.example.com", "acme");
        s.client_secret = ClientSecret::default();
        assert_eq!(s.validate(), Err(SettingsError::SecretMissing));
        s.client_id = String::new();
        assert_eq!(s.validate(), Err(SettingsError::ClientIdMissing));

        let disabled = KeycloakSettings::default();
        assert_eq!(disabled.validate(), Ok(()));
        let half_filled = KeycloakSettings {
            url: "gopher://x".to_owned(),
            ..KeycloakSettings::default()
        };
        assert!(half_filled.validate().is_err());
    }

    #[test]
    fn secret_is_redacted_in_debug_output() {
        let s = settings("https://kc.example.com", "acme");
        let printed = format!("{s:?}");
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(printed.contains("[redacted]"));
        assert_eq!(s.client_secret.expose(), "s3cret");
    }
}
