//! The walk through the group tree, depth first and without I/O: it says whose children it
//! needs (`next_fetch`) and is handed them (`accept_children`). It checks each path against
//! its parent's, refuses an id seen twice (so a cycle cannot loop), and limits depth and size.

use std::collections::HashSet;

use super::error::DirectoryError;
use super::groups::{Children, MAX_GROUPS, RawGroup};
use super::model::DirectoryGroup;

/// Deepest nesting accepted; top-level groups are at depth 1.
const MAX_DEPTH: usize = 50;

/// A group waiting to be checked, with its parent's id and path and its depth.
struct Pending {
    raw: RawGroup,
    parent: Option<(String, String)>,
    depth: usize,
}

/// One walk through one realm's group tree.
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

    const GROUPS: &str = "/admin/realms/r/groups";

    fn groups(json: &str) -> Vec<RawGroup> {
        serde_json::from_str(json).expect("a group list")
    }

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
