//! How the administrator's mistakes come back: as a JSON `detail` under
//! `/admin/api`, as a line on the same console page otherwise. Storage
//! failures stay internal in both.

use axum::http::StatusCode;

use super::error::{ApiError, PageError};
use crate::accounts::team_admin::TeamAdminError;
use crate::accounts::user_admin::UserAdminError;

impl From<UserAdminError> for ApiError {
    fn from(err: UserAdminError) -> Self {
        match err {
            UserAdminError::Store(err) => err.into(),
            UserAdminError::Unmapped => Self::new(StatusCode::CONFLICT, err.to_string()),
            UserAdminError::NoSuchTeam(_) | UserAdminError::BadExpiry(_) => {
                Self::bad_request(err.to_string())
            }
        }
    }
}

impl From<TeamAdminError> for ApiError {
    fn from(err: TeamAdminError) -> Self {
        match err {
            TeamAdminError::Store(err) => err.into(),
            TeamAdminError::NoSuchMapping(_) => Self::new(StatusCode::NOT_FOUND, err.to_string()),
            _ => Self::bad_request(err.to_string()),
        }
    }
}

/// The sentence to show on the form for a mistake; an error page for a
/// storage failure.
pub fn user_form_problem(err: UserAdminError) -> Result<String, PageError> {
    match err {
        UserAdminError::Store(err) => Err(err.into()),
        other => Ok(sentence(other.to_string())),
    }
}

pub fn team_form_problem(err: TeamAdminError) -> Result<String, PageError> {
    match err {
        TeamAdminError::Store(err) => Err(err.into()),
        other => Ok(sentence(other.to_string())),
    }
}

/// "no team named x" becomes "No team named x."
fn sentence(text: String) -> String {
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return text;
    };
    let mut out: String = first.to_uppercase().chain(chars).collect();
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::sentence;

    #[test]
    fn messages_read_as_sentences() {
        assert_eq!(
            sentence("no team named \"x\"".into()),
            "No team named \"x\"."
        );
        assert_eq!(sentence("Done.".into()), "Done.");
        assert_eq!(sentence(String::new()), "");
    }
}
