//! `gatehouse directory sync`: asks a running gatehouse to sync its
//! directory with Keycloak now, waits, and prints the summary. Needs the
//! admin token in `GATEHOUSE_ADMIN_TOKEN`.

use anyhow::{Context, bail};

pub fn sync(server: &str) -> anyhow::Result<()> {
    let token = std::env::var("GATEHOUSE_ADMIN_TOKEN")
        .context("set GATEHOUSE_ADMIN_TOKEN to the admin token")?;
    let url = format!(
        "{}/admin/api/directory/sync?wait=true",
        server.trim_end_matches('/')
    );
    eprintln!("Syncing the directory with Keycloak…");
    let (status, body) = super::call(reqwest::Method::POST, &url, Some(&token), None)?;
    if !status.is_success() {
        let detail = body["detail"].as_str().unwrap_or("no detail given");
        match body["fix"].as_str() {
            Some(fix) => bail!("directory sync failed ({status}): {detail}\nTo fix: {fix}"),
            None => bail!("directory sync failed ({status}): {detail}"),
        }
    }
    let s = &body["summary"];
    println!(
        "Directory sync {}: {} users in Keycloak; {} added, {} updated, {} disabled, {} removed, {} re-enabled, {} unchanged.",
        body["id"].as_str().unwrap_or("?"),
        s["users_in_keycloak"],
        s["added"],
        s["updated"],
        s["disabled"],
        s["removed"],
        s["reenabled"],
        s["unchanged"]
    );
    Ok(())
}
