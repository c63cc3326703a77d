//! Reading the whole directory, and one user: users (service accounts left out), then the
//! group tree, then memberships, each listing paged and reported page by page. The first
//! failure ends the read; nothing partial is returned. Limitation: requests go one at a time,
//! which is gentle on Keycloak but slow for very large realms (10,000 pages for 1,000,000
//! users).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde::de::DeserializeOwned;
use tracing::{debug, info, warn};

use super::ServiceAccount;
use super::admin::AdminApi;
use super::error::{DirectoryError, tidy};
use super::groups::read_groups;
use super::members::{read_memberships, user_group_paths};
use super::model::{Directory, DirectoryUser, ReadProgress};
use super::paging::{Listing, Pager};
use super::users::RawUser;
use crate::keycloak::KeycloakSettings;

/// Most users read from one realm.
pub(super) const MAX_USERS: usize = 1_000_000;

pub(super) type ProgressFn<'a> = &'a (dyn Fn(ReadProgress) + Send + Sync);

/// One read in progress: the admin API, the page size and the progress counters.
pub(super) struct Reader<'a> {
    pub api: AdminApi<'a>,
    page_size: usize,
    progress: ProgressFn<'a>,
    users_read: AtomicUsize,
    groups_read: AtomicUsize,
}

impl<'a> Reader<'a> {
    pub fn new(api: AdminApi<'a>, page_size: usize, progress: ProgressFn<'a>) -> Self {
        Self {
            api,
            page_size,
            progress,
            users_read: AtomicUsize::new(0),
            groups_read: AtomicUsize::new(0),
        }
    }

    pub fn set_users_read(&self, users: usize) {
        self.users_read.store(users, Ordering::Relaxed);
    }

    pub fn set_groups_read(&self, groups: usize) {
        self.groups_read.store(groups, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> ReadProgress {
        ReadProgress {
            users_read: self.users_read.load(Ordering::Relaxed),
            groups_read: self.groups_read.load(Ordering::Relaxed),
            requests: self.api.requests(),
        }
    }

    /// Reads a whole listing under `{admin}/{segments}` page by page (see `paging`), calling
    /// `on_page` with the entries read so far and then the progress callback after each page.
    pub async fn list<T: DeserializeOwned>(
        &self,
        segments: &[&str],
        query: &[(&str, &str)],
        limit: usize,
        what: &'static str,
        id_of: fn(&T) -> &str,
        on_page: impl Fn(usize),
    ) -> Result<Vec<T>, DirectoryError> {
        let listing = Listing {
            path: self.api.path(segments),
            page_size: self.page_size,
            limit,
            what,
        };
        let mut pager = Pager::new(listing, id_of);
        while let Some((first, max)) = pager.next_request() {
            let mut params = vec![("first", first.to_string()), ("max", max.to_string())];
            params.extend(query.iter().map(|(k, v)| (*k, (*v).to_owned())));
            let page: Vec<T> = self.api.get_json(segments, &params).await?;
            debug!(path = %self.api.path(segments), first, entries = page.len(), "page read");
            pager.accept(page)?;
            on_page(pager.len());
            (self.progress)(self.snapshot());
        }
        Ok(pager.into_items())
    }
}

pub(super) async fn read_directory(
    account: &ServiceAccount,
    settings: &KeycloakSettings,
    page_size: usize,
    progress: ProgressFn<'_>,
) -> Result<Directory, DirectoryError> {
    let started = Instant::now();
    let reader = Reader::new(AdminApi::new(account, settings)?, page_size, progress);
    let realm = reader.api.realm().to_owned();

    match read_everything(&reader).await {
        Ok(directory) => {
            let done = reader.snapshot();
            info!(
                realm = %realm,
                users = directory.users.len(),
                groups = directory.groups.len(),
                requests = done.requests,
                elapsed_ms = started.elapsed().as_millis() as u64,
                "read the Keycloak directory"
            );
            Ok(directory)
        }
        Err(e) => {
            let done = reader.snapshot();
            warn!(
                realm = %realm,
                code = e.code(),
                error = %e,
                users_read = done.users_read,
                groups_read = done.groups_read,
                requests = done.requests,
                "reading the Keycloak directory failed"
            );
            Err(e)
        }
    }
}

async fn read_everything(reader: &Reader<'_>) -> Result<Directory, DirectoryError> {
    let mut users = read_users(reader).await?;
    let mut groups = read_groups(reader).await?;
    let mut memberships = read_memberships(reader, &users, &groups).await?;

    for user in &mut users {
        let mut paths = memberships.remove(&user.id).unwrap_or_default();
        paths.sort();
        paths.dedup();
        user.group_paths = paths;
    }
    users.sort_by(|a, b| a.username.cmp(&b.username));
    groups.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Directory { users, groups })
}

/// Every user of the realm except service accounts, without their groups.
async fn read_users(reader: &Reader<'_>) -> Result<Vec<DirectoryUser>, DirectoryError> {
    let full = [("briefRepresentation", "false")];
    let raw: Vec<RawUser> = reader
        .list(&["users"], &full, MAX_USERS, "users", RawUser::id_of, |n| {
            reader.set_users_read(n)
        })
        .await?;

    let path = reader.api.path(&["users"]);
    let mut users = Vec::with_capacity(raw.len());
    let mut service_accounts = 0;
    for raw in raw {
        if raw.is_service_account() {
            service_accounts += 1;
        } else {
            users.push(raw.into_directory_user(&path)?);
        }
    }
    debug!(users = users.len(), service_accounts, "users read");
    reader.set_users_read(users.len());
    Ok(users)
}

/// One user with their groups; `None` if Keycloak has no such user or it is a service account.
pub(super) async fn read_user(
    account: &ServiceAccount,
    settings: &KeycloakSettings,
    page_size: usize,
    id: &str,
) -> Result<Option<DirectoryUser>, DirectoryError> {
    let api = AdminApi::new(account, settings)?;
    if id.trim().is_empty() || id == "." || id == ".." {
        return Ok(None);
    }
    let Some(raw) = api.get_json_or_none::<RawUser>(&["users", id], &[]).await? else {
        return Ok(None);
    };
    let path = api.path(&["users", id]);
    if raw.id != id {
        return Err(DirectoryError::MalformedAnswer {
            path,
            detail: format!("asked for user {id}, got {}", tidy(&raw.id)),
        });
    }
    if raw.is_service_account() {
        return Ok(None);
    }
    let mut user = raw.into_directory_user(&path)?;

    let reader = Reader::new(api, page_size, &|_| {});
    match user_group_paths(&reader, id).await {
        Ok(paths) => {
            user.group_paths = paths;
            Ok(Some(user))
        }
        // Deleted between the two requests.
        Err(DirectoryError::KeycloakStatus { status: 404, .. }) => Ok(None),
        Err(e) => Err(e),
    }
}
