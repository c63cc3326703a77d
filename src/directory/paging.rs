//! Reading a Keycloak listing page by page (`first`/`max`) so that it always ends and never
//! silently skips an entry. Each page after the first starts one entry before the end of the
//! previous one: if that entry is not where it was, entries before it were deleted meanwhile
//! and some may have been skipped, so the listing starts again (at most three times in all).
//! A page longer than asked for, repeating the previous page, or bringing nothing new is
//! refused, as is a listing longer than its limit.
//!
//! The caller drives the loop: `next_request`, fetch, `accept`, until `next_request` is `None`.

use std::collections::HashSet;

use tracing::warn;

use super::error::DirectoryError;

/// How many times one listing is read from the start before giving up.
const MAX_ATTEMPTS: usize = 3;

/// What is listed, for the checks and the errors.
pub(super) struct Listing {
    /// The listing's path, e.g. `/admin/realms/acme/users`, for errors and logs.
    pub path: String,
    /// Entries asked for per request; at least 2 (one of them is the overlap).
    pub page_size: usize,
    /// The most entries the listing may have.
    pub limit: usize,
    /// What the entries are, for `TooLarge`: "users", "groups", ...
    pub what: &'static str,
}

pub(super) struct Pager<T> {
    listing: Listing,
    id_of: fn(&T) -> &str,
    items: Vec<T>,
    seen: HashSet<String>,
    previous_page: Vec<String>,
    next_first: Option<usize>,
    attempts: usize,
}

impl<T> Pager<T> {
    pub fn new(mut listing: Listing, id_of: fn(&T) -> &str) -> Self {
        listing.page_size = listing.page_size.max(2);
        Self {
            listing,
            id_of,
            items: Vec::new(),
            seen: HashSet::new(),
            previous_page: Vec::new(),
            next_first: Some(0),
            attempts: 1,
        }
    }

    /// `(first, max)` of the next page to fetch, or `None` when the listing is complete.
    pub fn next_request(&self) -> Option<(usize, usize)> {
        self.next_first.map(|first| (first, self.listing.page_size))
    }

    /// Entries read so far, without duplicates.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// The complete listing, in the order Keycloak gave it.
    pub fn into_items(self) -> Vec<T> {
        self.items
    }

    /// Takes the page answering the last `next_request`.
    pub fn accept(&mut self, page: Vec<T>) -> Result<(), DirectoryError> {
        let Some(first) = self.next_first else {
            return Ok(());
        };
        let max = self.listing.page_size;
        if page.len() > max {
            return Err(
                self.malformed(format!("{} entries in a page of at most {max}", page.len()))
            );
        }
        let ids: Vec<String> = page.iter().map(|i| (self.id_of)(i).to_owned()).collect();
        let distinct: HashSet<&String> = ids.iter().collect();
        if distinct.len() != ids.len() {
            return Err(self.malformed("the same id twice in one page".to_owned()));
        }

        if first > 0 {
            if ids == self.previous_page {
                return Err(self.malformed(format!(
                    "the page at first={first} repeats the previous one"
                )));
            }
            let overlap_in_place = ids
                .first()
                .is_some_and(|id| self.previous_page.contains(id));
            if !overlap_in_place {
                return self.start_again();
            }
        }

        let before = self.items.len();
        for (item, id) in page.into_iter().zip(&ids) {
            if self.seen.insert(id.clone()) {
                self.items.push(item);
            }
        }
        if self.items.len() > self.listing.limit {
            return Err(DirectoryError::TooLarge {
                what: self.listing.what,
                limit: self.listing.limit,
            });
        }

        if ids.len() < max {
            self.next_first = None;
        } else if self.items.len() == before {
            return Err(self.malformed(format!("the page at first={first} brings nothing new")));
        } else {
            self.next_first = Some(first + max - 1);
        }
        self.previous_page = ids;
        Ok(())
    }

    /// Entries before the current page vanished: read the listing again from its start.
    fn start_again(&mut self) -> Result<(), DirectoryError> {
        if self.attempts >= MAX_ATTEMPTS {
            return Err(DirectoryError::Changed {
                path: self.listing.path.clone(),
            });
        }
        self.attempts += 1;
        warn!(
            path = %self.listing.path,
            attempt = self.attempts,
            "listing changed while it was read; reading it again"
        );
        self.items.clear();
        self.seen.clear();
        self.previous_page.clear();
        self.next_first = Some(0);
        Ok(())
    }

    fn malformed(&self, detail: String) -> DirectoryError {
        DirectoryError::MalformedAnswer {
            path: self.listing.path.clone(),
            detail,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pager(page_size: usize, limit: usize) -> Pager<String> {
        let listing = Listing {
            path: "/admin/realms/r/users".into(),
            page_size,
            limit,
            what: "users",
        };
        Pager::new(listing, |s: &String| s.as_str())
    }

    fn names(range: std::ops::Range<usize>) -> Vec<String> {
        range.map(|i| format!("u{i:03}")).collect()
    }

    /// Serves `pages` of a listing held in `server`, which `change` may edit before each page.
    fn drive(
        pager: &mut Pager<String>,
        server: &mut Vec<String>,
        mut change: impl FnMut(usize, &mut Vec<String>),
    ) -> Result<usize, DirectoryError> {
        let mut requests = 0;
        while let Some((first, max)) = pager.next_request() {
            change(requests, server);
            requests += 1;
            let page = server.iter().skip(first).take(max).cloned().collect();
            pager.accept(page)?;
            assert!(requests < 1000, "pager does not terminate");
        }
        Ok(requests)
    }

    #[test]
    fn reads_every_entry_with_overlapping_pages() {
        for total in [0, 1, 9, 10, 11, 19, 25, 100] {
            let mut server = names(0..total);
            let mut p = pager(10, 1000);
            let requests = drive(&mut p, &mut server, |_, _| {}).expect("reads");
            assert_eq!(p.into_items(), names(0..total), "total {total}");
            // Each page after the first brings 9 new entries; a short page ends the listing.
            assert_eq!(requests, total.saturating_sub(1) / 9 + 1, "total {total}");
        }
    }

    #[test]
    fn additions_during_the_read_are_harmless() {
        let mut server = names(10..35);
        let mut p = pager(10, 1000);
        drive(&mut p, &mut server, |request, server| {
            if request == 1 {
                server.insert(0, "u000".into());
            }
        })
        .expect("reads");
        let items = p.into_items();
        assert_eq!(
            items.len(),
            25,
            "the late addition may be missed, nothing else"
        );
        assert!(names(10..35).iter().all(|n| items.contains(n)));
    }

    #[test]
    fn deletions_before_the_page_start_the_listing_again() {
        let mut server = names(0..25);
        let mut p = pager(10, 1000);
        drive(&mut p, &mut server, |request, server| {
            if request == 1 {
                server.drain(0..2);
            }
        })
        .expect("reads after starting again");
        assert_eq!(p.into_items(), names(2..25));
    }

    #[test]
    fn a_listing_that_keeps_changing_is_an_error() {
        let mut server = names(0..100);
        let mut p = pager(10, 1000);
        let err = drive(&mut p, &mut server, |request, server| {
            if request % 2 == 1 {
                server.drain(0..2);
            }
        })
        .expect_err("gives up");
        assert_eq!(err.code(), "directory_changed");
    }

    #[test]
    fn a_server_ignoring_first_is_refused() {
        let mut p = pager(10, 1000);
        p.accept(names(0..10)).expect("first page");
        assert_eq!(p.next_request(), Some((9, 10)));
        let err = p.accept(names(0..10)).expect_err("repeats");
        assert_eq!(err.code(), "malformed_answer");
        assert!(
            err.to_string().contains("repeats the previous one"),
            "{err}"
        );
    }

    #[test]
    fn odd_pages_are_refused() {
        let mut p = pager(10, 1000);
        let err = p.accept(names(0..11)).expect_err("too long");
        assert!(err.to_string().contains("11 entries"), "{err}");

        let mut p = pager(10, 1000);
        let err = p.accept(vec!["a".into(), "a".into()]).expect_err("dup");
        assert_eq!(err.code(), "malformed_answer");

        // A full page of entries already seen, after the overlap entry: no progress.
        let mut p = pager(3, 1000);
        p.accept(names(0..3)).expect("first");
        let err = p
            .accept(vec!["u002".into(), "u000".into(), "u001".into()])
            .expect_err("nothing new");
        assert!(err.to_string().contains("nothing new"), "{err}");
    }

    #[test]
    fn limits_are_enforced() {
        let mut server = names(0..30);
        let mut p = pager(10, 20);
        let err = drive(&mut p, &mut server, |_, _| {}).expect_err("too many");
        assert_eq!(err.code(), "directory_too_large");
        assert_eq!(
            pager(1, 5).next_request(),
            Some((0, 2)),
            "page size is at least 2"
        );
    }
}
