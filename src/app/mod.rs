//! Wiring: the shared state, the router, and the server's start-up.

mod router;
mod serve;
mod state;

pub use router::router;
pub use serve::serve;
pub use state::AppState;
