//! Refuses state-changing browser requests that come from another site,
//! using the `Origin` and `Sec-Fetch-Site` headers browsers send. Forms also
//! carry a per-session CSRF token; this check covers the forms that exist
//! before a session does (administrator login).

use axum::http::{HeaderMap, Method};

/// Whether a request may change state: safe methods always may; others
/// must come from our own origin when the browser says where they come from.
pub fn is_same_site(method: &Method, headers: &HeaderMap, public_origin: &str) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    // Browsers send `Origin: null` for privacy reasons in some cases; then
    // only Sec-Fetch-Site can tell.
    if let Some(origin) = headers.get("origin").and_then(|v| v.to_str().ok())
        && origin != "null"
    {
        return origin == public_origin;
    }
    match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => matches!(site, "same-origin" | "none"),
        // Not a browser, or a very old one: the CSRF token still applies.
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn foreign_origin_is_refused_for_posts_only() {
        let origin = "https://gh.example.com";
        let evil = headers(&[("origin", "https://evil.example")]);
        assert!(!is_same_site(&Method::POST, &evil, origin));
        assert!(is_same_site(&Method::GET, &evil, origin));
        assert!(is_same_site(
            &Method::POST,
            &headers(&[("origin", "https://gh.example.com")]),
            origin
        ));
        assert!(!is_same_site(
            &Method::POST,
            &headers(&[("sec-fetch-site", "cross-site")]),
            origin
        ));
        assert!(is_same_site(&Method::POST, &headers(&[]), origin));
        let null_same = headers(&[("origin", "null"), ("sec-fetch-site", "same-origin")]);
        assert!(is_same_site(&Method::POST, &null_same, origin));
        let null_cross = headers(&[("origin", "null"), ("sec-fetch-site", "cross-site")]);
        assert!(!is_same_site(&Method::POST, &null_cross, origin));
    }
}
