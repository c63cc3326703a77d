//! Keycloak's group tree, read to every depth: top-level groups from `GET /groups`, then each
//! group's children from `GET /groups/{id}/children` (whose default page size is 10, so it is
//! always paged explicitly). `subGroupCount` saves the request for leaf groups; `subGroups`
//! is used only when it holds as many entries as `subGroupCount` says. Paths are checked
//! against their parent's, ids must be unique, and depth is limited.

use serde::Deserialize;

use super::error::{DirectoryError, tidy};
use super::group_tree::GroupWalk;
use super::model::DirectoryGroup;
use super::read::Reader;

/// Most groups read from one realm.
pub(super) const MAX_GROUPS: usize = 100_000;

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
}
