//! peakcrew's planning stages. Data flows one way through them, each reading and writing plain
//! files so a planner can stop, inspect or edit between them:
//!
//! [`history`] (interval counts) → [`forecast`] (volume and handle time per queue and interval)
//! → [`staffing`] (Erlang C/A: agents required) → [`schedule`] (LP/MIP shift plan, then a roster
//! of named agents) → (the simulator, `peakcrew-sim`) → [`report`].
//!
//! Scenario files are read and validated by [`scenario`], which also gives every other TOML file
//! its located errors ([`scenario::load_toml`]); the domain types live in `peakcrew_core::model`.

pub mod csv_rows;
pub mod forecast;
pub mod history;
pub mod report;
pub mod scenario;
pub mod schedule;
pub mod staffing;
