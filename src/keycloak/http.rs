//! The HTTP transport to Keycloak: openidconnect's async client trait over gatehouse's shared
//! reqwest client. It never follows redirects, never sends an `Origin` header and reads at most
//! 1 MiB of any answer. Limitation: the redirect policy belongs to the reqwest client it is
//! given; a client that follows redirects is detected after the fact and its answer refused.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU16, Ordering};

use openidconnect::http::{self, HeaderValue, Method, header};
use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

/// Largest answer body gatehouse reads from Keycloak.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The shared reqwest client, as openidconnect's HTTP client.
#[derive(Clone)]
pub(super) struct KeycloakHttp {
    client: reqwest::Client,
}

/// A request that got no usable HTTP answer.
#[derive(Debug, thiserror::Error)]
#[error("{url}: {reason}")]
pub(super) struct TransportError {
    pub url: String,
    pub reason: String,
}

impl KeycloakHttp {
    pub fn new(client: reqwest::Client) -> Self {
        Self { client }
    }

    /// GET a document, optionally with a bearer token.
    pub async fn get(
        &self,
        url: &str,
        accept: &'static str,
        bearer: Option<&str>,
    ) -> Result<HttpResponse, TransportError> {
        let mut builder = http::Request::builder()
            .method(Method::GET)
            .uri(url)
            .header(header::ACCEPT, HeaderValue::from_static(accept));
        if let Some(token) = bearer {
            let mut value = HeaderValue::try_from(format!("Bearer {token}"))
                .map_err(|_| transport_error(url, "the access token is not a valid header"))?;
            value.set_sensitive(true);
            builder = builder.header(header::AUTHORIZATION, value);
        }
        let request = builder
            .body(Vec::new())
            .map_err(|e| transport_error(url, &e.to_string()))?;
        self.send(request).await
    }

    /// Sends one request and reads the whole (bounded) answer.
    pub async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let url = request.uri().to_string();
        let mut request = reqwest::Request::try_from(request)
            .map_err(|e| transport_error(&url, &describe(&e.without_url())))?;

        // Keycloak 26.6.3+ answers 403 to token requests that carry a foreign Origin.
        request.headers_mut().remove(header::ORIGIN);
        let sent_to = request.url().clone();

        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(|e| transport_error(&url, &describe(&e.without_url())))?;
        if response.url() != &sent_to {
            return Err(transport_error(
                &url,
                "the HTTP client followed a redirect; build it with redirect::Policy::none()",
            ));
        }

        let mut builder = http::Response::builder()
            .status(response.status())
            .version(response.version());
        for (name, value) in response.headers() {
            builder = builder.header(name, value);
        }

        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| transport_error(&url, &describe(&e.without_url())))?
        {
            if body.len() + chunk.len() > MAX_BODY_BYTES {
                return Err(transport_error(&url, "the answer is larger than 1 MiB"));
            }
            body.extend_from_slice(&chunk);
        }

        tracing::debug!(url = %url, status = response.status().as_u16(), "keycloak answered");
        builder
            .body(body)
            .map_err(|e| transport_error(&url, &e.to_string()))
    }
}

impl<'c> AsyncHttpClient<'c> for KeycloakHttp {
    type Error = TransportError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

/// Wraps the transport for one token request so the HTTP status stays known after
/// openidconnect has turned the answer into its own error type.
pub(super) struct StatusRecorder<'h> {
    http: &'h KeycloakHttp,
    last_status: AtomicU16,
}

impl<'h> StatusRecorder<'h> {
    pub fn new(http: &'h KeycloakHttp) -> Self {
        Self {
            http,
            last_status: AtomicU16::new(0),
        }
    }

    /// The status of the last answer, if one came.
    pub fn last_status(&self) -> Option<u16> {
        match self.last_status.load(Ordering::Relaxed) {
            0 => None,
            status => Some(status),
        }
    }
}

impl<'c> AsyncHttpClient<'c> for StatusRecorder<'_> {
    type Error = TransportError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let response = self.http.send(request).await?;
            self.last_status
                .store(response.status().as_u16(), Ordering::Relaxed);
            Ok(response)
        })
    }
}

fn transport_error(url: &str, reason: &str) -> TransportError {
    TransportError {
        url: url.to_owned(),
        reason: reason.to_owned(),
    }
}

/// A short reason for a failed request: "timed out", or the innermost cause such as
/// "Connection refused (os error 111)".
fn describe(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        return "timed out".to_owned();
    }
    let mut innermost: &dyn std::error::Error = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    let cause = innermost.to_string();
    if error.is_connect() {
        format!("could not connect: {cause}")
    } else {
        cause
    }
}
