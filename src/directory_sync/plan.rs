//! Planning a directory sync: compares the people gatehouse knows from one
//! Keycloak realm with the directory as just read, and lists the changes.
//! Pure, so every rule is unit-tested; applying the plan is the store's
//! job, in one transaction.
//!
//! Rules: a person disabled or deleted in Keycloak is disabled here (keys
//! refused, sessions ended); a person re-enabled in Keycloak regains access
//! unless an administrator disabled them here; names, e-mail, groups and
//! the team (by the mapping) follow Keycloak; people new in Keycloak are
//! added without a key (they get one at their first sign-in).

use std::collections::HashMap;

use crate::accounts::team_mapping::{TeamAssignment, settle};
use crate::accounts::teams::{TeamError, TeamRules};
use crate::directory::{Directory, DirectoryUser};
use crate::store::UserRecord;

/// Who disabled a user, as stored in `disabled_by`.
pub const BY_DIRECTORY: &str = "directory";

/// One change to one user.
#[derive(Debug, Clone, PartialEq)]
pub enum UserChange {
    Add {
        subject: String,
        profile: Profile,
        team: TeamAssignment,
    },
    Update {
        user_id: String,
        profile: Profile,
        team: TeamAssignment,
    },
    Disable {
        user_id: String,
        reason: DisableReason,
    },
    Enable {
        user_id: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DisableReason {
    DisabledInKeycloak,
    RemovedFromKeycloak,
    NotInAnyTeam,
}

/// What Keycloak says about a person.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub username: String,
    pub email: Option<String>,
    pub display_name: Option<String>,
    pub group_paths: Vec<String>,
}

impl From<&DirectoryUser> for Profile {
    fn from(user: &DirectoryUser) -> Self {
        Self {
            username: user.username.clone(),
            email: user.email.clone(),
            display_name: user.display_name.clone(),
            group_paths: user.group_paths.clone(),
        }
    }
}

/// Counts for the sync's summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SyncCounts {
    pub users_in_keycloak: usize,
    pub added: usize,
    pub updated: usize,
    pub disabled: usize,
    pub removed: usize,
    pub reenabled: usize,
    pub unchanged: usize,
}

pub struct Plan {
    pub changes: Vec<UserChange>,
    pub counts: SyncCounts,
}

fn profile_of(user: &UserRecord) -> Profile {
    Profile {
        username: user.username.clone(),
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        group_paths: user.group_paths.clone(),
    }
}

/// Plans the changes for `local` (the users of this realm's issuer).
pub fn plan(local: &[UserRecord], directory: &Directory, rules: &TeamRules) -> Plan {
    let mut counts = SyncCounts {
        users_in_keycloak: directory.users.len(),
        ..SyncCounts::default()
    };
    let mut changes = Vec::new();
    let in_keycloak: HashMap<&str, &DirectoryUser> =
        directory.users.iter().map(|u| (u.id.as_str(), u)).collect();

    for user in local {
        let disabled_here = user.disabled_at.is_some();
        let by_directory = user.disabled_by.as_deref() == Some(BY_DIRECTORY);
        let Some(remote) = in_keycloak.get(user.subject.as_str()) else {
            if !disabled_here {
                changes.push(UserChange::Disable {
                    user_id: user.id.clone(),
                    reason: DisableReason::RemovedFromKeycloak,
                });
                counts.removed += 1;
            } else {
                counts.unchanged += 1;
            }
            continue;
        };
        if !remote.enabled {
            if !disabled_here {
                changes.push(UserChange::Disable {
                    user_id: user.id.clone(),
                    reason: DisableReason::DisabledInKeycloak,
                });
                counts.disabled += 1;
            } else {
                counts.unchanged += 1;
            }
            continue;
        }
        let team = match rules.assign(Some(&remote.group_paths)) {
            Ok(team) => settle(Some((&user.team_source, &user.team_id)), team),
            Err(TeamError::NotInAnyTeam) => {
                if !disabled_here {
                    changes.push(UserChange::Disable {
                        user_id: user.id.clone(),
                        reason: DisableReason::NotInAnyTeam,
                    });
                    counts.disabled += 1;
                }
                continue;
            }
            Err(TeamError::Store(_)) => continue,
        };
        if disabled_here && by_directory {
            changes.push(UserChange::Enable {
                user_id: user.id.clone(),
            });
            counts.reenabled += 1;
        }
        let profile = Profile::from(*remote);
        let team_changed = team.team_id != user.team_id
            || team.source != user.team_source
            || team.choices != user.team_choices;
        if profile != profile_of(user) || team_changed {
            changes.push(UserChange::Update {
                user_id: user.id.clone(),
                profile,
                team,
            });
            counts.updated += 1;
        } else if !(disabled_here && by_directory) {
            counts.unchanged += 1;
        }
    }

    let known: std::collections::HashSet<&str> = local.iter().map(|u| u.subject.as_str()).collect();
    for remote in directory
        .users
        .iter()
        .filter(|u| u.enabled && !known.contains(u.id.as_str()))
    {
        if let Ok(team) = rules.assign(Some(&remote.group_paths)) {
            changes.push(UserChange::Add {
                subject: remote.id.clone(),
                profile: Profile::from(remote),
                team,
            });
            counts.added += 1;
        }
    }
    Plan { changes, counts }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::team_mapping::GroupMapping;
    use crate::accounts::teams::UnmappedPolicy;

    fn remote(id: &str, enabled: bool, groups: &[&str]) -> DirectoryUser {
        DirectoryUser {
            id: id.into(),
            username: format!("user-{id}"),
            email: None,
            display_name: None,
            enabled,
            group_paths: groups.iter().map(|g| (*g).to_owned()).collect(),
        }
    }

    fn local(id: &str, disabled_by: Option<&str>) -> UserRecord {
        UserRecord {
            id: format!("local-{id}"),
            issuer: "iss".into(),
            subject: id.into(),
            username: format!("user-{id}"),
            email: None,
            display_name: None,
            team_id: "default".into(),
            team_name: "default".into(),
            team_source: "default".into(),
            team_choices: Vec::new(),
            group_paths: Vec::new(),
            disabled_at: disabled_by.map(|_| 1),
            disabled_by: disabled_by.map(str::to_owned),
        }
    }

    fn directory(users: Vec<DirectoryUser>) -> Directory {
        Directory {
            users,
            groups: Vec::new(),
        }
    }

    fn rules() -> TeamRules {
        TeamRules::new(Vec::new(), UnmappedPolicy::DefaultTeam)
    }

    #[test]
    fn unchanged_people_need_no_change() {
        let plan = plan(
            &[local("a", None)],
            &directory(vec![remote("a", true, &[])]),
            &rules(),
        );
        assert!(plan.changes.is_empty());
        assert_eq!(plan.counts.unchanged, 1);
    }

    #[test]
    fn disabled_and_deleted_people_are_disabled() {
        let plan = plan(
            &[local("a", None), local("b", None)],
            &directory(vec![remote("a", false, &[])]),
            &rules(),
        );
        assert_eq!(
            plan.changes,
            vec![
                UserChange::Disable {
                    user_id: "local-a".into(),
                    reason: DisableReason::DisabledInKeycloak
                },
                UserChange::Disable {
                    user_id: "local-b".into(),
                    reason: DisableReason::RemovedFromKeycloak
                },
            ]
        );
        assert_eq!((plan.counts.disabled, plan.counts.removed), (1, 1));
    }

    #[test]
    fn only_directory_disablements_are_lifted() {
        let plan = plan(
            &[local("a", Some(BY_DIRECTORY)), local("b", Some("admin"))],
            &directory(vec![remote("a", true, &[]), remote("b", true, &[])]),
            &rules(),
        );
        assert_eq!(
            plan.changes,
            vec![UserChange::Enable {
                user_id: "local-a".into()
            }]
        );
        assert_eq!(plan.counts.reenabled, 1);
    }

    #[test]
    fn new_people_are_added_with_their_mapped_team_and_groups_update_teams() {
        let rules = TeamRules::new(
            vec![GroupMapping {
                group_path: "/eng".into(),
                team_id: "eng".into(),
                priority: 1,
            }],
            UnmappedPolicy::Refuse,
        );
        let plan = plan(
            &[local("a", None)],
            &directory(vec![
                remote("a", true, &["/eng/x"]),
                remote("n", true, &["/eng"]),
                remote("z", true, &[]),
            ]),
            &rules,
        );
        assert!(
            matches!(&plan.changes[0], UserChange::Update { team, .. } if team.team_id == "eng")
        );
        assert!(matches!(&plan.changes[1], UserChange::Add { subject, .. } if subject == "n"));
        assert_eq!(
            plan.changes.len(),
            2,
            "z matches no mapping and is not added"
        );
    }
}
