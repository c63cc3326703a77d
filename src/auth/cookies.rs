//! Reading and writing the few cookies gatehouse uses. Every cookie is
//! HttpOnly and SameSite=Lax (Keycloak's redirect back is a cross-site
//! top-level GET), and Secure when the public URL is HTTPS.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

pub const SESSION_COOKIE: &str = "gatehouse_session";
/// Prefix of the per-attempt cookie that ties a Keycloak sign-in to the
/// browser that started it; the suffix comes from the attempt's `state`,
/// so parallel sign-ins in several tabs do not overwrite each other.
pub const LOGIN_COOKIE_PREFIX: &str = "gatehouse_login_";
pub const LOGIN_COOKIE_PATH: &str = "/auth/keycloak/";

/// The value of cookie `name`, if the request carries it.
pub fn read(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"').to_owned())
}

/// A `Set-Cookie` value. `max_age` of `None` makes a browser-session cookie.
pub fn set(name: &str, value: &str, path: &str, max_age: Option<i64>, secure: bool) -> String {
    let mut cookie = format!("{name}={value}; Path={path}; HttpOnly; SameSite=Lax");
    if let Some(seconds) = max_age {
        cookie.push_str(&format!("; Max-Age={seconds}"));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// A `Set-Cookie` value that deletes cookie `name`.
pub fn clear(name: &str, path: &str, secure: bool) -> String {
    set(name, "", path, Some(0), secure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn reads_one_cookie_among_many() {
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("a=1; gatehouse_session=xyz"),
        );
        headers.append(COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(read(&headers, SESSION_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(read(&headers, "b").as_deref(), Some("2"));
        assert_eq!(read(&headers, "c"), None);
    }

    #[test]
    fn secure_flag_follows_the_public_url() {
        assert!(set("n", "v", "/", Some(5), true).ends_with("; Max-Age=5; Secure"));
        assert!(!set("n", "v", "/", None, false).contains("Secure"));
        assert!(clear("n", "/", false).contains("Max-Age=0"));
    }
}
