//! The pages a person sees before signing in, the administrator login, and
//! the protections around them.

#![allow(clippy::unwrap_used)]

mod common;

use common::{STRONG_TOKEN, Server, fresh_data_dir, http_client};

#[tokio::test]
async fn login_page_without_keycloak_offers_only_the_administrator_login() {
    let server = Server::start(&fresh_data_dir(), Some(STRONG_TOKEN));
    let client = http_client();

    let login = client.get(server.url("/login")).send().await.unwrap();
    assert_eq!(login.status(), 200);
    let html = login.text().await.unwrap();
    assert!(html.contains("Administrator login"));
    assert!(!html.contains("Continue to Keycloak"));

    let me = client.get(server.url("/me")).send().await.unwrap();
    assert_eq!(me.status(), 303);
    assert_eq!(me.headers()["location"], "/login");

    let start = client
        .get(server.url("/auth/keycloak/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 404);
    assert!(
        start
            .text()
            .await
            .unwrap()
            .contains("data-error=\"keycloak_disabled\"")
    );

    let callback = client
        .get(server.url("/auth/keycloak/callback?state=forged&code=x"))
        .send()
        .await
        .unwrap();
    assert_eq!(callback.status(), 400);
    assert!(
        callback
            .text()
            .await
            .unwrap()
            .contains("data-error=\"login_expired\"")
    );
}

#[tokio::test]
async fn administrator_login_sets_a_safe_cookie_and_opens_the_console() {
    let server = Server::start(&fresh_data_dir(), Some(STRONG_TOKEN));
    let client = http_client();

    let wrong = client
        .post(server.url("/admin/login"))
        .form(&[("token", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(
        wrong
            .text()
            .await
            .unwrap()
            .contains("That admin token is not valid")
    );

    let right = client
        .post(server.url("/admin/login"))
        .form(&[("token", STRONG_TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(right.status(), 303);
    assert_eq!(right.headers()["location"], "/admin");
    let cookie = right.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_owned();

    let console = client
        .get(server.url("/admin/settings/auth"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(console.status(), 200);
    let html = console.text().await.unwrap();
    assert!(html.contains("Save Settings") && html.contains("id=\"client-secret-status\">not set"));

    let anonymous = client
        .get(server.url("/admin/settings/auth"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 303);
    assert_eq!(anonymous.headers()["location"], "/admin/login");
}

#[tokio::test]
async fn forms_from_another_site_or_without_the_csrf_token_are_refused() {
    let server = Server::start(&fresh_data_dir(), Some(STRONG_TOKEN));
    let client = http_client();

    let cross_site = client
        .post(server.url("/admin/login"))
        .header("origin", "https://evil.example")
        .form(&[("token", STRONG_TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    assert!(
        cross_site
            .text()
            .await
            .unwrap()
            .contains("data-error=\"cross_site\"")
    );

    let signed_in = client
        .post(server.url("/admin/login"))
        .form(&[("token", STRONG_TOKEN)])
        .send()
        .await
        .unwrap();
    let session = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let no_csrf = client
        .post(server.url("/admin/settings/auth"))
        .header("cookie", &session)
        .form(&[
            ("enabled", "on"),
            ("url", "https://kc.example.com"),
            ("realm", "r"),
            ("client_id", "c"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(no_csrf.status(), 403);
    assert!(
        no_csrf
            .text()
            .await
            .unwrap()
            .contains("data-error=\"stale_form\"")
    );
}

#[tokio::test]
async fn repeated_wrong_admin_tokens_are_throttled() {
    let server = Server::start(&fresh_data_dir(), Some(STRONG_TOKEN));
    let client = http_client();
    for _ in 0..5 {
        let answer = client
            .post(server.url("/admin/login"))
            .form(&[("token", "guess")])
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 401);
    }
    let blocked = client
        .post(server.url("/admin/login"))
        .form(&[("token", STRONG_TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(blocked.status(), 429);
    assert!(
        blocked
            .text()
            .await
            .unwrap()
            .contains("Too many failed attempts")
    );
}

#[tokio::test]
async fn health_and_readiness_answer() {
    let server = Server::start(&fresh_data_dir(), Some(STRONG_TOKEN));
    let client = http_client();
    assert_eq!(
        client
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client
            .get(server.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let missing = client
        .get(server.url("/nothing-here"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn console_pages_and_metrics_render() {
    let server = Server::start(&fresh_data_dir(), Some(STRONG_TOKEN));
    let client = http_client();
    let signed_in = client
        .post(server.url("/admin/login"))
        .form(&[("token", STRONG_TOKEN)])
        .send()
        .await
        .unwrap();
    let session = signed_in.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();

    let models = client
        .get(server.url("/admin/models"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(models.status(), 200);
    assert!(models.text().await.unwrap().contains("No upstream yet"));

    let usage = client
        .get(server.url("/admin/usage?group=team"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(usage.status(), 200);
    let html = usage.text().await.unwrap();
    assert!(html.contains("id=\"usage-chart\"") && html.contains("No requests in this period"));

    // Empty Users and Teams pages say what will appear there.
    for (path, expected) in [
        ("/admin/users", "Nobody yet"),
        (
            "/admin/teams",
            "No mapping: everyone is in the default team",
        ),
        ("/admin/users/no-such-id", "No such user"),
    ] {
        let page = client
            .get(server.url(path))
            .header("cookie", &session)
            .send()
            .await
            .unwrap();
        let status = page.status();
        let html = page.text().await.unwrap();
        assert!(
            html.contains(expected),
            "{path} ({status}) lacks {expected:?}"
        );
    }

    let csv = client
        .get(server.url("/admin/usage.csv"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(csv.text().await.unwrap().starts_with("name,requests,"));

    let metrics = client
        .get(server.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("gatehouse_http_requests_total{route=\"/admin/models\",status=\"200\"} 1")
    );
    assert!(metrics.contains("# TYPE gatehouse_http_request_duration_seconds histogram"));
}

#[tokio::test]
async fn inference_api_refuses_requests_without_a_valid_key() {
    let server = Server::start(&fresh_data_dir(), Some(STRONG_TOKEN));
    let client = http_client();
    let cases: [(Option<&str>, &str); 3] = [
        (None, "no Plugin API Key"),
        (Some("sk-not-ours"), "not a gatehouse Plugin API Key"),
        (
            Some("gk_abcdefghijkl_0123456789012345678901234567890123456789"),
            "unknown, revoked",
        ),
    ];
    for (key, expected) in cases {
        let mut request = client.post(server.url("/v1/chat/completions")).body("{}");
        if let Some(key) = key {
            request = request.bearer_auth(key);
        }
        let answer = request.send().await.unwrap();
        assert_eq!(answer.status(), 401);
        let body: serde_json::Value = answer.json().await.unwrap();
        assert!(
            body["detail"].as_str().unwrap().contains(expected),
            "{body}"
        );
        assert_eq!(body["error"]["message"], body["detail"]);
    }
}

#[test]
fn the_server_stops_promptly_on_sigterm() {
    let mut server = Server::start(&fresh_data_dir(), Some(STRONG_TOKEN));
    assert!(
        server.terminates_within(std::time::Duration::from_secs(10)),
        "gatehouse did not exit within 10 s of SIGTERM; its output:\n{}",
        server.output()
    );
    assert!(server.output().contains("gatehouse stopped"));
}
