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

/// `YYYY-MM-DD` of a day number since 1970-01-01 (UTC).
pub fn day_label(day: i64) -> String {
    // Civil-from-days, after Howard Hinnant's public-domain algorithm.
    let z = day + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::day_label;

    #[test]
    fn day_labels_are_iso_dates() {
        assert_eq!(day_label(0), "1970-01-01");
        assert_eq!(day_label(20_790), "2026-12-03");
        assert_eq!(day_label(11_016), "2000-02-29");
    }
}
