//! The directory as gatehouse sees it: people (service accounts left out), every group with
//! its full path, and each person's direct group memberships. Nothing here talks to Keycloak.

/// Everything read from one realm, complete: a failed read returns an error, never a part.
#[derive(Debug, Clone)]
pub struct Directory {
    /// Sorted by username.
    pub users: Vec<DirectoryUser>,
    /// Every group at every depth, sorted by path.
    pub groups: Vec<DirectoryGroup>,
}

/// A person in Keycloak.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryUser {
    /// Keycloak's user id: the `sub` of this person's tokens.
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    /// "First Last", or whichever of the two is set.
    pub display_name: Option<String>,
    pub enabled: bool,
    /// Full paths of the groups the user is a direct member of, like "/engineering/backend",
    /// sorted and without duplicates. Membership of a subgroup does not list its parents,
    /// just as in the `groups` claim of the user's tokens.
    pub group_paths: Vec<String>,
}

/// A group at any depth.
#[derive(Debug, Clone, PartialEq)]
pub struct DirectoryGroup {
    pub id: String,
    /// Full path, like "/engineering/backend", exactly as Keycloak gives it (and as the
    /// `groups` claim carries it). A `/` inside a group's name is not escaped in it.
    pub path: String,
}

/// How far a directory read has come, reported after each page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadProgress {
    /// Users read so far; service accounts are counted until the listing is complete. A
    /// listing that changed while it was read starts again, so this may go down once.
    pub users_read: usize,
    /// Groups read so far.
    pub groups_read: usize,
    /// HTTP requests sent to Keycloak so far, token requests included.
    pub requests: usize,
}
