//! peakcrew's core: the domain model every stage shares ([`model`]), the copy-on-write tables
//! the daemon snapshots while routing ([`cow`]), the pure routing core ([`routing`]) and the one
//! tally of service metrics ([`tally`]).
//!
//! Nothing here does I/O, reads a clock, starts a thread or draws a random number: the crate
//! depends on serde-level crates only (its `clippy.toml` also forbids the std clock, file and
//! thread calls), so the daemon and the simulator can drive the same deterministic code. See
//! `ARCHITECTURE.md` for the crate map.

pub mod cow;
pub mod model;
pub mod routing;
pub mod tally;
