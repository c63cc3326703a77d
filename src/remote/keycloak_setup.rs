//! `gatehouse keycloak setup`: performs the integration guide's console
//! steps through Keycloak's Admin API with a Keycloak administrator's
//! credentials (used once, never stored), then saves the resulting
//! settings in the running gatehouse. Running it again changes nothing.
//!
//! Steps: the realm if missing; the client with exactly the guide's
//! capability config (client authentication on, authorization off,
//! standard flow, direct access grants and service accounts on),
//! redirect URI and web origin from gatehouse's public URL, back-channel
//! logout URL; a groups mapper and an audience mapper; the service
//! account's realm-management view-users role.

use anyhow::{Context, bail};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

pub struct SetupArgs {
    pub server: String,
    pub public_url: String,
    pub keycloak_url: String,
    pub realm: String,
    pub client_id: String,
    pub admin_user: String,
    pub admin_password: String,
}

struct Admin {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Admin {
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<(StatusCode, Value)> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer = request
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = answer.status();
        let value = answer.json().await.unwrap_or(Value::Null);
        if status.is_server_error()
            || status == StatusCode::UNAUTHORIZED
            || status == StatusCode::FORBIDDEN
        {
            bail!("Keycloak answered {status} to {method} {path}: {value}");
        }
        Ok((status, value))
    }
}

/// The guide's client, as Keycloak represents it.
fn desired_client(args: &SetupArgs) -> Value {
    let public = args.public_url.trim_end_matches('/');
    json!({
        "clientId": args.client_id,
        "enabled": true,
        "protocol": "openid-connect",
        "publicClient": false,
        "clientAuthenticatorType": "client-secret",
        "authorizationServicesEnabled": false,
        "standardFlowEnabled": true,
        "implicitFlowEnabled": false,
        "directAccessGrantsEnabled": true,
        "serviceAccountsEnabled": true,
        "frontchannelLogout": false,
        "rootUrl": "",
        "baseUrl": "",
        "redirectUris": [format!("{public}/*")],
        "webOrigins": [public],
        "attributes": {
            "post.logout.redirect.uris": "+",
            "backchannel.logout.url": format!("{public}/auth/keycloak/backchannel-logout"),
            "backchannel.logout.session.required": "true",
            "oauth2.device.authorization.grant.enabled": "false",
        },
    })
}

/// The first field of `desired` whose value differs in `actual`, as a
/// path like `attributes.backchannel.logout.url`; Keycloak leaves empty
/// texts and false flags out of what it returns, so those match an absent
/// field.
fn difference(actual: &Value, desired: &Value, path: &str) -> Option<String> {
    match (actual, desired) {
        (Value::Object(a), Value::Object(d)) => d.iter().find_map(|(k, v)| {
            let here = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            match a.get(k) {
                Some(av) => difference(av, v, &here),
                None if v == "" || v == false => None,
                None => Some(here),
            }
        }),
        (a, d) if a == d => None,
        _ => Some(path.to_owned()),
    }
}

fn covers(actual: &Value, desired: &Value) -> bool {
    difference(actual, desired, "").is_none()
}

fn merge(actual: &mut Value, desired: &Value) {
    match (actual, desired) {
        (Value::Object(a), Value::Object(d)) => {
            for (key, value) in d {
                merge(a.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
        (a, d) => *a = d.clone(),
    }
}

pub fn run(args: SetupArgs) -> anyhow::Result<()> {
    let token = std::env::var("GATEHOUSE_ADMIN_TOKEN")
        .context("set GATEHOUSE_ADMIN_TOKEN to gatehouse's admin token")?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let changes = runtime.block_on(configure(&args))?;
    for change in &changes.done {
        println!("changed: {change}");
    }
    if changes.done.is_empty() {
        println!("Keycloak already matches the guide: nothing changed.");
    }
    let settings = json!({
        "enabled": true,
        "url": args.keycloak_url,
        "realm": args.realm,
        "client_id": args.client_id,
        "client_secret": changes.secret,
    });
    let url = format!(
        "{}/admin/api/settings/keycloak",
        args.server.trim_end_matches('/')
    );
    let (status, body) = super::call(Method::PUT, &url, Some(&token), Some(settings))?;
    if !status.is_success() {
        bail!(
            "saving the settings in gatehouse failed ({status}): {}",
            body["detail"].as_str().unwrap_or("no detail")
        );
    }
    println!("Saved the Keycloak settings in gatehouse. Run `gatehouse keycloak check` to verify.");
    Ok(())
}

struct Changes {
    done: Vec<String>,
    secret: String,
}

async fn configure(args: &SetupArgs) -> anyhow::Result<Changes> {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(30))
        .build()?;
    let kc = args.keycloak_url.trim_end_matches('/');
    let answer = http
        .post(format!("{kc}/realms/master/protocol/openid-connect/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", "admin-cli"),
            ("username", args.admin_user.as_str()),
            ("password", args.admin_password.as_str()),
        ])
        .send()
        .await
        .with_context(|| format!("could not reach Keycloak at {kc}"))?;
    if !answer.status().is_success() {
        bail!(
            "Keycloak refused the administrator's credentials ({})",
            answer.status()
        );
    }
    let token: Value = answer.json().await?;
    let admin = Admin {
        http,
        base: format!("{kc}/admin/realms"),
        token: token["access_token"]
            .as_str()
            .context("no access token from Keycloak")?
            .to_owned(),
    };
    let mut done = Vec::new();
    let realm = &args.realm;

    let (status, _) = admin.call(Method::GET, &format!("/{realm}"), None).await?;
    if status == StatusCode::NOT_FOUND {
        admin
            .call(
                Method::POST,
                "",
                Some(&json!({"realm": realm, "enabled": true})),
            )
            .await?;
        done.push(format!("created realm {realm}"));
    }

    let desired = desired_client(args);
    let (_, found) = admin
        .call(
            Method::GET,
            &format!("/{realm}/clients?clientId={}", args.client_id),
            None,
        )
        .await?;
    let client_uuid = match found.as_array().and_then(|list| list.first()) {
        Some(existing) if covers(existing, &desired) => {
            existing["id"].as_str().unwrap_or_default().to_owned()
        }
        Some(existing) => {
            let field = difference(existing, &desired, "").unwrap_or_default();
            let mut updated = existing.clone();
            merge(&mut updated, &desired);
            let id = existing["id"].as_str().unwrap_or_default().to_owned();
            admin
                .call(
                    Method::PUT,
                    &format!("/{realm}/clients/{id}"),
                    Some(&updated),
                )
                .await?;
            done.push(format!(
                "updated client {} to the guide's settings ({field})",
                args.client_id
            ));
            id
        }
        None => {
            admin
                .call(Method::POST, &format!("/{realm}/clients"), Some(&desired))
                .await?;
            done.push(format!("created client {}", args.client_id));
            let (_, found) = admin
                .call(
                    Method::GET,
                    &format!("/{realm}/clients?clientId={}", args.client_id),
                    None,
                )
                .await?;
            found[0]["id"]
                .as_str()
                .context("the new client has no id")?
                .to_owned()
        }
    };

    let (_, mappers) = admin
        .call(
            Method::GET,
            &format!("/{realm}/clients/{client_uuid}/protocol-mappers/models"),
            None,
        )
        .await?;
    let has = |kind: &str| {
        mappers
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["protocolMapper"] == kind))
    };
    for (kind, mapper) in [
        (
            "oidc-group-membership-mapper",
            json!({"name": "groups", "protocol": "openid-connect",
            "protocolMapper": "oidc-group-membership-mapper", "config": {"claim.name": "groups",
            "full.path": "true", "id.token.claim": "true", "access.token.claim": "true",
            "userinfo.token.claim": "true"}}),
        ),
        (
            "oidc-audience-mapper",
            json!({"name": format!("audience {}", args.client_id), "protocol": "openid-connect",
            "protocolMapper": "oidc-audience-mapper", "config": {"included.client.audience": args.client_id,
            "id.token.claim": "false", "access.token.claim": "true"}}),
        ),
    ] {
        if !has(kind) {
            admin
                .call(
                    Method::POST,
                    &format!("/{realm}/clients/{client_uuid}/protocol-mappers/models"),
                    Some(&mapper),
                )
                .await?;
            done.push(format!("added the {kind}"));
        }
    }

    let (_, service_user) = admin
        .call(
            Method::GET,
            &format!("/{realm}/clients/{client_uuid}/service-account-user"),
            None,
        )
        .await?;
    let user_id = service_user["id"]
        .as_str()
        .context("the client has no service-account user")?;
    let (_, management) = admin
        .call(
            Method::GET,
            &format!("/{realm}/clients?clientId=realm-management"),
            None,
        )
        .await?;
    let management_id = management[0]["id"]
        .as_str()
        .context("no realm-management client")?;
    let mappings_path = format!("/{realm}/users/{user_id}/role-mappings/clients/{management_id}");
    let (_, granted) = admin.call(Method::GET, &mappings_path, None).await?;
    let has_view_users = granted
        .as_array()
        .is_some_and(|r| r.iter().any(|r| r["name"] == "view-users"));
    if !has_view_users {
        let (_, role) = admin
            .call(
                Method::GET,
                &format!("/{realm}/clients/{management_id}/roles/view-users"),
                None,
            )
            .await?;
        admin
            .call(Method::POST, &mappings_path, Some(&json!([role])))
            .await?;
        done.push("gave the service account realm-management view-users".to_owned());
    }

    let (_, secret) = admin
        .call(
            Method::GET,
            &format!("/{realm}/clients/{client_uuid}/client-secret"),
            None,
        )
        .await?;
    let secret = secret["value"]
        .as_str()
        .context("Keycloak returned no client secret")?
        .to_owned();
    Ok(Changes { done, secret })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn covers_and_merge_compare_only_the_guides_fields() {
        let mut actual = json!({"id": "1", "clientId": "c", "standardFlowEnabled": false,
                                "attributes": {"x": "1"}});
        let desired = json!({"standardFlowEnabled": true, "attributes": {"y": "2"}});
        assert!(!covers(&actual, &desired));
        merge(&mut actual, &desired);
        assert!(covers(&actual, &desired));
        assert_eq!(actual["attributes"]["x"], "1");
        assert_eq!(actual["id"], "1");
    }
}
