//! `gatehouse keycloak check`: runs the connection check on a running
//! gatehouse and prints each result with its fix. Needs the admin token in
//! `GATEHOUSE_ADMIN_TOKEN`; exits non-zero when a check fails.

use anyhow::{Context, bail};

pub fn check(server: &str) -> anyhow::Result<()> {
    let token = std::env::var("GATEHOUSE_ADMIN_TOKEN")
        .context("set GATEHOUSE_ADMIN_TOKEN to the admin token")?;
    let url = format!("{}/admin/api/keycloak/check", server.trim_end_matches('/'));
    let (status, body) = super::call(reqwest::Method::GET, &url, Some(&token), None)?;
    if !status.is_success() {
        bail!(
            "the check could not run ({status}): {}",
            body["detail"].as_str().unwrap_or("no detail")
        );
    }
    for check in body["checks"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
    {
        let outcome = check["outcome"].as_str().unwrap_or("?");
        let mark = match outcome {
            "pass" => "PASS",
            "fail" => "FAIL",
            _ => "SKIP",
        };
        println!(
            "{mark}  {}: {}",
            check["title"].as_str().unwrap_or("?"),
            check["detail"].as_str().unwrap_or("")
        );
        if let Some(fix) = check["fix"].as_str().filter(|f| !f.is_empty()) {
            println!("      fix: {fix}");
        }
    }
    if body["ok"].as_bool() != Some(true) {
        bail!("some checks failed; see the fixes above");
    }
    Ok(())
}
