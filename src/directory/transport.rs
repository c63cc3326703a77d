//! One HTTP exchange with Keycloak for the directory: no `Origin` header, no redirects, and at
//! most 8 MiB of answer. Failures to get any answer become `keycloak_unreachable`, as do the
//! 502-504 a proxy gives while Keycloak is down. Limitation: the redirect policy belongs to the
//! reqwest client; one that follows redirects is caught after the fact and its answer refused.

use reqwest::StatusCode;
use reqwest::header::ORIGIN;
use url::{Position, Url};

use super::error::DirectoryError;

/// Largest answer read from Keycloak: a page of 100 users with many attributes stays far below.
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// A complete answer from Keycloak.
pub(super) struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

/// The URL as errors show it: no credentials, no query.
pub(super) fn shown_url(url: &Url) -> String {
    format!(
        "{}{}",
        &url[..Position::BeforeUsername],
        &url[Position::BeforeHost..Position::AfterPath]
    )
}

/// The path and query of a URL, e.g. `/admin/realms/acme/users?first=0&max=100`.
pub(super) fn shown_path(url: &Url) -> String {
    url[Position::BeforePath..Position::AfterQuery].to_owned()
}

/// Sends `request` and reads the whole answer. Only the URL without its query appears in
/// errors; the request's body and headers (which carry the secret or a token) never do.
pub(super) async fn send(
    client: &reqwest::Client,
    mut request: reqwest::Request,
) -> Result<Answer, DirectoryError> {
    let sent_to = request.url().clone();
    let unreachable = |reason: String| DirectoryError::Unreachable {
        url: shown_url(&sent_to),
        reason,
    };

    // Keycloak 26.6.3+ refuses token requests that carry a foreign Origin.
    request.headers_mut().remove(ORIGIN);

    let mut response = client
        .execute(request)
        .await
        .map_err(|e| unreachable(describe(&e)))?;
    if response.url() != &sent_to {
        return Err(unreachable(
            "the HTTP client followed a redirect; build it with redirect::Policy::none()"
                .to_owned(),
        ));
    }
    let status = response.status();
    if matches!(status.as_u16(), 502..=504) {
        return Err(unreachable(format!(
            "HTTP {} from a proxy",
            status.as_u16()
        )));
    }

    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| unreachable(describe(&e)))?
    {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(unreachable("the answer is larger than 8 MiB".to_owned()));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Answer { status, body })
}

/// "timed out", or the innermost cause such as "Connection refused (os error 111)". The URL is
/// left out: reqwest's own text would repeat it with its query.
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "timed out".to_owned();
    }
    let mut cause: &dyn std::error::Error = error;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let cause = cause.to_string();
    if error.is_connect() {
        format!("could not connect: {cause}")
    } else {
        cause
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_parts_of_a_url() {
        let url = Url::parse("http://u:p@kc.example:8080/admin/realms/a/users?first=0&max=10")
            .expect("valid URL");
        assert_eq!(shown_path(&url), "/admin/realms/a/users?first=0&max=10");
        assert_eq!(
            shown_url(&url),
            "http://kc.example:8080/admin/realms/a/users"
        );
    }
}
