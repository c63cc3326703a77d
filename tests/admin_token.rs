//! The admin token at start-up: weak ones refused, a generated one shown
//! once and kept only as a hash.

#![allow(clippy::unwrap_used)]

mod common;

use common::{STRONG_TOKEN, Server, fresh_data_dir, http_client, run_to_exit};

#[test]
fn weak_admin_tokens_are_refused_with_a_clear_message() {
    for weak in ["12345", "changeme", "short-but-not-default"] {
        let (ok, output) = run_to_exit(&fresh_data_dir(), Some(weak));
        assert!(!ok, "gatehouse started with the weak token {weak:?}");
        assert!(
            output.contains("GATEHOUSE_ADMIN_TOKEN is too weak"),
            "output: {output}"
        );
        assert!(
            !output.contains(weak) || weak == "changeme",
            "the weak token was echoed: {output}"
        );
    }
}

#[tokio::test]
async fn generated_token_is_shown_once_and_works_after_restart() {
    let data_dir = fresh_data_dir();
    let first = Server::start(&data_dir, None);
    let output = first.stop();
    let token = output
        .split_whitespace()
        .find(|word| word.starts_with("gha_"))
        .unwrap_or_else(|| panic!("no generated token in the output:\n{output}"))
        .to_owned();

    let second = Server::start(&data_dir, None);
    let answer = http_client()
        .get(second.url("/admin/api/settings/keycloak"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let output = second.stop();
    assert!(
        !output.contains(&token),
        "the token was shown again:\n{output}"
    );
    let db = std::fs::read(data_dir.join("gatehouse.db")).unwrap();
    let db = String::from_utf8_lossy(&db);
    assert!(!db.contains(&token), "the plain token is in the database");
}

#[tokio::test]
async fn configured_token_authorizes_the_api_and_is_not_logged() {
    let server = Server::start(&fresh_data_dir(), Some(STRONG_TOKEN));
    let client = http_client();
    let url = server.url("/admin/api/settings/keycloak");

    let missing = client.get(&url).send().await.unwrap();
    assert_eq!(missing.status(), 401);
    let body: serde_json::Value = missing.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("Bearer"));

    let wrong = client
        .get(&url)
        .bearer_auth("not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);

    let right = client
        .get(&url)
        .bearer_auth(STRONG_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 200);
    assert!(!server.stop().contains(STRONG_TOKEN));
}
