//! Who is in which group. Two ways, chosen by which needs fewer requests: each group's member
//! list (`GET /groups/{id}/members`, at least one request per group), or each user's groups
//! (`GET /users/{id}/groups`, at least one request per user). Both give direct memberships
//! only. Members that are not in the user list (service accounts, users added during the
//! read) are skipped; a group or user deleted during the read ends it as `directory_changed`.

use std::collections::{HashMap, HashSet};

use tracing::debug;

use super::error::DirectoryError;
use super::groups::MAX_GROUPS;
use super::model::{DirectoryGroup, DirectoryUser};
use super::read::{MAX_USERS, Reader};
use super::users::{RawMember, RawMembership};

/// Direct group paths per user id.
pub(super) type Memberships = HashMap<String, Vec<String>>;

/// Which listings give the memberships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    /// No groups, so no memberships: no requests.
    Nothing,
    GroupMembers,
    UserGroups,
}

/// The cheaper way for this many users and groups: a member list per group unless there are
/// more groups than users. (Each costs one request per group or user, plus one more for
/// every page of `page_size - 1` further entries.)
pub(super) fn choose(users: usize, groups: usize) -> Source {
    if groups == 0 || users == 0 {
        Source::Nothing
    } else if groups <= users {
        Source::GroupMembers
    } else {
        Source::UserGroups
    }
}

pub(super) async fn read_memberships(
    reader: &Reader<'_>,
    users: &[DirectoryUser],
    groups: &[DirectoryGroup],
) -> Result<Memberships, DirectoryError> {
    let source = choose(users.len(), groups.len());
    debug!(
        ?source,
        users = users.len(),
        groups = groups.len(),
        "reading memberships"
    );
    match source {
        Source::Nothing => Ok(Memberships::new()),
        Source::GroupMembers => by_group_members(reader, users, groups).await,
        Source::UserGroups => by_user_groups(reader, users).await,
    }
}

async fn by_group_members(
    reader: &Reader<'_>,
    users: &[DirectoryUser],
    groups: &[DirectoryGroup],
) -> Result<Memberships, DirectoryError> {
    let known: HashSet<&str> = users.iter().map(|u| u.id.as_str()).collect();
    let mut memberships = Memberships::new();
    let mut skipped = 0usize;
    for group in groups {
        let members: Vec<RawMember> = reader
            .list(
                &["groups", &group.id, "members"],
                &[("briefRepresentation", "true")],
                MAX_USERS,
                "members in one group",
                RawMember::id_of,
                |_| {},
            )
            .await
            .map_err(deleted_means_changed)?;
        for member in members {
            if known.contains(member.id.as_str()) {
                memberships
                    .entry(member.id)
                    .or_default()
                    .push(group.path.clone());
            } else {
                skipped += 1;
            }
        }
    }
    debug!(skipped, "members not in the user list were skipped");
    Ok(memberships)
}

async fn by_user_groups(
    reader: &Reader<'_>,
    users: &[DirectoryUser],
) -> Result<Memberships, DirectoryError> {
    let mut memberships = HashMap::with_capacity(users.len());
    for user in users {
        let paths = user_group_paths(reader, &user.id)
            .await
            .map_err(deleted_means_changed)?;
        memberships.insert(user.id.clone(), paths);
    }
    Ok(memberships)
}

/// The paths of the groups `user_id` is a direct member of, sorted. A user that does not
/// exist gives `KeycloakStatus` 404.
pub(super) async fn user_group_paths(
    reader: &Reader<'_>,
    user_id: &str,
) -> Result<Vec<String>, DirectoryError> {
    let segments = ["users", user_id, "groups"];
    let listed: Vec<RawMembership> = reader
        .list(
            &segments,
            &[("briefRepresentation", "true")],
            MAX_GROUPS,
            "groups of one user",
            RawMembership::id_of,
            |_| {},
        )
        .await?;
    let path = reader.api.path(&segments);
    let mut paths = listed
        .iter()
        .map(|m| m.checked_path(&path).map(str::to_owned))
        .collect::<Result<Vec<_>, _>>()?;
    paths.sort();
    paths.dedup();
    Ok(paths)
}

/// A 404 for a group or user listed moments ago means it was deleted during the read.
fn deleted_means_changed(error: DirectoryError) -> DirectoryError {
    match error {
        DirectoryError::KeycloakStatus { status: 404, path } => DirectoryError::Changed { path },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chooses_the_listing_needing_fewer_requests() {
        assert_eq!(choose(4, 0), Source::Nothing);
        assert_eq!(choose(0, 3), Source::Nothing);
        assert_eq!(choose(4, 5), Source::UserGroups);
        assert_eq!(choose(29, 20), Source::GroupMembers);
        assert_eq!(choose(5, 5), Source::GroupMembers);
    }

    #[test]
    fn a_vanished_group_is_a_change() {
        let gone = DirectoryError::KeycloakStatus {
            status: 404,
            path: "/admin/realms/r/groups/g/members".into(),
        };
        assert_eq!(deleted_means_changed(gone).code(), "directory_changed");
        let failing = DirectoryError::KeycloakStatus {
            status: 500,
            path: "/p".into(),
        };
        assert_eq!(deleted_means_changed(failing).code(), "keycloak_error");
    }
}
