//! Keycloak's group tree, read to every depth: top-level groups from `GET /groups`, then each
//! group's children from `GET /groups/{id}/children` (whose default page size is 10, so it is
//! always paged explicitly). `subGroupCount` saves the request for leaf groups; `subGroups`
//! is used only when it holds as many entries as `subGroupCount` says. Paths are checked
//! against their parent's, ids must be unique, and depth is limited.

use std::collections::HashSet;

use serde::Deserialize;

use super::error::{DirectoryError, tidy};
use super::model::DirectoryGroup;
use super::read::Reader;

/// Most groups read from one realm.
pub(super) const MAX_GROUPS: usize = 100_000;
/// Deepest nesting accepted; top-level groups are at depth 1.
pub(super) const MAX_DEPTH: usize = 50;

/// One entry of `GET /groups` or `GET /groups/{id}/children`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct RawGroup {
    pub id: String,
    pub path: String,
    #[serde(default)]
    pub sub_groups: Option<Vec<RawGroup>>,
    #[serde(default)]
    pub sub_group_count: Option<u64>,
}

/// Where a group's children come from.
#[derive(Debug)]
pub(super) enum Children {
    Known(Vec<RawGroup>),
    Fetch,
}

impl RawGroup {
    pub fn id_of(&self) -> &str {
        &self.id
    }

    /// Checks the group against its parent's path (`None` for a top-level group).
    pub fn checked(&self, parent_path: Option<&str>) -> Result<DirectoryGroup, String> {
        let id = &self.id;
        if id.trim().is_empty() || id.chars().count() > 255 || id.chars().any(char::is_control) {
            return Err(format!("group id {:?}", tidy(id)));
        }
        let prefix = parent_path.unwrap_or("");
        let own = self
            .path
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix('/'))
            .filter(|own| is_path_segment(own));
        if own.is_none() {
            return Err(format!(
                "group {id} has path {:?}, which is not a child of {:?}",
                tidy(&self.path),
                parent_path.unwrap_or("/")
            ));
        }
        Ok(DirectoryGroup {
            id: id.clone(),
            path: self.path.clone(),
        })
    }

    /// Where the children come from: none, the embedded list when complete, or Keycloak.
    pub fn children(self) -> Children {
        let embedded = self.sub_groups.unwrap_or_default();
        match self.sub_group_count {
            Some(0) => Children::Known(Vec::new()),
            Some(count) if !embedded.is_empty() && count == embedded.len() as u64 => {
                Children::Known(embedded)
            }
            _ => Children::Fetch,
        }
    }
}

/// A group's own part of its path: not empty and without control characters. A `/` inside a
/// group's name appears unescaped in Keycloak 26.7's paths, so it cannot be checked further.
fn is_path_segment(own: &str) -> bool {
    !own.is_empty() && !own.chars().any(char::is_control)
}

/// Reads every group, depth first, in Keycloak's order within each level.
pub(super) async fn read_groups(
    reader: &Reader<'_>,
) -> Result<Vec<DirectoryGroup>, DirectoryError> {
    let brief = [("briefRepresentation", "true")];
    let top: Vec<RawGroup> = reader
        .list(
            &["groups"],
            &brief,
            MAX_GROUPS,
            "groups",
            RawGroup::id_of,
            |n| reader.set_groups_read(n),
        )
        .await?;

    let mut walk = GroupWalk::new(top, reader.api.path(&["groups"]));
    while let Some(parent_id) = walk.next_fetch()? {
        let already = walk.received();
        let children = reader
            .list(
                &["groups", &parent_id, "children"],
                &brief,
                MAX_GROUPS,
                "groups",
                RawGroup::id_of,
                |n| reader.set_groups_read(already + n),
            )
            .await?;
        walk.accept_children(children)?;
        reader.set_groups_read(walk.received());
    }
    Ok(walk.into_groups())
}

/// A group waiting to be checked: where it was listed, its parent's path, its depth.
struct Pending {
    raw: RawGroup,
    parent: Option<(String, String)>,
    depth: usize,
}

/// The walk through the tree, depth first, without I/O: it says whose children it needs
/// (`next_fetch`) and is handed them (`accept_children`).
pub(super) struct GroupWalk {
    groups_path: String,
    groups: Vec<DirectoryGroup>,
    seen: HashSet<String>,
    pending: Vec<Pending>,
    waiting: Option<(DirectoryGroup, usize)>,
    received: usize,
}

impl GroupWalk {
    /// Starts from the top-level groups listed at `groups_path` (`/admin/realms/r/groups`).
    pub fn new(top: Vec<RawGroup>, groups_path: String) -> Self {
        let received = top.len();
        let pending = top
            .into_iter()
            .rev()
            .map(|raw| Pending {
                raw,
                parent: None,
                depth: 1,
            })
            .collect();
        Self {
            groups_path,
            groups: Vec::new(),
            seen: HashSet::new(),
            pending,
            waiting: None,
            received,
        }
    }

    /// Group representations received so far, at any depth.
    pub fn received(&self) -> usize {
        self.received
    }

    /// Checks groups until one's children must be fetched, and returns that group's id; `None`
    /// when the whole tree is read.
    pub fn next_fetch(&mut self) -> Result<Option<String>, DirectoryError> {
        while let Some(Pending { raw, parent, depth }) = self.pending.pop() {
            let listed_at = match &parent {
                Some((parent_id, _)) => format!("{}/{parent_id}/children", self.groups_path),
                None => self.groups_path.clone(),
            };
            if depth > MAX_DEPTH {
                return Err(DirectoryError::TooLarge {
                    what: "levels of subgroups",
                    limit: MAX_DEPTH,
                });
            }
            let group = raw
                .checked(parent.as_ref().map(|(_, path)| path.as_str()))
                .map_err(|detail| DirectoryError::MalformedAnswer {
                    path: listed_at.clone(),
                    detail,
                })?;
            if !self.seen.insert(group.id.clone()) {
                return Err(DirectoryError::MalformedAnswer {
                    path: listed_at,
                    detail: format!("group {} appears twice in the tree", group.id),
                });
            }
            match raw.children() {
                Children::Known(children) => self.push_children(&group, depth, children)?,
                Children::Fetch => {
                    let id = group.id.clone();
                    self.waiting = Some((group, depth));
                    return Ok(Some(id));
                }
            }
        }
        Ok(None)
    }

    /// The children of the group `next_fetch` returned.
    pub fn accept_children(&mut self, children: Vec<RawGroup>) -> Result<(), DirectoryError> {
        if let Some((group, depth)) = self.waiting.take() {
            self.push_children(&group, depth, children)?;
        }
        Ok(())
    }

    pub fn into_groups(self) -> Vec<DirectoryGroup> {
        self.groups
    }

    fn push_children(
        &mut self,
        group: &DirectoryGroup,
        depth: usize,
        children: Vec<RawGroup>,
    ) -> Result<(), DirectoryError> {
        self.received += children.len();
        if self.received > MAX_GROUPS {
            return Err(DirectoryError::TooLarge {
                what: "groups",
                limit: MAX_GROUPS,
            });
        }
        let parent = (group.id.clone(), group.path.clone());
        self.pending
            .extend(children.into_iter().rev().map(|raw| Pending {
                raw,
                parent: Some(parent.clone()),
                depth: depth + 1,
            }));
        self.groups.push(group.clone());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(json: &str) -> Vec<RawGroup> {
        serde_json::from_str(json).expect("a group list")
    }

    #[test]
    fn reads_keycloak_top_level_groups() {
        let raw = groups(
            r#"[{"id":"5cc1","name":"engineering","path":"/engineering","subGroupCount":2,
                 "subGroups":[],"access":{"view":true}},
                {"id":"5764","name":"sales","path":"/sales","subGroupCount":0,"subGroups":[]}]"#,
        );
        let checked: Vec<DirectoryGroup> = raw
            .iter()
            .map(|g| g.checked(None).expect("valid"))
            .collect();
        assert_eq!(checked[0].path, "/engineering");
        let mut raw = raw.into_iter();
        let engineering = raw.next().expect("two");
        assert!(matches!(engineering.children(), Children::Fetch));
        let sales = raw.next().expect("two");
        assert!(matches!(sales.children(), Children::Known(c) if c.is_empty()));
    }

    #[test]
    fn complete_embedded_subgroups_save_a_request() {
        let raw = groups(
            r#"[{"id":"e","path":"/engineering","subGroupCount":2,"subGroups":[
                  {"id":"b","path":"/engineering/backend","subGroupCount":0},
                  {"id":"f","path":"/engineering/frontend","subGroupCount":0}]},
                {"id":"x","path":"/x","subGroupCount":3,"subGroups":[
                  {"id":"y","path":"/x/y"}]},
                {"id":"old","path":"/old","subGroups":[{"id":"z","path":"/old/z"}]}]"#,
        );
        let kinds: Vec<String> = raw
            .into_iter()
            .map(|g| match g.children() {
                Children::Known(children) => {
                    let paths: Vec<String> = children
                        .iter()
                        .map(|c| c.checked(Some("/engineering")).expect("child").path)
                        .collect();
                    paths.join(",")
                }
                Children::Fetch => "fetch".to_owned(),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "/engineering/backend,/engineering/frontend",
                "fetch",
                "fetch"
            ]
        );
    }

    #[test]
    fn paths_must_continue_the_parent_path() {
        let group = |path: &str| RawGroup {
            id: "g".into(),
            path: path.into(),
            sub_groups: None,
            sub_group_count: None,
        };
        assert!(
            group("/engineering/backend")
                .checked(Some("/engineering"))
                .is_ok()
        );
        // Keycloak 26.7 leaves a / inside a name unescaped: a top-level group named "a/b".
        assert!(group("/a/b").checked(None).is_ok());
        assert!(group("/a/b/c").checked(Some("/a/b")).is_ok());
        for (path, parent) in [
            ("/sales/backend", Some("/engineering")),
            ("/engineeringx", Some("/engineering")),
            ("/engineering/", Some("/engineering")),
            ("engineering", None),
            ("/", None),
            ("/a\tb", None),
        ] {
            let err = group(path).checked(parent).expect_err(path);
            assert!(err.contains("not a child"), "{err}");
        }
        let mut blank = group("/a");
        blank.id = " ".into();
        assert!(blank.checked(None).is_err());
    }

    #[test]
    fn wrong_types_are_refused() {
        for json in [
            r#"[{"id":"g","path":"/g","subGroupCount":-1}]"#,
            r#"[{"id":"g"}]"#,
            r#"[{"path":"/g"}]"#,
            r#"[{"id":"g","path":"/g","subGroups":{}}]"#,
        ] {
            assert!(
                serde_json::from_str::<Vec<RawGroup>>(json).is_err(),
                "{json}"
            );
        }
    }

    const GROUPS: &str = "/admin/realms/r/groups";

    fn group(id: &str, path: &str, count: Option<u64>) -> RawGroup {
        RawGroup {
            id: id.into(),
            path: path.into(),
            sub_groups: None,
            sub_group_count: count,
        }
    }

    /// Walks a tree whose children are served from `children_of`.
    fn walk(
        top: Vec<RawGroup>,
        mut children_of: impl FnMut(&str) -> Vec<RawGroup>,
    ) -> Result<(Vec<String>, Vec<String>), DirectoryError> {
        let mut walk = GroupWalk::new(top, GROUPS.into());
        let mut fetched = Vec::new();
        while let Some(id) = walk.next_fetch()? {
            fetched.push(id.clone());
            walk.accept_children(children_of(&id))?;
            assert!(fetched.len() < 1000, "walk does not terminate");
        }
        let paths = walk.into_groups().into_iter().map(|g| g.path).collect();
        Ok((paths, fetched))
    }

    #[test]
    fn walks_the_tree_and_fetches_only_where_needed() {
        let top = groups(
            r#"[{"id":"e","path":"/engineering","subGroupCount":2,"subGroups":[]},
                {"id":"s","path":"/sales","subGroupCount":0,"subGroups":[]}]"#,
        );
        let (paths, fetched) = walk(top, |id| match id {
            "e" => vec![
                group("b", "/engineering/backend", None),
                group("f", "/engineering/frontend", Some(0)),
            ],
            _ => Vec::new(),
        })
        .expect("walks");
        assert_eq!(
            paths,
            [
                "/engineering",
                "/engineering/backend",
                "/engineering/frontend",
                "/sales"
            ]
        );
        assert_eq!(fetched, ["e", "b"], "no subGroupCount: asked; 0: not asked");
    }

    #[test]
    fn depth_is_limited() {
        let top = vec![group("g1", "/g1", None)];
        let err = walk(top, |id| {
            let depth: usize = id[1..].parse().expect("numbered");
            let path = (1..=depth + 1)
                .map(|d| format!("/g{d}"))
                .collect::<String>();
            vec![group(&format!("g{}", depth + 1), &path, None)]
        })
        .expect_err("too deep");
        assert_eq!(err.code(), "directory_too_large");
        assert!(err.to_string().contains("50 levels"), "{err}");
    }

    #[test]
    fn a_group_seen_twice_is_refused() {
        let top = vec![group("a", "/a", None)];
        let err = walk(top, |_| vec![group("a", "/a/a", None)]).expect_err("cycle");
        assert_eq!(err.code(), "malformed_answer");
        assert!(
            err.to_string()
                .contains("/admin/realms/r/groups/a/children"),
            "{err}"
        );
    }

    #[test]
    fn a_child_with_a_foreign_path_is_refused() {
        let top = vec![group("a", "/a", None)];
        let err = walk(top, |_| vec![group("b", "/b/c", Some(0))]).expect_err("foreign");
        assert_eq!(err.code(), "malformed_answer");
    }
}
