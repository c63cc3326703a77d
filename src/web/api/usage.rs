//! `/admin/api/usage`: request and token totals per user, team or model,
//! as JSON or CSV.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::AppState;
use crate::auth::extract::AdminApiCaller;
use crate::store::{UsageGroup, UsageTotal, now_millis};
use crate::web::error::ApiError;

#[derive(Deserialize)]
pub struct UsageQuery {
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    since_hours: Option<i64>,
}

fn parse(query: &UsageQuery) -> Result<(UsageGroup, i64), ApiError> {
    let group = match query.group.as_deref().unwrap_or("user") {
        "user" => UsageGroup::User,
        "team" => UsageGroup::Team,
        "model" => UsageGroup::Model,
        other => {
            return Err(ApiError::bad_request(format!(
                "group must be user, team or model, not {other:?}"
            )));
        }
    };
    let hours = query.since_hours.unwrap_or(24 * 30).clamp(1, 24 * 366);
    Ok((group, now_millis() - hours * 3_600_000))
}

pub async fn totals(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
    Query(query): Query<UsageQuery>,
) -> Result<Json<Value>, ApiError> {
    let (group, since) = parse(&query)?;
    Ok(Json(
        json!({ "totals": app.store.usage_totals(group, since).await? }),
    ))
}

pub async fn totals_csv(
    _admin: AdminApiCaller,
    State(app): State<AppState>,
    Query(query): Query<UsageQuery>,
) -> Result<impl IntoResponse, ApiError> {
    let (group, since) = parse(&query)?;
    let csv = totals_as_csv(&app.store.usage_totals(group, since).await?);
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (CONTENT_DISPOSITION, "attachment; filename=\"usage.csv\""),
        ],
        csv,
    ))
}

/// Totals as CSV with a header line.
pub fn totals_as_csv(totals: &[UsageTotal]) -> String {
    let mut csv = String::from("name,requests,prompt_tokens,completion_tokens\n");
    for total in totals {
        csv.push_str(&format!(
            "{},{},{},{}\n",
            csv_field(&total.name),
            total.requests,
            total.prompt_tokens,
            total.completion_tokens
        ));
    }
    csv
}

/// Quotes a CSV field, and defuses spreadsheet formulas in names.
fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if value.contains([',', '"', '\n']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}
