//! The connection check: walks the integration guide's Keycloak settings
//! one by one against the real server and says, for each, whether it holds
//! and what to change in Keycloak's console when it does not. A check that
//! cannot run because an earlier one failed is reported as skipped, so one
//! problem is named once.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;

use crate::app::AppState;
use crate::crypto::random_alphanumeric;
use crate::directory::DirectoryError;
use crate::keycloak::{KeycloakError, KeycloakSettings};
use crate::store::now_millis;

const MAX_SKEW_SECONDS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pass,
    Fail,
    Skipped,
}

#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub id: &'static str,
    pub title: &'static str,
    pub outcome: Outcome,
    pub detail: String,
    /// What to do in Keycloak's console; empty when the check passed.
    pub fix: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub ok: bool,
    pub checks: Vec<Check>,
}

fn check(
    id: &'static str,
    title: &'static str,
    outcome: Outcome,
    detail: String,
    fix: &str,
) -> Check {
    let fix = if outcome == Outcome::Fail {
        fix.to_owned()
    } else {
        String::new()
    };
    Check {
        id,
        title,
        outcome,
        detail,
        fix,
    }
}

fn skipped(id: &'static str, title: &'static str, because: &str) -> Check {
    check(
        id,
        title,
        Outcome::Skipped,
        format!("not checked: {because}"),
        "",
    )
}

/// Runs every check against the saved settings.
pub async fn run(app: &AppState, settings: &KeycloakSettings) -> Report {
    let mut checks = Vec::new();
    let client = settings.client_id.trim();

    // 1. Server URL and realm.
    let discovery = app.keycloak.check_discovery(settings).await;
    checks.push(match &discovery {
        Ok(issuer) => check("discovery", "Server URL and realm", Outcome::Pass, format!("Keycloak answers as {issuer}"), ""),
        Err(err) => check(
            "discovery",
            "Server URL and realm",
            Outcome::Fail,
            err.user_message(),
            "Check the Server URL (e.g. https://keycloak.example.com/) and the Realm Name; behind a \
             proxy, start Keycloak with --hostname set to its public address.",
        ),
    });
    if discovery.is_err() {
        for (id, title) in [
            ("client_secret", "Client ID and Client Secret"),
            ("service_account", "Service Accounts Roles enabled"),
            ("view_users", "Service account has view-users"),
            ("redirect_uri", "Valid Redirect URIs cover gatehouse"),
            ("direct_grants", "Direct Access Grants enabled"),
            ("clock", "Clocks agree"),
        ] {
            checks.push(skipped(id, title, "Keycloak's realm could not be reached"));
        }
        return finish(checks);
    }

    // 2-4. Client credentials, the service account and its role.
    let token = app
        .directory
        .service_account()
        .fresh_access_token(settings)
        .await;
    match &token {
        Ok(_) => {
            checks.push(check(
                "client_secret",
                "Client ID and Client Secret",
                Outcome::Pass,
                format!("Keycloak accepts client {client}"),
                "",
            ));
            checks.push(check(
                "service_account",
                "Service Accounts Roles enabled",
                Outcome::Pass,
                "the client gets a service-account token".into(),
                "",
            ));
        }
        Err(DirectoryError::ServiceAccountDisabled { .. }) => {
            checks.push(check(
                "client_secret",
                "Client ID and Client Secret",
                Outcome::Pass,
                format!("Keycloak accepts client {client}"),
                "",
            ));
            checks.push(check(
                "service_account",
                "Service Accounts Roles enabled",
                Outcome::Fail,
                "Keycloak refuses a service-account token for this client".into(),
                "In Keycloak: Clients > your client > Settings > Capability config: turn on \
                 \"Service accounts roles\", then Save.",
            ));
        }
        Err(err @ DirectoryError::InvalidClient { .. }) => {
            checks.push(check(
                "client_secret",
                "Client ID and Client Secret",
                Outcome::Fail,
                err.to_string(),
                "In Keycloak: Clients > your client > Credentials: copy the Client Secret into \
                 Settings > Auth; check that Client authentication is ON and the Client ID matches.",
            ));
            checks.push(skipped(
                "service_account",
                "Service Accounts Roles enabled",
                "the client secret was refused",
            ));
        }
        Err(err) => {
            checks.push(check(
                "client_secret",
                "Client ID and Client Secret",
                Outcome::Fail,
                err.to_string(),
                &err.fix(),
            ));
            checks.push(skipped(
                "service_account",
                "Service Accounts Roles enabled",
                "no token could be requested",
            ));
        }
    }
    checks.push(match &token {
        Ok(token) => view_users_check(app, settings, token).await,
        Err(_) => skipped(
            "view_users",
            "Service account has view-users",
            "no service-account token",
        ),
    });

    // 5. The redirect URI.
    checks.push(redirect_uri_check(app, settings).await);

    // 6. Direct Access Grants: a made-up user must be refused as a user, not as a client.
    let secret_refused = checks
        .iter()
        .any(|c| c.id == "client_secret" && c.outcome == Outcome::Fail);
    if secret_refused {
        checks.push(skipped(
            "direct_grants",
            "Direct Access Grants enabled",
            "the client secret was refused",
        ));
    } else {
        checks.push(direct_grants_check(app, settings).await);
    }

    // 7. Clock skew, from the service-account token's issue time.
    checks.push(match &token {
        Ok(token) => clock_check(token),
        Err(_) => skipped("clock", "Clocks agree", "no service-account token"),
    });
    finish(checks)
}

async fn direct_grants_check(app: &AppState, settings: &KeycloakSettings) -> Check {
    let probe = format!("gatehouse-check-{}", random_alphanumeric(10).to_lowercase());
    match app
        .keycloak
        .password_sign_in(settings, &probe, "not-a-password")
        .await
    {
        Err(KeycloakError::CodeRejected { .. }) => check(
            "direct_grants",
            "Direct Access Grants enabled",
            Outcome::Pass,
            "Keycloak checks passwords for this client".into(),
            "",
        ),
        Err(KeycloakError::TokenRequestRefused { error, description })
            if error == "unauthorized_client" =>
        {
            check(
                "direct_grants",
                "Direct Access Grants enabled",
                Outcome::Fail,
                format!("Keycloak refuses password sign-in for this client ({description})"),
                "In Keycloak: Clients > your client > Settings > Capability config: tick \"Direct \
             access grants\", then Save. (Or switch password sign-in off in Settings > Auth.)",
            )
        }
        Ok(_) => check(
            "direct_grants",
            "Direct Access Grants enabled",
            Outcome::Pass,
            "Keycloak checks passwords for this client".into(),
            "",
        ),
        Err(err) => check(
            "direct_grants",
            "Direct Access Grants enabled",
            Outcome::Fail,
            err.user_message(),
            "See the detail.",
        ),
    }
}

fn finish(checks: Vec<Check>) -> Report {
    Report {
        ok: checks.iter().all(|c| c.outcome != Outcome::Fail),
        checks,
    }
}

/// The claims of a token that came straight from Keycloak over our own
/// connection; read for diagnosis only, never trusted for access.
fn claims_of(token: &str) -> serde_json::Value {
    token
        .split('.')
        .nth(1)
        .and_then(|part| URL_SAFE_NO_PAD.decode(part).ok())
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or(serde_json::Value::Null)
}

async fn view_users_check(app: &AppState, settings: &KeycloakSettings, token: &str) -> Check {
    const TITLE: &str = "Service account has view-users";
    const FIX: &str = "In Keycloak: Clients > your client > Service accounts roles > Assign role > \
                       Filter by clients > realm-management view-users > Assign.";
    let claims = claims_of(token);
    let in_token = claims["resource_access"]["realm-management"]["roles"]
        .as_array()
        .is_some_and(|roles| roles.iter().any(|r| r == "view-users"));
    let probe = app
        .directory
        .service_account()
        .user(settings, &random_alphanumeric(12))
        .await;
    match (in_token, probe) {
        (true, Ok(_)) => check(
            "view_users",
            TITLE,
            Outcome::Pass,
            "the role is in the token and reading users works".into(),
            "",
        ),
        (false, _) => check(
            "view_users",
            TITLE,
            Outcome::Fail,
            "the service-account token has no realm-management view-users role".into(),
            FIX,
        ),
        (true, Err(err)) => check(
            "view_users",
            TITLE,
            Outcome::Fail,
            format!("the role is in the token, but reading a user failed: {err}"),
            FIX,
        ),
    }
}

async fn redirect_uri_check(app: &AppState, settings: &KeycloakSettings) -> Check {
    const TITLE: &str = "Valid Redirect URIs cover gatehouse";
    let callback = app.public_url.join(crate::accounts::signin::CALLBACK_PATH);
    let url = format!("{}/protocol/openid-connect/auth", settings.issuer());
    let answer = app
        .keycloak_http
        .get(&url)
        .query(&[
            ("client_id", settings.client_id.trim()),
            ("redirect_uri", callback.as_str()),
            ("response_type", "code"),
            ("scope", "openid"),
        ])
        .send()
        .await;
    match answer {
        Ok(answer) if answer.status().is_success() => check(
            "redirect_uri",
            TITLE,
            Outcome::Pass,
            format!("Keycloak accepts {callback}"),
            "",
        ),
        Ok(answer) => {
            let status = answer.status();
            let text = answer.text().await.unwrap_or_default();
            let detail = if text.contains("redirect_uri") {
                format!("Keycloak refuses the redirect URI {callback}")
            } else {
                format!("Keycloak's authorization endpoint answered HTTP {status}")
            };
            check(
                "redirect_uri",
                TITLE,
                Outcome::Fail,
                detail,
                &format!(
                    "In Keycloak: Clients > your client > Settings > Access settings: add {}/* to \
                     Valid redirect URIs and {} to Web origins, then Save.",
                    app.public_url.as_str(),
                    app.public_url.origin()
                ),
            )
        }
        Err(err) => check(
            "redirect_uri",
            TITLE,
            Outcome::Fail,
            format!("no answer: {err}"),
            "Check the Server URL.",
        ),
    }
}

fn clock_check(token: &str) -> Check {
    const TITLE: &str = "Clocks agree";
    let Some(issued) = claims_of(token)["iat"].as_i64() else {
        return skipped("clock", TITLE, "the token has no issue time");
    };
    let skew = now_millis() / 1000 - issued;
    if skew.abs() <= MAX_SKEW_SECONDS {
        check("clock", TITLE, Outcome::Pass, format!("{skew} s apart"), "")
    } else {
        check(
            "clock",
            TITLE,
            Outcome::Fail,
            format!("gatehouse's clock and Keycloak's are {skew} s apart"),
            "Synchronize the clocks of both machines (NTP).",
        )
    }
}
