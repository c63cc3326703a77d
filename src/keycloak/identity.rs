//! The signed-in person as gatehouse sees them: taken from the verified ID token, with gaps
//! filled from userinfo. People are identified by (issuer, subject); email is display data only.

use std::fmt;

use serde_json::Value;

/// Who signed in, after every check passed.
#[derive(Clone)]
pub struct SignedInIdentity {
    pub issuer: String,
    pub subject: String,
    /// `preferred_username`, else the subject.
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    /// `None`: no `groups` claim anywhere (a missing Keycloak mapper); `Some(vec![])`: the
    /// claim is there and the person is in no group.
    pub groups: Option<Vec<String>>,
    /// Keycloak's session id (`sid`), for back-channel logout.
    pub session_id: Option<String>,
    /// The raw ID token, only for `id_token_hint` at logout. Never log it.
    pub id_token: String,
}

impl fmt::Debug for SignedInIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignedInIdentity")
            .field("issuer", &self.issuer)
            .field("subject", &self.subject)
            .field("username", &self.username)
            .field("email", &self.email)
            .field("display_name", &self.display_name)
            .field("groups", &self.groups)
            .field("session_id", &self.session_id)
            .field("id_token", &"[redacted]")
            .finish()
    }
}

/// Profile claims from one source (ID token or userinfo).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Profile {
    pub subject: String,
    pub username: Option<String>,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub groups: Option<Vec<String>>,
}

impl Profile {
    /// Takes from `other` (userinfo for the same subject) what this profile lacks.
    pub fn fill_gaps_from(&mut self, other: Profile) {
        self.username = self.username.take().or(other.username);
        self.email = self.email.take().or(other.email);
        self.display_name = self.display_name.take().or(other.display_name);
        self.groups = self.groups.take().or(other.groups);
    }

    pub fn into_identity(
        self,
        issuer: String,
        session_id: Option<String>,
        id_token: String,
    ) -> SignedInIdentity {
        SignedInIdentity {
            username: self.username.unwrap_or_else(|| self.subject.clone()),
            issuer,
            subject: self.subject,
            email: self.email,
            display_name: self.display_name,
            groups: self.groups,
            session_id,
            id_token,
        }
    }
}

/// Reads a `groups` claim. Keycloak's group-membership mapper gives a list of names or
/// paths; with "multivalued" off it gives one string.
pub(super) fn groups_from_claim(claim: Option<&Value>) -> Option<Vec<String>> {
    match claim? {
        Value::Null => None,
        Value::String(one) => Some(vec![one.clone()]),
        Value::Array(items) => {
            let groups: Vec<String> = items
                .iter()
                .filter_map(|item| item.as_str().map(str::to_owned))
                .collect();
            if groups.len() != items.len() {
                tracing::warn!("ignored non-text entries in the groups claim");
            }
            Some(groups)
        }
        _ => {
            tracing::warn!("the groups claim is neither a list nor a text; ignored");
            None
        }
    }
}

/// `name`, else given and family name joined; blank values count as absent.
pub(super) fn display_name(
    name: Option<&str>,
    given_name: Option<&str>,
    family_name: Option<&str>,
) -> Option<String> {
    if let Some(name) = non_blank(name) {
        return Some(name);
    }
    let joined = [non_blank(given_name), non_blank(family_name)]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    (!joined.is_empty()).then_some(joined)
}

/// Blank text counts as absent.
pub(super) fn non_blank(value: Option<&str>) -> Option<String> {
    value
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn groups_absent_empty_and_present_differ() {
        assert_eq!(groups_from_claim(None), None);
        assert_eq!(groups_from_claim(Some(&Value::Null)), None);
        assert_eq!(groups_from_claim(Some(&json!([]))), Some(vec![]));
        assert_eq!(
            groups_from_claim(Some(&json!(["/devs", "/devs/backend", 7]))),
            Some(vec!["/devs".to_owned(), "/devs/backend".to_owned()])
        );
        assert_eq!(
            groups_from_claim(Some(&json!("/ops"))),
            Some(vec!["/ops".to_owned()])
        );
        assert_eq!(groups_from_claim(Some(&json!({"a": 1}))), None);
    }

    #[test]
    fn display_name_prefers_name() {
        assert_eq!(
            display_name(Some("Alice A."), Some("Alice"), None).as_deref(),
            Some("Alice A.")
        );
        assert_eq!(
            display_name(Some(" "), Some("Alice"), Some("Liddell")).as_deref(),
            Some("Alice Liddell")
        );
        assert_eq!(
            display_name(None, None, Some("Liddell")).as_deref(),
            Some("Liddell")
        );
        assert_eq!(display_name(None, None, None), None);
    }

    #[test]
    fn userinfo_fills_only_gaps() {
        let mut from_token = Profile {
            subject: "s1".into(),
            username: Some("alice".into()),
            ..Profile::default()
        };
        from_token.fill_gaps_from(Profile {
            subject: "s1".into(),
            username: Some("other".into()),
            email: Some("alice@example.com".into()),
            groups: Some(vec![]),
            ..Profile::default()
        });
        assert_eq!(from_token.username.as_deref(), Some("alice"));
        assert_eq!(from_token.email.as_deref(), Some("alice@example.com"));
        assert_eq!(from_token.groups, Some(vec![]));
    }

    #[test]
    fn username_falls_back_to_subject_and_token_is_not_printed() {
        let profile = Profile {
            subject: "3f2c".into(),
            ..Profile::default()
        };
        let identity = profile.into_identity("iss".into(), None, "eyJ.secret.token".into());
        assert_eq!(identity.username, "3f2c");
        let printed = format!("{identity:?}");
        assert!(!printed.contains("eyJ"), "{printed}");
    }
}
