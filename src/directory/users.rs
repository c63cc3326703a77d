//! Keycloak's user representation as gatehouse reads it: the fields relied on are checked,
//! others ignored, and service-account users (`service-account-<client>`, or carrying a
//! `serviceAccountClientId`) are told apart from people.

use serde::Deserialize;

use super::error::{DirectoryError, tidy};
use super::model::DirectoryUser;

/// Longest id or username accepted; Keycloak's own columns hold 255 characters.
const MAX_NAME_CHARS: usize = 255;

/// One entry of `GET /users?briefRepresentation=false`, `GET /users/{id}` or a group's
/// member list.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawUser {
    pub id: String,
    pub username: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    pub enabled: bool,
    #[serde(default)]
    pub service_account_client_id: Option<String>,
}

/// One entry of a member list: only the id is used.
#[derive(Debug, Deserialize)]
pub(super) struct RawMember {
    pub id: String,
}

/// One entry of `GET /users/{id}/groups`: only the path is used.
#[derive(Debug, Deserialize)]
pub(super) struct RawMembership {
    pub id: String,
    pub path: String,
}

impl RawUser {
    pub fn id_of(&self) -> &str {
        &self.id
    }

    /// Whether this is the user Keycloak creates for a client's service account.
    pub fn is_service_account(&self) -> bool {
        self.username.starts_with("service-account-") || self.service_account_client_id.is_some()
    }

    /// Checks the fields gatehouse relies on and builds the directory entry (without groups).
    pub fn into_directory_user(self, path: &str) -> Result<DirectoryUser, DirectoryError> {
        check_name("id", &self.id, path)?;
        check_name("username", &self.username, path)?;
        let email = optional_text("email", self.email, path)?;
        let first = optional_text("firstName", self.first_name, path)?;
        let last = optional_text("lastName", self.last_name, path)?;
        let display_name = match (first, last) {
            (Some(first), Some(last)) => Some(format!("{first} {last}")),
            (first, last) => first.or(last),
        };
        Ok(DirectoryUser {
            id: self.id,
            username: self.username,
            email,
            display_name,
            enabled: self.enabled,
            group_paths: Vec::new(),
        })
    }
}

impl RawMember {
    pub fn id_of(&self) -> &str {
        &self.id
    }
}

impl RawMembership {
    pub fn id_of(&self) -> &str {
        &self.id
    }

    /// The group's full path, which must be absolute.
    pub fn checked_path(&self, path: &str) -> Result<&str, DirectoryError> {
        if self.path.len() < 2 || !self.path.starts_with('/') || has_control(&self.path) {
            return Err(malformed(
                path,
                format!("group path {:?}", tidy(&self.path)),
            ));
        }
        Ok(&self.path)
    }
}

fn check_name(field: &str, value: &str, path: &str) -> Result<(), DirectoryError> {
    if value.trim().is_empty() || value.chars().count() > MAX_NAME_CHARS || has_control(value) {
        return Err(malformed(
            path,
            format!("a user's {field} is {:?}", tidy(value)),
        ));
    }
    Ok(())
}

/// Trimmed text, `None` when absent or blank.
fn optional_text(
    field: &str,
    value: Option<String>,
    path: &str,
) -> Result<Option<String>, DirectoryError> {
    let Some(value) = value else {
        return Ok(None);
    };
    if has_control(&value) || value.chars().count() > MAX_NAME_CHARS {
        return Err(malformed(
            path,
            format!("a user's {field} is {:?}", tidy(&value)),
        ));
    }
    let value = value.trim();
    Ok((!value.is_empty()).then(|| value.to_owned()))
}

fn has_control(text: &str) -> bool {
    text.chars().any(char::is_control)
}

fn malformed(path: &str, detail: String) -> DirectoryError {
    DirectoryError::MalformedAnswer {
        path: path.to_owned(),
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PATH: &str = "/admin/realms/gatehouse/users";

    fn users(json: &str) -> Vec<RawUser> {
        serde_json::from_str(json).expect("a user list")
    }

    #[test]
    fn reads_a_full_user_representation() {
        let raw = users(
            r#"[{"id":"2d974439-faad-4a41-95af-1f65ea350a1e","username":"alice",
            "firstName":"Alice","lastName":"Anders","email":"alice@example.test",
            "emailVerified":true,"enabled":true,"createdTimestamp":1796325554799,"totp":false,
            "disableableCredentialTypes":[],"requiredActions":[],"notBefore":0,
            "access":{"manage":false},"attributes":{"dept":["r&d"]}}]"#,
        );
        let user = raw
            .into_iter()
            .next()
            .expect("one")
            .into_directory_user(PATH);
        assert_eq!(
            user.expect("valid"),
            DirectoryUser {
                id: "2d974439-faad-4a41-95af-1f65ea350a1e".into(),
                username: "alice".into(),
                email: Some("alice@example.test".into()),
                display_name: Some("Alice Anders".into()),
                enabled: true,
                group_paths: Vec::new(),
            }
        );
    }

    #[test]
    fn names_and_email_may_be_missing() {
        let raw = users(
            r#"[{"id":"1","username":"u1","enabled":false},
                {"id":"2","username":"u2","enabled":true,"lastName":" Solo ","email":""},
                {"id":"3","username":"u3","enabled":true,"firstName":"Ann","email":null}]"#,
        );
        let got: Vec<DirectoryUser> = raw
            .into_iter()
            .map(|u| u.into_directory_user(PATH).expect("valid"))
            .collect();
        assert_eq!(got[0].display_name, None);
        assert!(!got[0].enabled);
        assert_eq!(got[1].display_name.as_deref(), Some("Solo"));
        assert_eq!(got[1].email, None);
        assert_eq!(got[2].display_name.as_deref(), Some("Ann"));
    }

    #[test]
    fn missing_or_wrong_fields_are_refused() {
        for json in [
            r#"[{"id":"1","username":"u1"}]"#,
            r#"[{"id":"1","enabled":true}]"#,
            r#"[{"id":1,"username":"u1","enabled":true}]"#,
            r#"[{"id":"1","username":"u1","enabled":"yes"}]"#,
        ] {
            assert!(
                serde_json::from_str::<Vec<RawUser>>(json).is_err(),
                "{json}"
            );
        }
        for json in [
            r#"[{"id":"","username":"u1","enabled":true}]"#,
            r#"[{"id":"1","username":" ","enabled":true}]"#,
            r#"[{"id":"1","username":"a\nb","enabled":true}]"#,
        ] {
            let raw = users(json).into_iter().next().expect("one");
            let err = raw.into_directory_user(PATH).expect_err(json);
            assert_eq!(err.code(), "malformed_answer");
        }
    }

    #[test]
    fn service_accounts_are_recognised() {
        let raw = users(
            r#"[{"id":"1","username":"service-account-refact_client","enabled":true},
                {"id":"2","username":"robot","enabled":true,"serviceAccountClientId":"ci"},
                {"id":"3","username":"alice","enabled":true,"serviceAccountClientId":null},
                {"id":"4","username":"service-accountant","enabled":true}]"#,
        );
        let flags: Vec<bool> = raw.iter().map(RawUser::is_service_account).collect();
        assert_eq!(flags, [true, true, false, false]);
    }

    #[test]
    fn memberships_need_absolute_paths() {
        let raw: Vec<RawMembership> = serde_json::from_str(
            r#"[{"id":"g1","name":"backend","path":"/engineering/backend","subGroups":[]},
                {"id":"g2","path":"sales"},{"id":"g3","path":"/"}]"#,
        )
        .expect("parses");
        assert_eq!(
            raw[0].checked_path(PATH).expect("ok"),
            "/engineering/backend"
        );
        assert!(raw[1].checked_path(PATH).is_err());
        assert!(raw[2].checked_path(PATH).is_err());
        let member: Vec<RawMember> =
            serde_json::from_str(r#"[{"id":"u1","username":"dave","enabled":true}]"#)
                .expect("parses");
        assert_eq!(member[0].id_of(), "u1");
    }
}
