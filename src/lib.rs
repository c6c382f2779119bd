//! peakcrew: skills-based routing and workforce scheduling for contact centers.
//!
//! Data flows one way through the stages, each reading and writing plain files so a planner can
//! stop, inspect or edit between them:
//!
//! `history` (interval counts) → `forecast` (volume and handle time per queue and interval) →
//! `staffing` (Erlang C/A: agents required) → `schedule` (LP/MIP shift plan, then a roster of
//! named agents) → `sim` (discrete-event replay through the routing core) → `report`.
//!
//! The domain types every stage shares live in [`model`]; scenario files are read and validated
//! by [`scenario`]. See `ARCHITECTURE.md` for the map and its invariants.

pub mod cli;
pub mod cow;
pub mod csv_rows;
pub mod forecast;
pub mod history;
pub mod model;
pub mod plan;
pub mod report;
pub mod routing;
pub mod scenario;
pub mod schedule;
pub mod serve;
pub mod sim;
pub mod staffing;
