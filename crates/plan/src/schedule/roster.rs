//! The roster: named agents on the planned shifts.
//!
//! Groups are independent (an agent fills only its own group's shifts), so each group is one
//! small MIP. Agent a either joins one pool p = (template, start block) of the group for the week
//! (pick_ap ∈ {0,1}, Σ_p pick_ap ≤ 1) or is not rostered, and works day d in it
//! (w_apd ∈ {0,1}, w_apd ≤ pick_ap, only on days the agent is available):
//!
//! * Σ_a w_apd + short_pd = n_pd — every planned shift is filled, or reported unfilled;
//! * Σ_{p,d∈week} paid_p·w_apd ≤ max hours, and + below_aw ≥ min hours (prorated in a short
//!   week; a shortfall is reported, not hidden);
//! * Σ_{p,d∈week} w_apd ≤ 7 − days off; Σ over any m + 1 consecutive days ≤ m;
//! * rest: an agent stays in one start block, within which any two shifts on consecutive days
//!   leave the minimum rest (see [`super::instance`]), and a template too long to repeat is
//!   never worked two days running.
//!
//! Objective (minimised): 1000 per unfilled shift and 100 per hour below contract, then
//! preferences and fairness — a preferred template earns 8 (first choice), 5 (second) or 3, a
//! template outside a stated preference costs 3, working a preferred day off costs 4, a second
//! weekend day in a week costs 6, and the most weekend days and the most night shifts any one
//! agent works cost 1 and 2 each (so they are spread). The module doc of [`crate::schedule`]
//! shows why, with the agents the plan assumed, no shift is left unfilled.
//!
//! Within a pool and day, agents take the planned starts in the order of their start the day
//! before (so start times stay steady), and each planned row's breaks. Each agent's primary
//! skill on a shift follows the plan's allocation of the group over the shift's intervals,
//! apportioned to the agents most proficient in each skill.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Timelike};
use good_lp::{variable, Constraint, Expression, ProblemVariables, Variable};
use serde::Serialize;

use super::instance::Instance;
use super::solver::{self, SolveLimits, SolveStatus};
use super::{AllocationRow, PlacedBreak, PlannedShift, ScheduleError};
use crate::scenario::Scenario;
use peakcrew_core::model::AgentProfile;

/// Limits for the roster solves (shared by all groups in proportion to their size).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RosterOptions {
    pub time_limit_seconds: f64,
    pub gap: f64,
}

impl Default for RosterOptions {
    fn default() -> Self {
        RosterOptions {
            time_limit_seconds: 60.0,
            gap: 0.005,
        }
    }
}

/// One agent on one shift.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assignment {
    pub agent: String,
    pub name: String,
    pub group: String,
    pub template: String,
    /// Plan day the shift starts on.
    pub date: NaiveDate,
    pub start: DateTime<FixedOffset>,
    pub end: DateTime<FixedOffset>,
    pub breaks: Vec<PlacedBreak>,
    pub primary_skill: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unfilled {
    pub group: String,
    pub template: String,
    pub start: DateTime<FixedOffset>,
    pub missing: u32,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContractShortfall {
    pub agent: String,
    pub week: usize,
    pub hours: f64,
    pub min_weekly_hours: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupSolve {
    pub group: String,
    pub agents: usize,
    pub shifts: u32,
    pub status: SolveStatus,
    pub gap: Option<f64>,
    pub seconds: f64,
}

/// Figures of a roster, written as roster-summary.json.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RosterSummary {
    pub agents: usize,
    pub rostered_agents: usize,
    pub planned_shifts: u32,
    pub filled_shifts: u32,
    pub unfilled: Vec<Unfilled>,
    pub contract_shortfalls: Vec<ContractShortfall>,
    /// Of the agents who state template preferences and are rostered, the share working one.
    pub preferred_template_share: f64,
    /// Of (agent, preferred weekday off) pairs in the horizon, the share kept off.
    pub preferred_days_off_kept: f64,
    pub max_weekend_days: u32,
    pub mean_weekend_days: f64,
    pub max_night_shifts: u32,
    pub agents_with_night_shifts: usize,
    pub groups: Vec<GroupSolve>,
}

/// A roster: assignments sorted by agent and start, and its summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Roster {
    pub assignments: Vec<Assignment>,
    pub summary: RosterSummary,
}

/// A planned shift placed on the instance: its pool and slot.
struct Row<'a> {
    shift: &'a PlannedShift,
    template: usize,
    day: usize,
    block: usize,
    start: i64,
}

const SHORT: f64 = 1000.0;
const BELOW_PER_HOUR: f64 = 100.0;

/// Assigns `agents` to the `shifts` of a plan (schedule.csv rows with their line numbers).
pub fn build_roster(
    scenario: &Scenario,
    shifts: &[(usize, PlannedShift)],
    allocation: &[AllocationRow],
    agents: &[AgentProfile],
    options: &RosterOptions,
) -> Result<Roster, ScheduleError> {
    let inst = Instance::new(scenario)?;
    let rows = place_rows(&inst, shifts)?;
    let total_agents = agents.len().max(1) as f64;
    let mut assignments = Vec::new();
    let mut unfilled = Vec::new();
    let mut shortfalls = Vec::new();
    let mut groups = Vec::new();
    for (g, group) in inst.groups.iter().enumerate() {
        let members: Vec<&AgentProfile> = agents.iter().filter(|a| a.group == group.id).collect();
        let mine: Vec<&Row> = rows.iter().filter(|r| r.shift.group == group.id).collect();
        if members.is_empty() && mine.is_empty() {
            continue;
        }
        let budget = options.time_limit_seconds * (members.len().max(1) as f64 / total_agents);
        let solved = roster_group(&inst, g, &members, &mine, budget.max(2.0), options.gap)?;
        for a in solved.assigned {
            let row = mine[a.row];
            assignments.push((a.agent, row));
        }
        unfilled.extend(solved.unfilled);
        shortfalls.extend(solved.shortfalls);
        groups.push(solved.solve);
    }
    let primary = primary_skills(&inst, &assignments, allocation);
    let mut out: Vec<Assignment> = assignments
        .iter()
        .zip(primary)
        .map(|((agent, row), skill)| Assignment {
            agent: agent.id.clone(),
            name: agent.name.clone(),
            group: agent.group.clone(),
            template: row.shift.template.clone(),
            date: row.shift.day,
            start: row.shift.start,
            end: row.shift.end,
            breaks: row.shift.breaks.clone(),
            primary_skill: skill,
        })
        .collect();
    out.sort_by(|a, b| (&a.agent, a.start).cmp(&(&b.agent, b.start)));
    let summary = summarise(&inst, agents, &rows, &out, unfilled, shortfalls, groups);
    Ok(Roster {
        assignments: out,
        summary,
    })
}

fn place_rows<'a>(
    inst: &Instance,
    shifts: &'a [(usize, PlannedShift)],
) -> Result<Vec<Row<'a>>, ScheduleError> {
    let mut rows = Vec::new();
    for (line, sh) in shifts {
        let err = |message: String| ScheduleError::File {
            file: "schedule.csv".into(),
            line: *line,
            message,
        };
        let g = inst
            .group_index(&sh.group)
            .ok_or_else(|| err(format!("unknown group `{}`", sh.group)))?;
        let t = inst
            .template_index(&sh.template)
            .ok_or_else(|| err(format!("unknown shift template `{}`", sh.template)))?;
        if !inst.groups[g].templates.contains(&t) {
            return Err(err(format!(
                "group `{}` may not work template `{}`",
                sh.group, sh.template
            )));
        }
        let day = inst.day_of(sh.day).ok_or_else(|| {
            err(format!(
                "day {} is outside the scenario's plan days",
                sh.day
            ))
        })?;
        let local = sh.start.with_timezone(&inst.tz).naive_local();
        let minute = (local - sh.day.and_time(NaiveTime::MIN)).num_minutes();
        let slot = inst
            .slot_index
            .get(&(t, day, minute))
            .copied()
            .ok_or_else(|| {
                err(format!(
                    "{} is not an allowed start of template `{}` on {}",
                    sh.start.to_rfc3339(),
                    sh.template,
                    sh.day
                ))
            })?;
        rows.push(Row {
            shift: sh,
            template: t,
            day,
            block: inst.slots[slot].block,
            start: inst.slots[slot].start,
        });
    }
    Ok(rows)
}

struct Assigned<'a> {
    agent: &'a AgentProfile,
    row: usize,
}

struct GroupRoster<'a> {
    assigned: Vec<Assigned<'a>>,
    unfilled: Vec<Unfilled>,
    shortfalls: Vec<ContractShortfall>,
    solve: GroupSolve,
}

/// Whether a template's shifts include night hours (00:00–06:00 local).
fn is_night(inst: &Instance, template: usize) -> bool {
    let t = &inst.templates[template];
    t.starts
        .iter()
        .any(|&s| s % (24 * 60) < 6 * 60 || s + t.length > 24 * 60)
}

fn roster_group<'a>(
    inst: &Instance,
    g: usize,
    members: &[&'a AgentProfile],
    rows: &[&Row],
    time_limit_seconds: f64,
    gap: f64,
) -> Result<GroupRoster<'a>, ScheduleError> {
    let group = &inst.groups[g];
    // Pools with planned shifts, and the shifts they hold per day.
    let mut demand: BTreeMap<(usize, usize), BTreeMap<usize, u32>> = BTreeMap::new();
    for r in rows {
        *demand
            .entry((r.template, r.block))
            .or_default()
            .entry(r.day)
            .or_insert(0) += r.shift.count;
    }
    let pools: Vec<(usize, usize)> = demand.keys().copied().collect();
    let n_days = inst.days.len();
    let mut vars = ProblemVariables::new();
    let mut constraints: Vec<Constraint> = Vec::new();
    let mut objective = Expression::default();
    // pick[a][p], work[a][p][d]
    let mut pick: Vec<Vec<Option<Variable>>> = Vec::new();
    let mut work: Vec<Vec<Vec<Option<Variable>>>> = Vec::new();
    for agent in members {
        let mut picks = Vec::new();
        let mut works = Vec::new();
        let available: Vec<bool> = inst
            .days
            .iter()
            .map(|d| !agent.unavailable.contains(&d.date))
            .collect();
        for &(t, b) in &pools {
            let fits = (0..inst.weeks).all(|w| {
                let b = inst.day_bounds(&agent.contract, t, w);
                b.min_days <= b.max_days
            });
            if !fits {
                picks.push(None);
                works.push(vec![None; n_days]);
                continue;
            }
            let p = vars.add(variable().binary());
            let rank = agent
                .preferred_shifts
                .iter()
                .position(|id| id == &inst.templates[t].id);
            let preference = match (rank, agent.preferred_shifts.is_empty()) {
                (Some(0), _) => -8.0,
                (Some(1), _) => -5.0,
                (Some(_), _) => -3.0,
                (None, false) => 3.0,
                (None, true) => 0.0,
            };
            objective.add_mul(preference, p);
            picks.push(Some(p));
            let pool_days = &demand[&(t, b)];
            let row: Vec<Option<Variable>> = (0..n_days)
                .map(|d| {
                    (available[d] && pool_days.contains_key(&d)).then(|| {
                        let w = vars.add(variable().binary());
                        constraints.push(Expression::from(w).leq(p));
                        if agent.preferred_days_off.contains(&inst.weekday(d)) {
                            objective.add_mul(4.0, w);
                        }
                        w
                    })
                })
                .collect();
            works.push(row);
        }
        let one: Expression = picks.iter().flatten().copied().sum();
        constraints.push(one.leq(1.0));
        pick.push(picks);
        work.push(works);
    }
    // Every planned shift filled, or counted short.
    let mut shorts: Vec<((usize, usize), usize, Variable)> = Vec::new();
    for (pi, &pool) in pools.iter().enumerate() {
        for (&d, &n) in &demand[&pool] {
            let s = vars.add(variable().min(0).max(n as f64));
            objective.add_mul(SHORT, s);
            let filled: Expression = work.iter().filter_map(|w| w[pi][d]).sum();
            constraints.push((filled + s).eq(n as f64));
            shorts.push((pool, d, s));
        }
    }
    // Per agent: hours, days off, consecutive days, templates that cannot repeat.
    let m = inst.max_consecutive_days as usize;
    let mut below_vars = Vec::new();
    let mut most_weekend = None;
    let mut most_nights = None;
    if !members.is_empty() {
        most_weekend = Some(vars.add(variable().min(0)));
        most_nights = Some(vars.add(variable().min(0)));
    }
    for (a, agent) in members.iter().enumerate() {
        let on = |d: usize| -> Expression { work[a].iter().filter_map(|w| w[d]).sum() };
        let hours_on = |d: usize| -> Expression {
            let mut e = Expression::default();
            for (pi, &(t, _)) in pools.iter().enumerate() {
                if let Some(w) = work[a][pi][d] {
                    e.add_mul(inst.templates[t].paid_minutes as f64 / 60.0, w);
                }
            }
            e
        };
        for week in 0..inst.weeks {
            let days = inst.week_days(week);
            let hours: Expression = days.iter().map(|&d| hours_on(d)).sum();
            let horizon_days = days.iter().filter(|&&d| !inst.days[d].lead_in).count() as f64;
            let min_hours = agent.contract.min_weekly_hours * (horizon_days / 7.0).min(1.0);
            let below = vars.add(variable().min(0).max(min_hours));
            objective.add_mul(BELOW_PER_HOUR, below);
            below_vars.push((a, week, below, min_hours));
            constraints.push((hours.clone() + below).geq(min_hours));
            constraints.push(hours.leq(agent.contract.max_weekly_hours));
            let cap = 7u32
                .saturating_sub(inst.days_off_per_week)
                .min(days.len() as u32);
            let count: Expression = days.iter().map(|&d| on(d)).sum();
            constraints.push(count.leq(cap as f64));
            // A second weekend day in the same week costs more than the first.
            let weekend: Expression = days
                .iter()
                .filter(|&&d| !inst.days[d].lead_in && inst.weekday(d) >= 5)
                .map(|&d| on(d))
                .sum();
            let second = vars.add(variable().min(0));
            objective.add_mul(6.0, second);
            constraints.push(weekend.clone().leq(Expression::from(second) + 1.0));
            if let Some(mw) = most_weekend {
                constraints.push(weekend.leq(mw));
            }
        }
        for first in 0..n_days.saturating_sub(m) {
            let window: Expression = (first..=first + m).map(on).sum();
            constraints.push(window.leq(m as f64));
        }
        for (pi, &(t, _)) in pools.iter().enumerate() {
            if inst.templates[t].no_consecutive_days {
                for d in 0..n_days.saturating_sub(1) {
                    if let (Some(x), Some(y)) = (work[a][pi][d], work[a][pi][d + 1]) {
                        constraints.push((Expression::from(x) + y).leq(1.0));
                    }
                }
            }
        }
        if let Some(mn) = most_nights {
            let nights: Expression = pools
                .iter()
                .enumerate()
                .filter(|(_, &(t, _))| is_night(inst, t))
                .flat_map(|(pi, _)| work[a][pi].iter().flatten().copied())
                .sum();
            constraints.push(nights.leq(mn));
        }
    }
    if let Some(mw) = most_weekend {
        objective.add_mul(1.0, mw);
    }
    if let Some(mn) = most_nights {
        objective.add_mul(2.0, mn);
    }

    let mut wanted: Vec<Variable> = Vec::new();
    for w in &work {
        for row in w {
            wanted.extend(row.iter().flatten());
        }
    }
    wanted.extend(shorts.iter().map(|s| s.2));
    wanted.extend(below_vars.iter().map(|b| b.2));
    let limits = SolveLimits {
        time_limit_seconds,
        gap,
        threads: 1,
    };
    let result = solver::minimise(vars, objective, constraints, &wanted, &limits, None).map_err(
        |f| match f {
            solver::SolveFailure::NoSolution => ScheduleError::NoSolution {
                seconds: time_limit_seconds,
            },
            solver::SolveFailure::Infeasible => ScheduleError::Internal(format!(
                "the roster model of group `{}` is infeasible despite its slack",
                group.id
            )),
            solver::SolveFailure::Other(m) => ScheduleError::Solver(m),
        },
    )?;
    let mut values = result.values.iter().copied();
    // working[pool][day] = agents, in member order.
    let mut working: BTreeMap<((usize, usize), usize), Vec<usize>> = BTreeMap::new();
    for (a, w) in work.iter().enumerate() {
        for (pi, row) in w.iter().enumerate() {
            for (d, v) in row.iter().enumerate() {
                if v.is_some() && values.next().unwrap_or(0.0) > 0.5 {
                    working.entry((pools[pi], d)).or_default().push(a);
                }
            }
        }
    }
    let short_values: Vec<f64> = shorts
        .iter()
        .map(|_| values.next().unwrap_or(0.0))
        .collect();
    let below_values: Vec<f64> = below_vars
        .iter()
        .map(|_| values.next().unwrap_or(0.0))
        .collect();

    // Hand out the planned rows: per pool and day, agents in the order of yesterday's start.
    let mut assigned = Vec::new();
    let mut unfilled = Vec::new();
    let mut last_start: HashMap<usize, i64> = HashMap::new();
    for d in 0..n_days {
        for &pool in &pools {
            let mut slots: Vec<usize> = rows
                .iter()
                .enumerate()
                .filter(|(_, r)| (r.template, r.block) == pool && r.day == d)
                .flat_map(|(i, r)| std::iter::repeat_n(i, r.shift.count as usize))
                .collect();
            slots.sort_by_key(|&i| (rows[i].start, i));
            let mut people = working.get(&(pool, d)).cloned().unwrap_or_default();
            people.sort_by_key(|&a| {
                (
                    last_start.get(&a).copied().unwrap_or(i64::MIN),
                    members[a].id.clone(),
                )
            });
            for (k, &row) in slots.iter().enumerate() {
                match people.get(k) {
                    Some(&a) => {
                        assigned.push(Assigned {
                            agent: members[a],
                            row,
                        });
                        last_start.insert(a, rows[row].start - d as i64 * 24 * 60);
                    }
                    None => {
                        let date = inst.days[d].date;
                        let away = members
                            .iter()
                            .filter(|a| a.unavailable.contains(&date))
                            .count();
                        let reason = if members.len() < group.headcount as usize {
                            format!(
                                "the agents file has {} agents for group `{}`, the plan assumed {}",
                                members.len(),
                                group.id,
                                group.headcount
                            )
                        } else if away > 0 {
                            format!(
                                "{away} of the group's agents are unavailable on {date}; the plan \
                                 counts on its whole headcount"
                            )
                        } else {
                            "the agents' own contracts, leave and rules leave nobody free for it"
                                .to_string()
                        };
                        unfilled.push(Unfilled {
                            group: group.id.clone(),
                            template: rows[row].shift.template.clone(),
                            start: rows[row].shift.start,
                            missing: 1,
                            reason,
                        })
                    }
                }
            }
        }
    }
    // Merge unfilled seats of the same shift.
    let mut merged: Vec<Unfilled> = Vec::new();
    for u in unfilled {
        match merged.last_mut() {
            Some(m) if m.template == u.template && m.start == u.start => m.missing += 1,
            _ => merged.push(u),
        }
    }
    debug_assert!(
        (short_values.iter().sum::<f64>() - merged.iter().map(|u| u.missing as f64).sum::<f64>())
            .abs()
            < 0.5
    );
    let shortfalls = below_vars
        .iter()
        .zip(below_values)
        .filter(|(_, v)| *v > 1e-6)
        .map(|(&(a, week, _, min), v)| ContractShortfall {
            agent: members[a].id.clone(),
            week,
            hours: min - v,
            min_weekly_hours: min,
        })
        .collect();
    Ok(GroupRoster {
        assigned,
        unfilled: merged,
        shortfalls,
        solve: GroupSolve {
            group: group.id.clone(),
            agents: members.len(),
            shifts: rows.iter().map(|r| r.shift.count).sum(),
            status: result.status,
            gap: result.gap(),
            seconds: result.seconds,
        },
    })
}

/// Each assignment's primary skill: the group's allocation over the shift's working intervals,
/// apportioned over the agents on the same planned row, most proficient first.
fn primary_skills(
    inst: &Instance,
    assignments: &[(&AgentProfile, &Row)],
    allocation: &[AllocationRow],
) -> Vec<String> {
    // alloc[(group, interval)] = skill → agents
    let mut alloc: HashMap<(String, usize), BTreeMap<String, f64>> = HashMap::new();
    for row in allocation {
        let minute = (row.start.with_timezone(&chrono::Utc) - inst.t0).num_minutes();
        let (Ok(i), Some(q)) = (
            inst.interval_starts.binary_search(&minute),
            inst.queue_index(&row.queue),
        ) else {
            continue;
        };
        *alloc
            .entry((row.group.clone(), i))
            .or_default()
            .entry(inst.queues[q].skill.clone())
            .or_insert(0.0) += row.agents;
    }
    let mut out = vec![String::new(); assignments.len()];
    // Agents sharing one planned row, in assignment order.
    let mut by_row: BTreeMap<(String, i64, String), Vec<usize>> = BTreeMap::new();
    for (k, (agent, row)) in assignments.iter().enumerate() {
        by_row
            .entry((
                agent.group.clone(),
                row.start,
                super::files::fmt_breaks(&row.shift.breaks),
            ))
            .or_default()
            .push(k);
    }
    for ((group, _, _), members) in by_row {
        let row = assignments[members[0]].1;
        let slot_cover = inst.cover(row.start, row.start + inst.templates[row.template].length);
        let mut share: BTreeMap<String, f64> = BTreeMap::new();
        for (i, f) in slot_cover {
            if let Some(skills) = alloc.get(&(group.clone(), i)) {
                for (s, a) in skills {
                    *share.entry(s.clone()).or_insert(0.0) += a * f;
                }
            }
        }
        let total: f64 = share.values().sum();
        let mut seats: Vec<(String, u32)> = if total > 0.0 {
            let want: Vec<(String, f64)> = share
                .iter()
                .map(|(s, v)| (s.clone(), v / total * members.len() as f64))
                .collect();
            let mut counts: Vec<(String, u32, f64)> = want
                .iter()
                .map(|(s, v)| (s.clone(), v.floor() as u32, v - v.floor()))
                .collect();
            let mut left = members.len() as u32 - counts.iter().map(|c| c.1).sum::<u32>();
            let mut order: Vec<usize> = (0..counts.len()).collect();
            order.sort_by(|&a, &b| counts[b].2.total_cmp(&counts[a].2).then(a.cmp(&b)));
            for &i in order.iter().cycle().take(order.len() * (left as usize + 1)) {
                if left == 0 {
                    break;
                }
                counts[i].1 += 1;
                left -= 1;
            }
            counts.into_iter().map(|(s, n, _)| (s, n)).collect()
        } else {
            Vec::new()
        };
        seats.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut free: Vec<usize> = members.clone();
        for (skill, n) in seats {
            for _ in 0..n {
                let level = |k: usize| {
                    assignments[k]
                        .0
                        .skills
                        .iter()
                        .find(|s| s.skill.as_str() == skill)
                        .map_or(0, |s| s.proficiency.get())
                };
                let Some(pos) = (0..free.len()).max_by(|&x, &y| {
                    level(free[x])
                        .cmp(&level(free[y]))
                        .then(assignments[free[y]].0.id.cmp(&assignments[free[x]].0.id))
                }) else {
                    break;
                };
                out[free.remove(pos)] = skill.clone();
            }
        }
        for k in free {
            // No allocation known for these hours: the agent's strongest skill.
            out[k] = assignments[k]
                .0
                .skills
                .iter()
                .max_by(|a, b| {
                    a.proficiency
                        .cmp(&b.proficiency)
                        .then(b.skill.cmp(&a.skill))
                })
                .map_or_else(String::new, |s| s.skill.to_string());
        }
    }
    out
}

fn summarise(
    inst: &Instance,
    agents: &[AgentProfile],
    rows: &[Row],
    out: &[Assignment],
    unfilled: Vec<Unfilled>,
    contract_shortfalls: Vec<ContractShortfall>,
    groups: Vec<GroupSolve>,
) -> RosterSummary {
    let mut by_agent: BTreeMap<&str, Vec<&Assignment>> = BTreeMap::new();
    for a in out {
        by_agent.entry(a.agent.as_str()).or_default().push(a);
    }
    let mut with_prefs = 0;
    let mut in_pref = 0;
    let mut pref_days = 0;
    let mut kept = 0;
    let mut weekend_days = Vec::new();
    let mut nights = Vec::new();
    let horizon: Vec<NaiveDate> = inst
        .days
        .iter()
        .filter(|d| !d.lead_in)
        .map(|d| d.date)
        .collect();
    for agent in agents {
        let shifts = by_agent.get(agent.id.as_str()).cloned().unwrap_or_default();
        if shifts.is_empty() {
            continue;
        }
        if !agent.preferred_shifts.is_empty() {
            with_prefs += 1;
            if shifts
                .iter()
                .all(|s| agent.preferred_shifts.contains(&s.template))
            {
                in_pref += 1;
            }
        }
        for date in &horizon {
            if agent
                .preferred_days_off
                .contains(&(chrono::Datelike::weekday(date).num_days_from_monday() as u8))
            {
                pref_days += 1;
                if !shifts.iter().any(|s| &s.date == date) {
                    kept += 1;
                }
            }
        }
        weekend_days.push(
            shifts
                .iter()
                .filter(|s| chrono::Datelike::weekday(&s.date).num_days_from_monday() >= 5)
                .count() as u32,
        );
        nights.push(
            shifts
                .iter()
                .filter(|s| {
                    let start = s.start.with_timezone(&inst.tz);
                    let end = s.end.with_timezone(&inst.tz);
                    start.hour() < 6 || end.date_naive() > start.date_naive()
                })
                .count() as u32,
        );
    }
    RosterSummary {
        agents: agents.len(),
        rostered_agents: by_agent.len(),
        planned_shifts: rows.iter().map(|r| r.shift.count).sum(),
        filled_shifts: out.len() as u32,
        unfilled,
        contract_shortfalls,
        preferred_template_share: if with_prefs > 0 {
            in_pref as f64 / with_prefs as f64
        } else {
            1.0
        },
        preferred_days_off_kept: if pref_days > 0 {
            kept as f64 / pref_days as f64
        } else {
            1.0
        },
        max_weekend_days: weekend_days.iter().copied().max().unwrap_or(0),
        mean_weekend_days: if weekend_days.is_empty() {
            0.0
        } else {
            weekend_days.iter().sum::<u32>() as f64 / weekend_days.len() as f64
        },
        max_night_shifts: nights.iter().copied().max().unwrap_or(0),
        agents_with_night_shifts: nights.iter().filter(|&&n| n > 0).count(),
        groups,
    }
}
