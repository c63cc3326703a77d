//! The console's Users pages: everyone gatehouse knows with their team and
//! key, and one person's page where an administrator sets their team,
//! revokes or rotates their key (never seeing it), or shuts them out.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::keycloak_auth::stale_form;
use crate::accounts::user_admin::{self, UserAdminError};
use crate::app::AppState;
use crate::auth::extract::AdminSession;
use crate::dates::utc_time;
use crate::store::UserListing;
use crate::web::admin_errors::user_form_problem;
use crate::web::error::PageError;

/// How many people the list shows at once; the search narrows it.
const LIST_LIMIT: i64 = 500;

/// One person as the pages show them.
struct UserRow {
    id: String,
    username: String,
    name: String,
    email: String,
    team: String,
    team_source: &'static str,
    /// An administrator chose the team (it can be handed back to the mapping).
    team_overridden: bool,
    /// `active`, or why not.
    status: String,
    active: bool,
    key_id: Option<String>,
    key_created: String,
    key_expires: Option<String>,
    last_sign_in: String,
    groups: Vec<String>,
}

fn row(listing: UserListing) -> UserRow {
    let user = listing.user;
    let status = match (user.disabled_at, user.disabled_by.as_deref()) {
        (None, _) => "active".to_owned(),
        (Some(at), Some("directory")) => {
            format!("shut out by the directory sync, {}", utc_time(at))
        }
        (Some(at), _) => format!("disabled by an administrator, {}", utc_time(at)),
    };
    UserRow {
        id: user.id,
        username: user.username,
        name: user.display_name.unwrap_or_default(),
        email: user.email.unwrap_or_default(),
        team: user.team_name,
        team_overridden: user.team_source == "admin",
        team_source: match user.team_source.as_str() {
            "mapping" => "from Keycloak groups",
            "user" => "chosen by the user",
            "admin" => "set by an administrator",
            _ => "default team",
        },
        active: user.disabled_at.is_none(),
        status,
        key_created: listing
            .key
            .as_ref()
            .map(|k| utc_time(k.created_at))
            .unwrap_or_default(),
        key_expires: listing
            .key
            .as_ref()
            .and_then(|k| k.expires_at.map(utc_time)),
        key_id: listing.key.map(|k| k.id),
        last_sign_in: listing
            .last_sign_in
            .map(utc_time)
            .unwrap_or_else(|| "never".to_owned()),
        groups: user.group_paths,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_users.html")]
struct UsersPage {
    section: &'static str,
    csrf: String,
    search: String,
    users: Vec<UserRow>,
    total: i64,
}

#[derive(Deserialize)]
pub struct UsersQuery {
    #[serde(default)]
    q: String,
}

pub async fn users_page(
    State(app): State<AppState>,
    AdminSession(session): AdminSession,
    Query(query): Query<UsersQuery>,
) -> Result<Response, PageError> {
    let users = app.store.list_users(&query.q, LIST_LIMIT).await?;
    let page = UsersPage {
        section: "users",
        csrf: session.csrf_token().to_owned(),
        search: query.q,
        users: users.into_iter().map(row).collect(),
        total: app.store.count_users().await?,
    };
    Ok(page.into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_user.html")]
struct UserPage {
    section: &'static str,
    csrf: String,
    user: UserRow,
    teams: Vec<String>,
    notice: Option<&'static str>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

fn notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "team" => "Team set. It stays until you hand it back to the group mapping.",
        "mapping" => "The team now comes from the person's Keycloak groups again.",
        "revoked" => "Key revoked: it is refused from the next request on.",
        "rotated" => "Key rotated: the old one is refused; the new one is on the person's page.",
        "disabled" => "Access disabled: keys are refused and sessions ended.",
        "enabled" => "Access enabled again.",
        _ => return None,
    })
}

async fn user_page(
    app: &AppState,
    csrf: &str,
    user_id: &str,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<UserPage, PageError> {
    let Some(listing) = app.store.user_listing(user_id).await? else {
        return Err(PageError::new(
            StatusCode::NOT_FOUND,
            "no_such_user",
            "No such user",
            "gatehouse knows nobody by this id; the person may have been removed.",
        )
        .try_again("/admin/users", "Back to Users"));
    };
    let teams = app
        .store
        .teams()
        .await?
        .into_iter()
        .map(|t| t.name)
        .collect();
    Ok(UserPage {
        section: "users",
        csrf: csrf.to_owned(),
        user: row(listing),
        teams,
        notice,
        error,
    })
}

pub async fn user_detail(
    State(app): State<AppState>,
    AdminSession(session): AdminSession,
    Path(user_id): Path<String>,
    Query(query): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let done = notice(query.done.as_deref());
    Ok(user_page(&app, session.csrf_token(), &user_id, done, None)
        .await?
        .into_response())
}

#[derive(Deserialize)]
pub struct UserActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    team: String,
    /// For `rotate`: days the new key stays valid; empty for the server's
    /// key lifetime.
    #[serde(default)]
    valid_days: String,
}

/// `POST /admin/users/{id}`: one of the actions of the person's page.
pub async fn user_action(
    State(app): State<AppState>,
    AdminSession(session): AdminSession,
    Path(user_id): Path<String>,
    Form(form): Form<UserActionForm>,
) -> Result<Response, PageError> {
    if !session.csrf_matches(&form.csrf) {
        return Err(stale_form());
    }
    let Some(user) = app.store.user(&user_id).await? else {
        return Ok(user_page(&app, session.csrf_token(), &user_id, None, None)
            .await?
            .into_response());
    };
    let outcome = match form.action.as_str() {
        "team" => user_admin::choose_team(&app, &user, &form.team)
            .await
            .map(|()| "team"),
        "mapping" => user_admin::follow_mapping(&app, &user)
            .await
            .map(|()| "mapping"),
        "revoke" => user_admin::revoke_key(&app, &user).await.map(|_| "revoked"),
        "rotate" => match expiry_from_days(&form.valid_days) {
            Ok(expires_at) => user_admin::rotate_key(&app, &user, expires_at)
                .await
                .map(|_| "rotated"),
            Err(err) => Err(err),
        },
        "disable" => user_admin::set_disabled(&app, &user, true)
            .await
            .map(|()| "disabled"),
        "enable" => user_admin::set_disabled(&app, &user, false)
            .await
            .map(|()| "enabled"),
        _ => {
            return Err(PageError::new(
                StatusCode::BAD_REQUEST,
                "unknown_action",
                "Unknown action",
                "This form asked for something the Users page does not do. Reload the page.",
            )
            .try_again("/admin/users", "Back to Users"));
        }
    };
    match outcome {
        Ok(done) => {
            Ok(Redirect::to(&format!("/admin/users/{}?done={done}", user.id)).into_response())
        }
        Err(err) => {
            let problem = user_form_problem(err)?;
            let page = user_page(&app, session.csrf_token(), &user_id, None, Some(problem)).await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
    }
}

/// The expiry for "valid for N days" (unix ms); `None` when left empty.
fn expiry_from_days(days: &str) -> Result<Option<i64>, UserAdminError> {
    let days = days.trim();
    if days.is_empty() {
        return Ok(None);
    }
    match days.parse::<i64>() {
        Ok(days) if (1..=3650).contains(&days) => {
            Ok(Some(crate::store::now_millis() + days * 86_400_000))
        }
        _ => Err(UserAdminError::BadExpiry(
            "valid for: a whole number of days from 1 to 3650, or empty",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_is_whole_days_or_nothing() {
        assert_eq!(expiry_from_days(" ").unwrap(), None);
        let in_a_week = expiry_from_days("7").unwrap().unwrap();
        assert!(in_a_week > crate::store::now_millis() + 6 * 86_400_000);
        for bad in ["0", "-1", "1.5", "x", "4000"] {
            assert!(expiry_from_days(bad).is_err(), "{bad}");
        }
    }
}
