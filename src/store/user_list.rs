//! The people gatehouse knows, as the console lists them: each with their
//! team and the public facts of their current key (never the key itself).

use sqlx::Row;

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

impl Store {
    /// Users whose login, name or e-mail contains `search` (all when empty),
    /// by login, at most `limit` of them.
    pub async fn list_users(
        &self,
        search: &str,
        limit: i64,
    ) -> Result<Vec<UserListing>, StoreError> {
        let sql = format!(
            "SELECT {USER_COLUMNS}, u.last_login_at, k.id AS key_id, \
                    k.created_at AS key_created_at, k.expires_at AS key_expires_at \
             FROM users u JOIN teams t ON t.id = u.team_id \
             LEFT JOIN plugin_keys k ON k.user_id = u.id AND k.revoked_at IS NULL \
                  AND (k.expires_at IS NULL OR k.expires_at > $1) \
             WHERE lower(u.username) LIKE $2 ESCAPE '\\' \
                OR lower(COALESCE(u.email, '')) LIKE $2 ESCAPE '\\' \
                OR lower(COALESCE(u.display_name, '')) LIKE $2 ESCAPE '\\' \
             ORDER BY lower(u.username), u.id, k.created_at DESC LIMIT $3"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now_millis())
            .bind(like_pattern(search))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;

        let mut listings: Vec<UserListing> = Vec::with_capacity(rows.len());
        for row in &rows {
            let user = user_from_row(row)?;
            // A user holds one usable key; should there be more, the newest counts.
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

    /// One user with their key facts, by id.
    pub async fn user_listing(&self, user_id: &str) -> Result<Option<UserListing>, StoreError> {
        let Some(user) = self.user(user_id).await? else {
            return Ok(None);
        };
        let last_login: i64 = sqlx::query_scalar("SELECT last_login_at FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_one(&self.pool)
            .await?;
        let key = self.active_key(user_id).await?.map(|k| KeyFacts {
            id: k.id,
            created_at: k.created_at,
            expires_at: k.expires_at,
        });
        Ok(Some(UserListing {
            user,
            last_sign_in: (last_login > 0).then_some(last_login),
            key,
        }))
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
