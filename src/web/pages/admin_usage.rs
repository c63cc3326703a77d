//! The console's Usage page: requests per day as a bar chart, totals per
//! user, team or model, and a CSV export.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::IntoResponse;
use serde::Deserialize;

use crate::app::AppState;
use crate::auth::extract::AdminSession;
use crate::dates::day_label;
use crate::store::{UsageGroup, UsageTotal, now_millis};
use crate::web::api::usage::totals_as_csv;
use crate::web::error::PageError;

const DAYS: i64 = 14;
const DAY_MS: i64 = 86_400_000;
const CHART_WIDTH: i64 = 700;
const CHART_HEIGHT: i64 = 110;

struct Bar {
    x: i64,
    y: i64,
    width: i64,
    height: i64,
    label: String,
    requests: i64,
    tokens: i64,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_usage.html")]
struct UsagePage {
    section: &'static str,
    csrf: String,
    group: &'static str,
    days: i64,
    totals: Vec<UsageTotal>,
    bars: Vec<Bar>,
    chart_width: i64,
    first_day: String,
    last_day: String,
}

#[derive(Deserialize)]
pub struct GroupQuery {
    group: Option<String>,
}

fn group_of(query: &GroupQuery) -> (UsageGroup, &'static str) {
    match query.group.as_deref() {
        Some("team") => (UsageGroup::Team, "team"),
        Some("model") => (UsageGroup::Model, "model"),
        _ => (UsageGroup::User, "user"),
    }
}

pub async fn usage_page(
    State(app): State<AppState>,
    AdminSession(session): AdminSession,
    Query(query): Query<GroupQuery>,
) -> Result<impl IntoResponse, PageError> {
    let (group, group_name) = group_of(&query);
    let today = now_millis() / DAY_MS;
    let first = today - DAYS + 1;
    let per_day = app.store.usage_per_day(first * DAY_MS).await?;
    let peak = per_day
        .iter()
        .map(|(_, requests, _)| *requests)
        .max()
        .unwrap_or(0)
        .max(1);
    let slot = CHART_WIDTH / DAYS;
    let bars = per_day
        .into_iter()
        .map(|(day, requests, tokens)| {
            let height = (requests * CHART_HEIGHT / peak).max(1);
            Bar {
                x: (day - first) * slot + 2,
                y: 120 - height,
                width: slot - 4,
                height,
                label: day_label(day),
                requests,
                tokens,
            }
        })
        .collect();
    Ok(UsagePage {
        section: "usage",
        csrf: session.csrf_token().to_owned(),
        group: group_name,
        days: DAYS,
        totals: app.store.usage_totals(group, first * DAY_MS).await?,
        bars,
        chart_width: CHART_WIDTH,
        first_day: day_label(first),
        last_day: day_label(today),
    })
}

pub async fn usage_csv(
    State(app): State<AppState>,
    AdminSession(_session): AdminSession,
    Query(query): Query<GroupQuery>,
) -> Result<impl IntoResponse, PageError> {
    let (group, _) = group_of(&query);
    let since = now_millis() - DAYS * DAY_MS;
    let csv = totals_as_csv(&app.store.usage_totals(group, since).await?);
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8"),
            (CONTENT_DISPOSITION, "attachment; filename=\"usage.csv\""),
        ],
        csv,
    ))
}
