//! GET requests to one realm's admin REST API with the service account's token, counted, and
//! their answers turned into JSON or into the error that names the cause: 403 means the
//! service account lacks `view-users`. A 401 is retried once with a fresh token (the cached
//! one may have been revoked); a second 401 is an error.

use std::sync::atomic::{AtomicUsize, Ordering};

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, HeaderValue};
use serde::de::DeserializeOwned;
use tracing::debug;
use url::Url;

use super::ServiceAccount;
use super::endpoints::Endpoints;
use super::error::DirectoryError;
use super::transport::{self, Answer, shown_path, shown_url};
use crate::keycloak::KeycloakSettings;

pub(super) struct AdminApi<'a> {
    account: &'a ServiceAccount,
    settings: &'a KeycloakSettings,
    endpoints: Endpoints,
    requests: AtomicUsize,
}

impl<'a> AdminApi<'a> {
    pub fn new(
        account: &'a ServiceAccount,
        settings: &'a KeycloakSettings,
    ) -> Result<Self, DirectoryError> {
        Ok(Self {
            account,
            settings,
            endpoints: Endpoints::new(settings)?,
            requests: AtomicUsize::new(0),
        })
    }

    pub fn realm(&self) -> &str {
        self.endpoints.realm()
    }

    /// HTTP requests made so far, token requests included.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// The path of an admin resource as errors show it, e.g. `/admin/realms/acme/users`.
    pub fn path(&self, segments: &[&str]) -> String {
        shown_path(&self.endpoints.admin(segments, &[]))
    }

    /// GETs `{admin}/{segments}?{query}`, which must answer 2xx with `T` as JSON.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<T, DirectoryError> {
        let url = self.endpoints.admin(segments, query);
        let answer = self.get(&url).await?;
        self.decode(&url, answer)
    }

    /// Like `get_json`, but a 404 is `None`.
    pub async fn get_json_or_none<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> Result<Option<T>, DirectoryError> {
        let url = self.endpoints.admin(segments, query);
        let answer = self.get(&url).await?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        self.decode(&url, answer).map(Some)
    }

    async fn get(&self, url: &Url) -> Result<Answer, DirectoryError> {
        let mut answer = self.get_once(url).await?;
        if answer.status == StatusCode::UNAUTHORIZED {
            debug!(path = %shown_path(url), "admin API refused the token; fetching a new one");
            self.account.forget_token(self.settings);
            answer = self.get_once(url).await?;
        }
        Ok(answer)
    }

    async fn get_once(&self, url: &Url) -> Result<Answer, DirectoryError> {
        let (token, fetched) = self.account.token(self.settings, &self.endpoints).await?;
        if fetched {
            self.requests.fetch_add(1, Ordering::Relaxed);
        }
        let request = self
            .account
            .http()
            .get(url.clone())
            .header(ACCEPT, HeaderValue::from_static("application/json"))
            .bearer_auth(token)
            .build()
            .map_err(|_| DirectoryError::Unreachable {
                url: shown_url(url),
                reason: "the request could not be built".to_owned(),
            })?;
        self.requests.fetch_add(1, Ordering::Relaxed);
        transport::send(self.account.http(), request).await
    }

    fn decode<T: DeserializeOwned>(&self, url: &Url, answer: Answer) -> Result<T, DirectoryError> {
        let path = shown_path(url);
        match answer.status {
            status if status.is_success() => {
                serde_json::from_slice(&answer.body).map_err(|e| DirectoryError::MalformedAnswer {
                    path,
                    detail: e.to_string(),
                })
            }
            StatusCode::FORBIDDEN => Err(DirectoryError::MissingViewUsers {
                client_id: self.settings.client_id.trim().to_owned(),
                path,
            }),
            status => Err(DirectoryError::KeycloakStatus {
                status: status.as_u16(),
                path,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keycloak::ClientSecret;

    fn decode(status: u16, body: &str) -> Result<Vec<String>, DirectoryError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let account = ServiceAccount::new(reqwest::Client::new());
        let settings = KeycloakSettings {
            enabled: true,
            url: "http://kc".into(),
            realm: "acme".into(),
            client_id: "refact_client".into(),
            client_secret: ClientSecret::from("s3cret".to_owned()),
        };
        let api = AdminApi::new(&account, &settings).expect("complete settings");
        let url = api.endpoints.admin(&["users"], &[("max", "1".into())]);
        let answer = Answer {
            status: StatusCode::from_u16(status).expect("valid status"),
            body: body.as_bytes().to_vec(),
        };
        api.decode(&url, answer)
    }

    #[test]
    fn statuses_map_to_causes() {
        assert_eq!(decode(200, r#"["a"]"#).expect("ok"), vec!["a".to_owned()]);

        let forbidden = decode(403, r#"{"error":"unknown_error"}"#).expect_err("403");
        assert_eq!(forbidden.code(), "missing_view_users");
        assert!(
            forbidden
                .fix()
                .contains("Clients > refact_client > Service accounts roles")
        );

        let missing = decode(404, r#"{"error":"Realm not found."}"#).expect_err("404");
        assert_eq!(missing.code(), "keycloak_error");
        assert_eq!(
            missing.to_string(),
            "Keycloak answered HTTP 404 for /admin/realms/acme/users?max=1"
        );

        let failing = decode(500, "").expect_err("500");
        assert_eq!(failing.code(), "keycloak_error");
    }

    #[test]
    fn unreadable_json_is_malformed() {
        let err = decode(200, "<html>").expect_err("not JSON");
        assert_eq!(err.code(), "malformed_answer");
        let err = decode(200, r#"{"users":[]}"#).expect_err("not a list");
        assert_eq!(err.code(), "malformed_answer");
    }
}
