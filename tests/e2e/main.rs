//! End-to-end tests: the real `peakcrew` binary on real files, the real daemon over 127.0.0.1,
//! the report in headless Chromium, and the stages' library APIs on the bundled scenario. They
//! are one test binary so the suite links the solver and the daemon once; each module is one
//! subject (`cargo test --release --test e2e plan::` runs one).

mod common;

mod erlang_cli;
mod forecast_backtest;
mod forecast_cli;
mod forecast_double11;
mod history_cli;
mod plan;
mod report_browser;
mod routing_bundled;
mod schedule;
mod serve;
mod sim_cli;
mod sim_validation;
mod staff_cli;
mod validate;
