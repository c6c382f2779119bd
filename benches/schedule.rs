//! Shift-plan benchmark on the bundled Double-11 week (15-minute intervals, every queue, 680
//! agents in eight groups): the gap reached in 10 s, and the time to reach a 1% gap (limit 60 s).
//!
//! A plain `--release` binary (`harness = false`), not criterion: one solve takes tens of
//! seconds, and criterion's minimum of ten samples would make the run ten minutes long for a
//! figure that is a solver's wall time anyway.
//!
//! Input: until the forecast stage writes a real forecast, the bench's own week of load is one
//! realisation of the scenario's history generator for 9–15 November 2026 (the scenario's volume
//! profiles, weekday factors, growth and this year's Double-11 event with its midnight spike),
//! sized by the real staffing stage (`staffing::requirements::requirements`: Erlang A with
//! patience, chat concurrency, deadline levelling for email, shrinkage).
//!
//! Two cases: that requirement as is (about 2.5 times what 680 agents can work, so the penalty
//! dominates), and the same scaled to a quarter (paid cost dominates). Each is solved with a 10 s
//! limit and no gap target (the gap reached at 10 s), and with the CLI's defaults (60 s, stop at
//! 1%).
//!
//! `cargo bench --bench schedule` runs them; `-- --write-requirements PATH` also writes that
//! requirements.csv, so `peakcrew schedule` can be run on the same input.

use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::Duration;
use peakcrew::history;
use peakcrew::scenario::Scenario;
use peakcrew::schedule::{plan_on, requirement_matrix, Instance, ScheduleOptions};
use peakcrew::staffing::requirements::{requirements, IntervalLoad};
use peakcrew::staffing::{write_requirements, Requirement};

fn double11_week(scenario: &Scenario) -> Vec<Requirement> {
    // The generator writes the weeks that end the day before the horizon; moving the horizon on
    // by its own length makes that the horizon week itself.
    let mut shifted = scenario.clone();
    shifted.horizon.start = scenario.horizon.start + Duration::days(scenario.horizon.days as i64);
    let weeks = scenario.horizon.days.div_ceil(7);
    let rows = history::generate(&shifted, weeks, scenario.history.seed);
    let loads: Vec<IntervalLoad> = rows
        .iter()
        .filter(|r| r.start.date_naive() >= scenario.horizon.start)
        .map(|r| IntervalLoad {
            queue: r.queue.clone(),
            start: r.start,
            interval_minutes: scenario.interval_minutes,
            contacts: r.contacts,
            aht_seconds: r.aht_seconds.unwrap_or(0.0),
        })
        .collect();
    requirements(scenario, &loads).expect("the bundled scenario sizes")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let write_to = args
        .iter()
        .position(|a| a == "--write-requirements")
        .and_then(|i| args.get(i + 1))
        .map(PathBuf::from);
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let scenario = Scenario::load(&root.join("scenarios/double11.toml")).expect("bundled scenario");
    let reqs = double11_week(&scenario);
    if let Some(path) = write_to {
        let file = std::fs::File::create(&path).expect("requirements file");
        write_requirements(&reqs, file).expect("write requirements");
        println!("wrote {}", path.display());
    }
    let inst = Instance::new(&scenario).expect("instance");
    let (required, _) = requirement_matrix(&inst, &reqs).expect("requirements on the grid");
    let headcount: u32 = scenario.groups.iter().map(|g| g.headcount).sum();
    let hours = scenario.interval_minutes as f64 / 60.0;
    // The staffing stage asks for about 2.5 times what 680 agents can work in a week, so every
    // agent works the maximum and the objective is mostly the understaffing penalty. The second
    // case scales the requirement to a quarter, which the centre can largely cover, so that paid
    // cost dominates and the gap measures the staffing decisions themselves.
    for (case, scale) in [("staffing stage as is", 1.0), ("requirement x 0.25", 0.25)] {
        let required: Vec<Vec<f64>> = required
            .iter()
            .map(|row| row.iter().map(|r| (r * scale).ceil()).collect())
            .collect();
        let agent_hours: f64 = required.iter().flatten().sum::<f64>() * hours;
        println!(
            "double11 week, {case}: {} queues x {} intervals, {} agents in {} groups, \
             {:.0} required agent-hours",
            inst.queues.len(),
            inst.intervals.len(),
            headcount,
            inst.groups.len(),
            agent_hours
        );
        run(&scenario, &inst, &required);
    }
}

fn run(scenario: &Scenario, inst: &Instance, required: &[Vec<f64>]) {
    for (limit, gap) in [(10.0, 0.0), (60.0, 0.01)] {
        let options = ScheduleOptions {
            time_limit_seconds: limit,
            gap,
            ..ScheduleOptions::default()
        };
        let t = Instant::now();
        let plan = match plan_on(scenario, inst, required, 0, &options) {
            Ok(plan) => plan,
            Err(e) => {
                println!(
                    "limit {limit:>3.0} s, gap target {:>4.1}%: no plan after {:.1} s: {e}",
                    gap * 100.0,
                    t.elapsed().as_secs_f64()
                );
                continue;
            }
        };
        let s = &plan.summary;
        println!(
            "limit {limit:>3.0} s, gap target {:>4.1}%: status {:<10} gap {:>6.3}%  objective {:.0}  bound {:.0}  lp {:.1} s  \
             solve {:.1} s (wall {:.1} s incl. build {:.1} s)  paid {:.0} h  short {:.1} agent-h  \
             vars {} int + {} cont, {} rows",
            gap * 100.0,
            s.status.as_str(),
            s.gap.unwrap_or(f64::NAN) * 100.0,
            s.objective,
            s.best_bound.unwrap_or(f64::NAN),
            s.lp_seconds,
            s.solve_seconds,
            t.elapsed().as_secs_f64(),
            s.build_seconds,
            s.paid_hours,
            s.understaffed_agent_hours,
            s.integer_variables,
            s.continuous_variables,
            s.constraints
        );
    }
}
