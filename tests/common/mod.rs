//! Starts the real `gatehouse` binary on a free port with a fresh data dir,
//! and talks to it over HTTP.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const STRONG_TOKEN: &str = "test-admin-token-Zq8vN2pL7xR4tY9wK3mB6c";

pub struct Server {
    child: Child,
    pub base_url: String,
    pub data_dir: PathBuf,
    output: Arc<Mutex<String>>,
}

pub fn fresh_data_dir() -> PathBuf {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let dir = std::env::temp_dir().join(format!("gatehouse-it-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn command(data_dir: &PathBuf, port: u16, admin_token: Option<&str>) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gatehouse"));
    command
        .arg("serve")
        .arg("--listen")
        .arg(format!("127.0.0.1:{port}"))
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("GATEHOUSE_ADMIN_TOKEN")
        .env_remove("GATEHOUSE_DATABASE_URL")
        .env_remove("GATEHOUSE_PUBLIC_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(token) = admin_token {
        command.env("GATEHOUSE_ADMIN_TOKEN", token);
    }
    command
}

impl Server {
    /// Starts the server and waits until `/healthz` answers.
    pub fn start(data_dir: &PathBuf, admin_token: Option<&str>) -> Self {
        let port = free_port();
        let mut child = command(data_dir, port, admin_token)
            .spawn()
            .expect("spawn gatehouse");
        let output = Arc::new(Mutex::new(String::new()));
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = Arc::clone(&output);
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut out = output.lock().unwrap();
                    out.push_str(&line);
                    out.push('\n');
                }
            });
        }
        let server = Self {
            child,
            base_url: format!("http://127.0.0.1:{port}"),
            data_dir: data_dir.clone(),
            output,
        };
        server.wait_healthy();
        server
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if answers_200(&format!("{}/healthz", self.base_url)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "gatehouse did not become healthy; its output:\n{}",
            self.output()
        );
    }

    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// Sends SIGTERM and says whether the process exited within `limit`.
    pub fn terminates_within(&mut self, limit: Duration) -> bool {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        false
    }

    /// Stops the server and waits for it to exit.
    pub fn stop(mut self) -> String {
        self.terminate();
        self.output()
    }

    fn terminate(&mut self) {
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.terminate();
        }
    }
}

/// Runs the binary to completion (for start-up failures): exit success and output.
pub fn run_to_exit(data_dir: &PathBuf, admin_token: Option<&str>) -> (bool, String) {
    let out = command(data_dir, free_port(), admin_token)
        .output()
        .expect("run gatehouse");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// A plain GET over std that says whether the answer was 200, so health
/// polling needs no async runtime.
fn answers_200(url: &str) -> bool {
    use std::io::{Read, Write};
    let rest = url.trim_start_matches("http://");
    let (host, path) = match rest.split_once('/') {
        Some((host, path)) => (host, format!("/{path}")),
        None => (rest, "/".to_owned()),
    };
    let Ok(mut stream) = std::net::TcpStream::connect(host) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200")
}

/// An HTTP client for tests: no redirects followed, so tests see them.
pub fn http_client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}
