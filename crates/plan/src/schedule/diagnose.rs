//! Saying where a plan falls short and why.
//!
//! Two kinds of trouble. A *contract conflict* makes the model infeasible: every agent of a
//! permanent group must work its contract hours, and if no template the group may work can add
//! up to them, no plan exists — [`contract_conflicts`] names the group and the arithmetic before
//! the solver runs. A *shortfall* is understaffing in an otherwise feasible plan:
//! [`shortfalls`] groups each queue's understaffed intervals into runs and names the binding
//! reason, checked from the most to the least fundamental — nobody holds the skill in that
//! language; no allowed shift covers those hours; more agents are needed than hold the skill;
//! the same agents are the only ones for other queues at that moment; everyone who could serve
//! it already works the most days and hours allowed; one more shift would cost more than the
//! penalty it saves; otherwise the week's labour rules.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use super::instance::Instance;
use super::solver::{MipResult, SolveStatus};
use crate::scenario::Scenario;

/// A run of consecutive understaffed intervals of one queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shortfall {
    pub queue: String,
    pub from: DateTime<FixedOffset>,
    pub to: DateTime<FixedOffset>,
    pub intervals: usize,
    pub peak_required: f64,
    pub peak_short: f64,
    pub short_agent_hours: f64,
    /// `no-group`, `no-shift`, `headcount`, `shared`, `weekly-hours`, `cost` or `rules`.
    pub reason: String,
    /// One line for the planner, e.g. "ja-chat, 11 Nov 00:00–02:00: needs 14, at most 9 agents
    /// hold general in Japanese (bilingual-ja)".
    pub message: String,
}

/// Permanent groups whose contract no allowed template can satisfy.
pub fn contract_conflicts(inst: &Instance) -> Vec<String> {
    let mut reasons = Vec::new();
    for (g, group) in inst.groups.iter().enumerate() {
        if group.temporary || group.headcount == 0 {
            continue;
        }
        if group.templates.is_empty() {
            reasons.push(format!(
                "group `{}`: its {} agents may work no shift template",
                group.id, group.headcount
            ));
            continue;
        }
        let pools: Vec<_> = inst.pools().into_iter().filter(|p| p.group == g).collect();
        let feasible = pools.iter().any(|p| {
            (0..inst.weeks).all(|w| {
                let b = inst.day_bounds(&group.contract, p.template, w);
                let open_days = inst
                    .week_days(w)
                    .into_iter()
                    .filter(|&d| !p.slots_by_day[d].is_empty())
                    .count() as u32;
                b.min_days <= b.max_days && b.min_days <= open_days
            })
        });
        if feasible {
            continue;
        }
        let detail: Vec<String> = group
            .templates
            .iter()
            .map(|&t| {
                let tpl = &inst.templates[t];
                let b = inst.day_bounds(&group.contract, t, 0);
                let paid = tpl.paid_minutes as f64 / 60.0;
                format!(
                    "`{}` pays {paid:.1} h a shift and allows at most {} days a week ({:.1} h)",
                    tpl.id,
                    b.max_days,
                    b.max_days as f64 * paid
                )
            })
            .collect();
        reasons.push(format!(
            "group `{}`: each of its {} agents must work {}–{} h a week with {} day(s) off, but {}",
            group.id,
            group.headcount,
            group.contract.min_weekly_hours,
            group.contract.max_weekly_hours,
            inst.days_off_per_week,
            detail.join("; ")
        ));
    }
    reasons
}

fn short_span(from: DateTime<FixedOffset>, to: DateTime<FixedOffset>) -> String {
    let day = |t: DateTime<FixedOffset>| t.format("%-d %b").to_string();
    let hm = |t: DateTime<FixedOffset>| t.format("%H:%M").to_string();
    // An interval ending at midnight reads as 24:00 of its day, not 00:00 of the next.
    let end_day = to - chrono::Duration::minutes(1);
    let to_hm = if hm(to) == "00:00" {
        "24:00".to_string()
    } else {
        hm(to)
    };
    if day(from) == day(end_day) {
        format!("{} {}–{}", day(from), hm(from), to_hm)
    } else {
        format!("{} {}–{} {}", day(from), hm(from), day(end_day), to_hm)
    }
}

fn language_name(scenario: &Scenario, id: &str) -> String {
    scenario
        .languages
        .iter()
        .find(|l| l.id == id && !l.name.is_empty())
        .map_or_else(|| id.to_string(), |l| l.name.clone())
}

/// Runs of understaffing per queue with their binding reason. `at_max[g]`: every agent group g
/// can field works the most days its contract and the days-off rule allow.
pub fn shortfalls(
    scenario: &Scenario,
    inst: &Instance,
    required: &[Vec<f64>],
    under: &[Vec<f64>],
    at_max: &[bool],
    result: &MipResult,
) -> Vec<Shortfall> {
    let hours = inst.interval_minutes as f64 / 60.0;
    let n_i = inst.intervals.len();
    // reach[g][i]: some shift group g may work covers interval i.
    let mut reach = vec![vec![false; n_i]; inst.groups.len()];
    for (g, group) in inst.groups.iter().enumerate() {
        for slot in &inst.slots {
            if group.templates.contains(&slot.template) && group.available[slot.day] {
                for &(i, _) in &slot.cover {
                    reach[g][i] = true;
                }
            }
        }
    }
    let local = |m: i64| inst.instant(m).with_timezone(&inst.tz).fixed_offset();
    let mut out = Vec::new();
    for (q, queue) in inst.queues.iter().enumerate() {
        let mut i = 0;
        while i < n_i {
            if under[q][i] <= 0.0 {
                i += 1;
                continue;
            }
            let first = i;
            while i < n_i && under[q][i] > 0.0 {
                i += 1;
            }
            let run = first..i;
            let from = local(inst.interval_starts[first]);
            let to = local(inst.interval_starts[i - 1] + inst.interval_minutes);
            let peak_required = run.clone().map(|j| required[q][j]).fold(0.0, f64::max);
            let peak_short = run.clone().map(|j| under[q][j]).fold(0.0, f64::max);
            let short_agent_hours: f64 = run.clone().map(|j| under[q][j] * hours).sum();
            let (reason, why) = explain(
                scenario,
                inst,
                required,
                &reach,
                at_max,
                q,
                run.clone(),
                short_agent_hours,
                result,
            );
            let message = format!("{}, {}: {why}", queue.id, short_span(from, to));
            out.push(Shortfall {
                queue: queue.id.clone(),
                from,
                to,
                intervals: run.len(),
                peak_required,
                peak_short,
                short_agent_hours,
                reason: reason.to_string(),
                message,
            });
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
fn explain(
    scenario: &Scenario,
    inst: &Instance,
    required: &[Vec<f64>],
    reach: &[Vec<bool>],
    at_max: &[bool],
    q: usize,
    run: std::ops::Range<usize>,
    short_agent_hours: f64,
    result: &MipResult,
) -> (&'static str, String) {
    let queue = &inst.queues[q];
    let language = language_name(scenario, &queue.language);
    let serving = &queue.served_by;
    let names = |gs: &[usize]| {
        gs.iter()
            .map(|&g| inst.groups[g].id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let fmt_n = |x: f64| {
        if (x - x.round()).abs() < 1e-6 {
            format!("{}", x.round())
        } else {
            format!("{x:.1}")
        }
    };
    if serving.is_empty() {
        return (
            "no-group",
            format!(
                "needs {}, but no group holds skill `{}` in {language}",
                fmt_n(run.clone().map(|i| required[q][i]).fold(0.0, f64::max)),
                queue.skill
            ),
        );
    }
    let reachable =
        |i: usize| -> Vec<usize> { serving.iter().copied().filter(|&g| reach[g][i]).collect() };
    if run.clone().all(|i| reachable(i).is_empty()) {
        return (
            "no-shift",
            format!(
                "needs {}, but no shift that {} may work covers these hours",
                fmt_n(run.clone().map(|i| required[q][i]).fold(0.0, f64::max)),
                names(serving)
            ),
        );
    }
    // Headcount: more agents needed than hold the skill in this language at all.
    let headcount = |gs: &[usize]| {
        gs.iter()
            .map(|&g| inst.groups[g].headcount as f64)
            .sum::<f64>()
    };
    if let Some(i) = run
        .clone()
        .filter(|&i| required[q][i] > headcount(&reachable(i)) + 1e-9)
        .max_by(|&a, &b| {
            (required[q][a] - headcount(&reachable(a)))
                .total_cmp(&(required[q][b] - headcount(&reachable(b))))
        })
    {
        let gs = reachable(i);
        return (
            "headcount",
            format!(
                "needs {}, at most {} agents hold {} in {language} ({})",
                fmt_n(required[q][i]),
                fmt_n(headcount(&gs)),
                queue.skill,
                names(&gs)
            ),
        );
    }
    // Shared: queues that only these groups can serve need more than they have, together.
    for i in run.clone() {
        let gs = reachable(i);
        let dependent: Vec<usize> = (0..inst.queues.len())
            .filter(|&q2| {
                let by: Vec<usize> = inst.queues[q2]
                    .served_by
                    .iter()
                    .copied()
                    .filter(|&g| reach[g][i])
                    .collect();
                !by.is_empty() && by.iter().all(|g| gs.contains(g))
            })
            .collect();
        let total: f64 = dependent.iter().map(|&q2| required[q2][i]).sum();
        if total > headcount(&gs) + 1e-9 {
            let others: Vec<String> = dependent
                .iter()
                .filter(|&&q2| q2 != q && required[q2][i] > 0.0)
                .map(|&q2| format!("{} {}", inst.queues[q2].id, fmt_n(required[q2][i])))
                .collect();
            return (
                "shared",
                format!(
                    "needs {}; its {} agents ({}) are also the only ones for {} at the same time \
                     ({} needed in all)",
                    fmt_n(required[q][i]),
                    fmt_n(headcount(&gs)),
                    names(&gs),
                    others.join(", "),
                    fmt_n(total)
                ),
            );
        }
    }
    // Cost: the cheapest extra shift covering the run costs more than the penalty it saves.
    let penalty = scenario.costs.understaffing_per_agent_hour * short_agent_hours;
    let cheapest = serving
        .iter()
        .flat_map(|&g| {
            let group = &inst.groups[g];
            inst.slots
                .iter()
                .filter(move |s| group.templates.contains(&s.template) && group.available[s.day])
                .filter(|s| s.cover.iter().any(|&(i, _)| run.contains(&i)))
                .map(move |s| {
                    group.cost_per_hour * inst.templates[s.template].paid_minutes as f64 / 60.0
                })
        })
        .fold(f64::INFINITY, f64::min);
    let stopped = match result.status {
        SolveStatus::TimeLimit => format!(
            " (the solver stopped at its time limit with a gap of {:.2}%)",
            result.gap().unwrap_or(f64::NAN) * 100.0
        ),
        _ => String::new(),
    };
    // Capacity: everyone who can serve the queue already works all the days they may.
    let gs = reachable(run.start);
    if !gs.is_empty() && gs.iter().all(|&g| at_max[g]) {
        let hours: Vec<String> = gs
            .iter()
            .map(|&g| {
                let c = &inst.groups[g].contract;
                format!("{} {} h", inst.groups[g].id, c.max_weekly_hours)
            })
            .collect();
        return (
            "weekly-hours",
            format!(
                "needs up to {}; all {} agents who can serve it already work as many days as their \
                 contracts and days off allow ({}; {} day(s) off), so more cover here means less \
                 elsewhere{stopped}",
                fmt_n(run.clone().map(|i| required[q][i]).fold(0.0, f64::max)),
                fmt_n(headcount(&gs)),
                hours.join(", "),
                inst.days_off_per_week
            ),
        );
    }
    if cheapest.is_finite() && penalty < cheapest {
        return (
            "cost",
            format!(
                "short {:.2} agent-hours; one more shift would cost {cheapest:.0}, more than the \
                 {penalty:.0} understaffing penalty it saves{stopped}",
                short_agent_hours
            ),
        );
    }
    (
        "rules",
        format!(
            "needs up to {}; the {} agents who can serve it ({}) cannot all be on duty then under \
             the week's rules ({} day(s) off a week, contract hours, start windows, breaks){stopped}",
            fmt_n(run.clone().map(|i| required[q][i]).fold(0.0, f64::max)),
            fmt_n(headcount(&gs)),
            names(&gs)
            ,
            inst.days_off_per_week
        ),
    )
}
