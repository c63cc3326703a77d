//! `gatehouse login`: signs in with user name and password against a
//! running gatehouse (`POST /v1/login`) and prints the Plugin API Key and
//! endpoint to paste into an IDE plugin. The password is read from the
//! terminal without echo, or from standard input when that is not a
//! terminal (for scripts).

use std::io::{BufRead, IsTerminal, Write};
use std::process::Command;

use anyhow::{Context, bail};

/// Runs the command; `server` is gatehouse's public URL.
pub fn run(server: &str, username: Option<String>) -> anyhow::Result<()> {
    let server = server.trim_end_matches('/').to_owned();
    let username = match username {
        Some(name) => name,
        None => prompt("Username: ", false)?,
    };
    let password = prompt("Password: ", true)?;

    let body = serde_json::json!({"username": username, "password": password});
    let (status, body) = super::call(
        reqwest::Method::POST,
        &format!("{server}/v1/login"),
        None,
        Some(body),
    )?;
    if !status.is_success() {
        let detail = body["detail"].as_str().unwrap_or("no detail given");
        bail!("sign-in failed ({status}): {detail}");
    }
    println!(
        "Signed in as {} (team {}).",
        body["username"].as_str().unwrap_or("?"),
        body["team"].as_str().unwrap_or("?")
    );
    println!(
        "Endpoint:       {}",
        body["endpoint"].as_str().unwrap_or(&server)
    );
    println!(
        "Plugin API Key: {}",
        body["plugin_api_key"].as_str().unwrap_or("?")
    );
    if let Some(at) = body["plugin_api_key_expires_at"].as_i64() {
        let until = crate::dates::utc_time(at.saturating_mul(1000));
        println!("Valid until:    {until} (sign in again after that for a new key)");
    }
    Ok(())
}

pub fn prompt(label: &str, secret: bool) -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    let interactive = stdin.is_terminal();
    if interactive {
        eprint!("{label}");
        std::io::stderr().flush()?;
    }
    let hide = secret && interactive;
    if hide {
        let _ = Command::new("stty").arg("-echo").status();
    }
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if hide {
        let _ = Command::new("stty").arg("echo").status();
        eprintln!();
    }
    read.context("reading from the terminal")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
