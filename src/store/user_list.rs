//! The people gatehouse knows, as the console lists them: each with their
//! team and the public facts of their current key (never the key itself).

use sqlx::Row;
use sqlx::any::AnyRow;

use super::users::{USER_COLUMNS, user_from_row};
use super::{Store, StoreError, UserRecord, now_millis};

/// The public facts of a user's usable key.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KeyFacts {
    /// The key's public id (`gk_<id>_...`), safe to show and log.
    pub id: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

/// One person in the console's list.
#[derive(Debug, Clone)]
pub struct UserListing {
    pub user: UserRecord,
    /// Unix ms of the last sign-in; `None` if they never signed in (known
    /// from a directory sync only).
    pub last_sign_in: Option<i64>,
    pub key: Option<KeyFacts>,
}

/// `%`, `_` and `\` stand for themselves in a LIKE pattern after this.
fn like_pattern(search: &str) -> String {
    let mut pattern = String::from("%");
    for c in search.trim().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// People with their usable key (if any); `{filter}` narrows the users.
fn listing_sql(filter: &str) -> String {
    format!(
        "SELECT {USER_COLUMNS}, u.last_login_at, k.id AS key_id, \
                k.created_at AS key_created_at, k.expires_at AS key_expires_at \
         FROM users u JOIN teams t ON t.id = u.team_id \
         LEFT JOIN plugin_keys k ON k.user_id = u.id AND k.revoked_at IS NULL \
              AND (k.expires_at IS NULL OR k.expires_at > $1) \
         WHERE {filter} ORDER BY lower(u.username), u.id, k.created_at DESC"
    )
}

/// Rows of `listing_sql` as listings, one per user (should a user hold
/// more than one usable key, the newest counts).
fn listings(rows: &[AnyRow]) -> Result<Vec<UserListing>, StoreError> {
    let mut listings: Vec<UserListing> = Vec::with_capacity(rows.len());
    for row in rows {
        let user = user_from_row(row)?;
        if listings.last().is_some_and(|l| l.user.id == user.id) {
            continue;
        }
        let last_login: i64 = row.try_get("last_login_at")?;
        let key_id: Option<String> = row.try_get("key_id")?;
        let key = match key_id {
            Some(id) => Some(KeyFacts {
                id,
                created_at: row.try_get("key_created_at")?,
                expires_at: row.try_get("key_expires_at")?,
            }),
            None => None,
        };
        listings.push(UserListing {
            user,
            last_sign_in: (last_login > 0).then_some(last_login),
            key,
        });
    }
    Ok(listings)
}

impl Store {
    /// Users whose login, name or e-mail contains `search` (all when empty),
    /// by login, at most `limit` of them.
    pub async fn list_users(
        &self,
        search: &str,
        limit: i64,
    ) -> Result<Vec<UserListing>, StoreError> {
        let sql = listing_sql(
            "lower(u.username) LIKE $2 ESCAPE '\\' \
             OR lower(COALESCE(u.email, '')) LIKE $2 ESCAPE '\\' \
             OR lower(COALESCE(u.display_name, '')) LIKE $2 ESCAPE '\\'",
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{sql} LIMIT $3")))
            .bind(now_millis())
            .bind(like_pattern(search))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        listings(&rows)
    }

    /// One user with their key facts, by id.
    pub async fn user_listing(&self, user_id: &str) -> Result<Option<UserListing>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(listing_sql("u.id = $2")))
            .bind(now_millis())
            .bind(user_id)
            .fetch_all(&self.pool)
            .await?;
        Ok(listings(&rows)?.into_iter().next())
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn search_terms_match_literally() {
        assert_eq!(like_pattern(" Alice "), "%alice%");
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
        assert_eq!(like_pattern(""), "%%");
    }
}
