//! The console's Teams page: each team's models and rate limits, the table
//! that maps Keycloak groups to teams, and what happens to people no
//! mapping covers.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::keycloak_auth::stale_form;
use crate::accounts::team_admin::{self, TeamAdminError};
use crate::accounts::team_mapping::GroupMapping;
use crate::accounts::teams::{self, UnmappedPolicy};
use crate::app::AppState;
use crate::auth::extract::AdminSession;
use crate::store::{TeamRecord, TeamRules};
use crate::web::admin_errors::team_form_problem;
use crate::web::api::group_mappings::DEFAULT_PRIORITY;
use crate::web::error::PageError;

struct TeamRow {
    name: String,
    members: i64,
    models: String,
    default_completion: String,
    default_chat: String,
    requests_per_minute: String,
    tokens_per_minute: String,
}

/// What the team form shows: empty for a new team, or a team's rules.
#[derive(Default)]
struct TeamFields {
    name: String,
    models: String,
    default_completion: String,
    default_chat: String,
    requests_per_minute: String,
    tokens_per_minute: String,
}

impl TeamFields {
    fn of(team: &TeamRecord) -> Self {
        let number = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
        Self {
            name: team.name.clone(),
            models: team
                .allowed_models
                .as_ref()
                .map(|m| m.join(", "))
                .unwrap_or_default(),
            default_completion: team.default_completion_model.clone().unwrap_or_default(),
            default_chat: team.default_chat_model.clone().unwrap_or_default(),
            requests_per_minute: number(team.requests_per_minute),
            tokens_per_minute: number(team.tokens_per_minute),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_teams.html")]
struct TeamsPage {
    section: &'static str,
    csrf: String,
    teams: Vec<TeamRow>,
    mappings: Vec<GroupMapping>,
    refuse_unmapped: bool,
    form: TeamFields,
    known_models: Vec<String>,
    default_priority: i64,
    notice: Option<&'static str>,
    error: Option<String>,
}

async fn page(
    app: &AppState,
    csrf: &str,
    form: TeamFields,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<TeamsPage, PageError> {
    let members = app.store.team_member_counts().await?;
    let limit = |v: Option<i64>| {
        v.map(|v| v.to_string())
            .unwrap_or_else(|| "no limit".into())
    };
    let teams = app
        .store
        .teams()
        .await?
        .into_iter()
        .map(|t| TeamRow {
            members: members.get(&t.id).copied().unwrap_or(0),
            models: t
                .allowed_models
                .as_ref()
                .map(|m| m.join(", "))
                .unwrap_or_else(|| "all models".into()),
            default_completion: t.default_completion_model.clone().unwrap_or_default(),
            default_chat: t.default_chat_model.clone().unwrap_or_default(),
            requests_per_minute: limit(t.requests_per_minute),
            tokens_per_minute: limit(t.tokens_per_minute),
            name: t.name,
        })
        .collect();
    Ok(TeamsPage {
        section: "teams",
        csrf: csrf.to_owned(),
        teams,
        mappings: app.store.group_mappings().await?,
        refuse_unmapped: teams::unmapped_policy(&app.store).await? == UnmappedPolicy::Refuse,
        form,
        known_models: app.gateway.upstreams.catalog().into_keys().collect(),
        default_priority: DEFAULT_PRIORITY,
        notice,
        error,
    })
}

#[derive(Deserialize)]
pub struct TeamsQuery {
    edit: Option<String>,
    done: Option<String>,
}

pub async fn teams_page(
    State(app): State<AppState>,
    AdminSession(session): AdminSession,
    Query(query): Query<TeamsQuery>,
) -> Result<Response, PageError> {
    let mut form = TeamFields::default();
    if let Some(name) = &query.edit
        && let Some(team) = app.store.teams().await?.iter().find(|t| &t.name == name)
    {
        form = TeamFields::of(team);
    }
    let notice = match query.done.as_deref() {
        Some("team") => Some("Team saved. Its rules apply from the next request on."),
        Some("mapping") => Some("Mapping saved. It applies at each sign-in and directory sync."),
        Some("unmapped") => Some("Mapping removed."),
        Some("policy") => Some("Saved what happens to people without a mapped team."),
        _ => None,
    };
    Ok(page(&app, session.csrf_token(), form, notice, None)
        .await?
        .into_response())
}

#[derive(Deserialize)]
pub struct TeamForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    models: String,
    #[serde(default)]
    default_completion: String,
    #[serde(default)]
    default_chat: String,
    #[serde(default)]
    requests_per_minute: String,
    #[serde(default)]
    tokens_per_minute: String,
}

/// `POST /admin/teams`: create a team or change its rules.
pub async fn save_team(
    State(app): State<AppState>,
    AdminSession(session): AdminSession,
    Form(form): Form<TeamForm>,
) -> Result<Response, PageError> {
    if !session.csrf_matches(&form.csrf) {
        return Err(stale_form());
    }
    let problem = match rules_from(&form) {
        Err(problem) => problem,
        Ok(rules) => match team_admin::save_team(&app, &form.name, rules).await {
            Ok(_) => return Ok(Redirect::to("/admin/teams?done=team").into_response()),
            Err(err) => team_form_problem(err)?,
        },
    };
    // Show the form again as it was sent, with what is wrong.
    let fields = TeamFields {
        name: form.name,
        models: form.models,
        default_completion: form.default_completion,
        default_chat: form.default_chat,
        requests_per_minute: form.requests_per_minute,
        tokens_per_minute: form.tokens_per_minute,
    };
    let problem = format!("Team not saved: {problem}");
    let page = page(&app, session.csrf_token(), fields, None, Some(problem)).await?;
    Ok((StatusCode::BAD_REQUEST, page).into_response())
}

/// The form's text fields as team rules; a sentence saying what is wrong
/// otherwise.
fn rules_from(form: &TeamForm) -> Result<TeamRules, String> {
    let text = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    let limit = |label: &str, v: &str| -> Result<Option<i64>, String> {
        let v = v.trim();
        if v.is_empty() {
            return Ok(None);
        }
        v.parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .map(Some)
            .ok_or_else(|| format!("{label} must be a whole number of 0 or more, or empty."))
    };
    let models: Vec<String> = form
        .models
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(TeamRules {
        allowed_models: (!models.is_empty()).then_some(models),
        default_completion_model: text(&form.default_completion),
        default_chat_model: text(&form.default_chat),
        requests_per_minute: limit("Requests per minute", &form.requests_per_minute)?,
        tokens_per_minute: limit("Tokens per minute", &form.tokens_per_minute)?,
    })
}

#[derive(Deserialize)]
pub struct MappingForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    group_path: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    priority: String,
    #[serde(default)]
    unmapped: String,
}

/// `POST /admin/teams/mappings`: add, change or remove a group mapping, or
/// set the policy for people no mapping covers.
pub async fn change_mappings(
    State(app): State<AppState>,
    AdminSession(session): AdminSession,
    Form(form): Form<MappingForm>,
) -> Result<Response, PageError> {
    if !session.csrf_matches(&form.csrf) {
        return Err(stale_form());
    }
    let outcome: Result<&str, TeamAdminError> = match form.action.as_str() {
        "save" => match parse_priority(&form.priority) {
            Some(priority) => {
                team_admin::save_mapping(&app, &form.group_path, &form.team, priority)
                    .await
                    .map(|_| "mapping")
            }
            None => {
                let problem =
                    "Mapping not saved: the priority is a whole number (lower wins).".to_owned();
                return error_page(&app, session.csrf_token(), problem).await;
            }
        },
        "remove" => team_admin::remove_mapping(&app, &form.group_path)
            .await
            .map(|()| "unmapped"),
        "policy" => {
            let policy = if form.unmapped == "refuse" {
                UnmappedPolicy::Refuse
            } else {
                UnmappedPolicy::DefaultTeam
            };
            team_admin::set_unmapped_policy(&app, policy)
                .await
                .map(|()| "policy")
        }
        _ => {
            let problem = "This form asked for something the Teams page does not do.".to_owned();
            return error_page(&app, session.csrf_token(), problem).await;
        }
    };
    match outcome {
        Ok(done) => Ok(Redirect::to(&format!("/admin/teams?done={done}")).into_response()),
        Err(err) => {
            let problem = format!("Not saved: {}", team_form_problem(err)?);
            error_page(&app, session.csrf_token(), problem).await
        }
    }
}

fn parse_priority(raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Some(DEFAULT_PRIORITY);
    }
    raw.parse().ok()
}

async fn error_page(app: &AppState, csrf: &str, problem: String) -> Result<Response, PageError> {
    let page = page(app, csrf, TeamFields::default(), None, Some(problem)).await?;
    Ok((StatusCode::BAD_REQUEST, page).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(models: &str, rpm: &str) -> TeamForm {
        TeamForm {
            csrf: String::new(),
            name: "backend".into(),
            models: models.into(),
            default_completion: " ".into(),
            default_chat: "chat-m".into(),
            requests_per_minute: rpm.into(),
            tokens_per_minute: String::new(),
        }
    }

    #[test]
    fn empty_fields_mean_no_restriction() {
        let rules = rules_from(&form(" , ", "")).unwrap();
        assert_eq!(rules.allowed_models, None);
        assert_eq!(rules.default_completion_model, None);
        assert_eq!(rules.default_chat_model.as_deref(), Some("chat-m"));
        assert_eq!(rules.requests_per_minute, None);
    }

    #[test]
    fn models_are_a_comma_list_and_limits_whole_numbers() {
        let rules = rules_from(&form("a, b ,c", "60")).unwrap();
        assert_eq!(rules.allowed_models.unwrap(), ["a", "b", "c"]);
        assert_eq!(rules.requests_per_minute, Some(60));
        for bad in ["-1", "1.5", "many"] {
            assert!(
                rules_from(&form("", bad))
                    .unwrap_err()
                    .contains("Requests per minute")
            );
        }
    }

    #[test]
    fn priority_defaults_and_must_be_a_number() {
        assert_eq!(parse_priority(""), Some(DEFAULT_PRIORITY));
        assert_eq!(parse_priority(" 5 "), Some(5));
        assert_eq!(parse_priority("first"), None);
    }
}
