//! `peakcrew serve`: the routing daemon (see [`peakcrew_serve`]).
//!
//! Prints one JSON line on stdout once it listens (`{"listening": "127.0.0.1:7878", ...}`),
//! so a script or test that asked for port 0 learns the port; logs go to stderr. Stops
//! gracefully on SIGINT or SIGTERM, or after `--stop-after` seconds.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::Args;

use super::Global;
use peakcrew_serve::{self as serve, Settings};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The router file: `[server]` and the routing `[policy]` (or `server.policy_file`).
    #[arg(long, default_value = "config/router.toml")]
    pub config: PathBuf,
    /// Validate the configuration (and the scenario and policy it names) and exit.
    #[arg(long)]
    pub check_config: bool,
    /// Listen here instead of `server.listen` (port 0: any free port).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Use this store directory instead of `server.store`.
    #[arg(long)]
    pub store: Option<PathBuf>,
    /// Shut down gracefully after this many seconds (for demos and tests).
    #[arg(long)]
    pub stop_after: Option<f64>,
    /// Replay the store's log without serving (read-only, no lock) and print the resulting
    /// state's digests and statistics as JSON. A compacted log is replayed from the oldest
    /// usable snapshot it continues (`from_snapshot` in the output).
    #[arg(long)]
    pub replay_only: bool,
    /// With --replay-only: let time pass to this daemon time (ms) after the last record, to
    /// compare with what a running daemon showed at that time.
    #[arg(long, requires = "replay_only")]
    pub until_ms: Option<u64>,
}

pub fn run(args: ServeArgs, global: Global) -> anyhow::Result<ExitCode> {
    let mut settings = Settings::load(&args.config).map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(listen) = args.listen {
        settings.listen = listen;
    }
    if let Some(store) = &args.store {
        settings.store = store.clone();
    }
    if args.check_config {
        if global.json {
            super::print_json(&serde_json::json!({
                "config": args.config,
                "valid": true,
                "queues": settings.catalog.queues.len(),
                "tokens": settings.credentials.len(),
            }))?;
        } else {
            println!(
                "{}: valid ({} queues, {} tokens, store {})",
                args.config.display(),
                settings.catalog.queues.len(),
                settings.credentials.len(),
                settings.store.display()
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.replay_only {
        let summary = serve::replay_store(&settings, &settings.store, args.until_ms)?;
        if summary.log_first_record > 0 {
            eprintln!(
                "note: the log of {} starts at record {} (older segments were compacted away); \
                 replayed from the snapshot of {} records and the {} records after it",
                settings.store.display(),
                summary.log_first_record,
                summary.from_snapshot,
                summary.log_entries - summary.from_snapshot
            );
        }
        super::print_json(&summary)?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(s) = args.stop_after {
        anyhow::ensure!(
            s.is_finite() && s > 0.0,
            "--stop-after: expected a positive number of seconds, found {s}"
        );
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("peakcrew-http")
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let signal = async {
            let stop_after = async {
                match args.stop_after {
                    Some(s) => tokio::time::sleep(Duration::from_secs_f64(s)).await,
                    None => std::future::pending().await,
                }
            };
            let term = async {
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(mut s) => {
                        s.recv().await;
                    }
                    Err(_) => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term => {}
                _ = stop_after => {}
            }
        };
        serve::serve(
            settings,
            |started| {
                let line = serde_json::to_string(started).unwrap_or_default();
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
                tracing::info!("listening on {}", started.listening);
            },
            signal,
        )
        .await
    })?;
    Ok(ExitCode::SUCCESS)
}
