//! Settings > Auth through `/admin/api/settings/keycloak`: validation, the
//! secret kept but never returned, and changes visible at once.

#![allow(clippy::unwrap_used)]

mod common;

use common::{STRONG_TOKEN, Server, fresh_data_dir, http_client};
use serde_json::{Value, json};

const SECRET: &str = "kc-client-secret-value-7f3a9c";

#[tokio::test]
async fn settings_round_trip_without_ever_returning_the_secret() {
    let server = Server::start(&fresh_data_dir(), Some(STRONG_TOKEN));
    let client = http_client();
    let url = server.url("/admin/api/settings/keycloak");

    let initial: Value = client
        .get(&url)
        .bearer_auth(STRONG_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(initial["enabled"], false);
    assert_eq!(initial["client_secret_set"], false);

    let saved = client
        .put(&url)
        .bearer_auth(STRONG_TOKEN)
        .json(&json!({
            "enabled": true,
            "url": "https://keycloak.example.com/",
            "realm": "acme",
            "client_id": "refact_client",
            "client_secret": SECRET,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200);
    let saved_text = saved.text().await.unwrap();
    assert!(!saved_text.contains(SECRET));

    // Leaving the secret out keeps the saved one.
    let renamed = client
        .put(&url)
        .bearer_auth(STRONG_TOKEN)
        .json(&json!({
            "enabled": true,
            "url": "https://keycloak.example.com/",
            "realm": "acme2",
            "client_id": "refact_client",
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), 200);

    let body = client
        .get(&url)
        .bearer_auth(STRONG_TOKEN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!body.contains(SECRET));
    let current: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(current["realm"], "acme2");
    assert_eq!(current["url"], "https://keycloak.example.com/");
    assert_eq!(current["client_secret_set"], true);

    // The login page offers Keycloak as soon as it is enabled: no restart.
    let login = client
        .get(server.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(login.contains("Continue to Keycloak"));

    let output = server.stop();
    assert!(!output.contains(SECRET), "the client secret was logged");
}

#[tokio::test]
async fn the_secret_is_encrypted_at_rest() {
    let data_dir = fresh_data_dir();
    let server = Server::start(&data_dir, Some(STRONG_TOKEN));
    let answer = http_client()
        .put(server.url("/admin/api/settings/keycloak"))
        .bearer_auth(STRONG_TOKEN)
        .json(
            &json!({"enabled": true, "url": "http://kc.local:8080", "realm": "r",
                      "client_id": "c", "client_secret": SECRET}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    server.stop();
    for file in ["gatehouse.db", "gatehouse.db-wal"] {
        let bytes = std::fs::read(data_dir.join(file)).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(SECRET),
            "{file} holds the plain secret"
        );
    }
}

#[tokio::test]
async fn invalid_settings_are_refused_with_a_detail_and_change_nothing() {
    let server = Server::start(&fresh_data_dir(), Some(STRONG_TOKEN));
    let client = http_client();
    let url = server.url("/admin/api/settings/keycloak");

    let cases = [
        json!({"enabled": true, "url": "not a url", "realm": "r", "client_id": "c", "client_secret": "s"}),
        json!({"enabled": true, "url": "https://kc.example.com", "realm": "", "client_id": "c", "client_secret": "s"}),
        json!({"enabled": true, "url": "https://kc.example.com", "realm": "r", "client_id": "", "client_secret": "s"}),
        json!({"enabled": true, "url": "https://kc.example.com", "realm": "r", "client_id": "c"}),
    ];
    for case in cases {
        let answer = client
            .put(&url)
            .bearer_auth(STRONG_TOKEN)
            .json(&case)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 400, "accepted {case}");
        let body: Value = answer.json().await.unwrap();
        assert!(!body["detail"].as_str().unwrap().is_empty());
    }

    let malformed = client
        .put(&url)
        .bearer_auth(STRONG_TOKEN)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(malformed.status(), 400);
    let body: Value = malformed.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("expected JSON"));

    let current: Value = client
        .get(&url)
        .bearer_auth(STRONG_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(current["enabled"], false);
    assert_eq!(current["url"], "");
}
