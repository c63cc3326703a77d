//! Which team a person belongs to, from their Keycloak groups: an explicit
//! table maps group paths to teams, with a priority. A mapping for
//! `/engineering` also covers `/engineering/backend`.
//!
//! Of all mappings that cover a person's groups, the lowest priority number
//! wins; on a tie the more specific (longer) group path wins, then the team
//! name. Every covered team is offered to the person as a choice.

/// One row of the mapping table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupMapping {
    pub group_path: String,
    pub team_id: String,
    pub priority: i64,
}

/// What the mapping says about one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TeamDecision {
    /// The team to use, and every team the person may choose among.
    Mapped {
        team_id: String,
        choices: Vec<String>,
    },
    /// No mapping covers any of the person's groups.
    Unmapped,
}

/// Whether `mapping_path` is `group` itself or one of its ancestors.
fn covers(mapping_path: &str, group: &str) -> bool {
    let mapping_path = mapping_path.trim_end_matches('/');
    group == mapping_path
        || group
            .strip_prefix(mapping_path)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// Decides the team for someone in `groups` (full paths like `/a/b`).
pub fn decide(mappings: &[GroupMapping], groups: &[String]) -> TeamDecision {
    let mut matched: Vec<&GroupMapping> = mappings
        .iter()
        .filter(|mapping| {
            groups
                .iter()
                .any(|group| covers(&mapping.group_path, group))
        })
        .collect();
    if matched.is_empty() {
        return TeamDecision::Unmapped;
    }
    matched.sort_by(|a, b| {
        a.priority
            .cmp(&b.priority)
            .then(b.group_path.len().cmp(&a.group_path.len()))
            .then(a.team_id.cmp(&b.team_id))
    });
    let mut choices: Vec<String> = Vec::new();
    for mapping in &matched {
        if !choices.contains(&mapping.team_id) {
            choices.push(mapping.team_id.clone());
        }
    }
    TeamDecision::Mapped {
        team_id: matched[0].team_id.clone(),
        choices,
    }
}

/// Normalizes a group path as an administrator typed it: `engineering/`
/// becomes `/engineering`. `None` if it is empty.
pub fn normalize_group_path(raw: &str) -> Option<String> {
    let trimmed = raw.trim().trim_matches('/');
    (!trimmed.is_empty()).then(|| format!("/{trimmed}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping(path: &str, team: &str, priority: i64) -> GroupMapping {
        GroupMapping {
            group_path: path.into(),
            team_id: team.into(),
            priority,
        }
    }

    fn groups(paths: &[&str]) -> Vec<String> {
        paths.iter().map(|p| (*p).to_owned()).collect()
    }

    #[test]
    fn a_parent_mapping_covers_subgroups_but_not_lookalikes() {
        assert!(covers("/engineering", "/engineering/backend"));
        assert!(covers("/engineering/", "/engineering"));
        assert!(!covers("/engineering", "/engineering-managers"));
    }

    #[test]
    fn lowest_priority_number_wins_and_all_matches_are_choices() {
        let table = [
            mapping("/engineering", "eng", 20),
            mapping("/engineering/backend", "backend", 10),
        ];
        let decision = decide(&table, &groups(&["/engineering/backend"]));
        assert_eq!(
            decision,
            TeamDecision::Mapped {
                team_id: "backend".into(),
                choices: vec!["backend".into(), "eng".into()]
            }
        );
    }

    #[test]
    fn on_equal_priority_the_more_specific_path_wins() {
        let table = [
            mapping("/engineering", "eng", 10),
            mapping("/engineering/backend", "backend", 10),
        ];
        let TeamDecision::Mapped { team_id, .. } =
            decide(&table, &groups(&["/engineering/backend"]))
        else {
            panic!("expected a mapping");
        };
        assert_eq!(team_id, "backend");
    }

    #[test]
    fn no_group_or_no_match_is_unmapped() {
        let table = [mapping("/sales", "sales", 1)];
        assert_eq!(decide(&table, &[]), TeamDecision::Unmapped);
        assert_eq!(
            decide(&table, &groups(&["/engineering"])),
            TeamDecision::Unmapped
        );
    }

    #[test]
    fn group_paths_are_normalized() {
        assert_eq!(
            normalize_group_path(" engineering/backend/ ").as_deref(),
            Some("/engineering/backend")
        );
        assert_eq!(normalize_group_path("/"), None);
    }
}

/// A team for a user, and where that decision came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamAssignment {
    pub team_id: String,
    /// `default`, `mapping`, `user` or `admin`.
    pub source: String,
    pub choices: Vec<String>,
}

/// Applies a fresh assignment to a user who may already have a team: an
/// administrator's choice always stays; a user's own choice stays while
/// the mapping still offers it.
pub fn settle(current: Option<(&str, &str)>, fresh: TeamAssignment) -> TeamAssignment {
    match current {
        Some(("admin", team_id)) => TeamAssignment {
            team_id: team_id.to_owned(),
            source: "admin".into(),
            ..fresh
        },
        Some(("user", team_id)) if fresh.choices.iter().any(|c| c == team_id) => TeamAssignment {
            team_id: team_id.to_owned(),
            source: "user".into(),
            ..fresh
        },
        _ => fresh,
    }
}

#[cfg(test)]
mod settle_tests {
    use super::*;

    fn fresh() -> TeamAssignment {
        TeamAssignment {
            team_id: "backend".into(),
            source: "mapping".into(),
            choices: vec!["backend".into(), "eng".into()],
        }
    }

    #[test]
    fn admin_choice_stays_and_user_choice_stays_while_offered() {
        assert_eq!(settle(Some(("admin", "ops")), fresh()).team_id, "ops");
        assert_eq!(settle(Some(("user", "eng")), fresh()).team_id, "eng");
        assert_eq!(settle(Some(("user", "sales")), fresh()).team_id, "backend");
        assert_eq!(settle(Some(("mapping", "old")), fresh()).team_id, "backend");
        assert_eq!(settle(None, fresh()).source, "mapping");
    }
}
