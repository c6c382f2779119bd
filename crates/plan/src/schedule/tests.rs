//! Tiny instances with optima checked by hand, and one test per rule of the model that fails if
//! the rule is dropped: each instance is built so that the rule binds, and the asserted figure
//! is the one only the constrained plan reaches (the unconstrained figure is in the comment).

use std::path::Path;

use super::*;
use peakcrew_core::model::AgentProfile;
use roster::Assignment;

const SKILLS: &str = r#"
[[skills]]
id = "a"
[[skills]]
id = "b"
[[languages]]
id = "zh"
name = "Chinese"
[[languages]]
id = "ja"
name = "Japanese"
"#;

/// A chat queue `q-<skill>` (language zh) or `q-ja` (skill a, language ja).
fn queue(id: &str) -> String {
    let (skill, language) = match id {
        "q-ja" => ("a", "ja"),
        other => (other.trim_start_matches("q-"), "zh"),
    };
    format!(
        "[[queues]]\nid = \"{id}\"\nchannel = \"chat\"\nskill = \"{skill}\"\nlanguage = \"{language}\"\n\
         sla = {{ kind = \"service-level\", fraction = 0.8, answer_seconds = 60 }}\n\
         patience_seconds = 300\naht_seconds = 300\n\
         volume = {{ daily_contacts = 100, profile = \"spread\" }}\n"
    )
}

/// A scenario on 60-minute intervals from Monday 2026-11-09 with `queues` (see [`queue`]).
pub(crate) fn scenario(
    days: u32,
    over_cost: f64,
    rules: &str,
    queues: &[&str],
    body: &str,
) -> Scenario {
    let queues: String = queues.iter().map(|q| queue(q)).collect();
    let text = format!(
        r#"
name = "tiny"
time_zone = "Asia/Shanghai"
interval_minutes = 60
[horizon]
start = 2026-11-09
days = {days}
[calendar]
start = 2026-01-01
end = 2026-12-31
[staffing]
shrinkage = 0.1
max_occupancy = 0.9
[costs]
understaffing_per_agent_hour = 1000.0
overstaffing_per_agent_hour = {over_cost}
[history]
file = "h.csv"
weeks = 1
seed = 1
{SKILLS}
{queues}
[shifts]
{rules}
{body}
"#
    );
    match Scenario::from_toml(&text, Path::new("tiny.toml")) {
        Ok(s) => s,
        Err(e) => panic!("tiny scenario: {e}"),
    }
}

/// Rules with nothing binding here: no days off, long streaks, no rest, 0–80 h.
pub(crate) const FREE: &str = "days_off_per_week = 0\nmax_consecutive_days = 14\nmin_rest_hours = 0\ncontract = { min_weekly_hours = 0, max_weekly_hours = 80 }";

pub(crate) fn group(id: &str, skills: &str, languages: &str, headcount: u32, cost: f64) -> String {
    format!(
        "[[groups]]\nid = \"{id}\"\nskills = [{skills}]\nlanguages = [{languages}]\nheadcount = {headcount}\ncost_per_hour = {cost}\n"
    )
}

pub(crate) const SKILL_A: &str = "{ skill = \"a\", proficiency = 3 }";
pub(crate) const SKILL_B: &str = "{ skill = \"b\", proficiency = 3 }";

/// Requirement matrix from (queue, day, first hour, last hour exclusive, agents).
pub(crate) fn need(inst: &Instance, spans: &[(&str, u32, u32, u32, f64)]) -> Vec<Vec<f64>> {
    let mut r = vec![vec![0.0; inst.intervals.len()]; inst.queues.len()];
    for &(queue, day, from, to, agents) in spans {
        let q = inst.queue_index(queue).expect("queue");
        for h in from..to {
            let i = (day * 24 + h) as usize;
            r[q][i] = agents;
        }
    }
    r
}

pub(crate) fn solve(s: &Scenario, spans: &[(&str, u32, u32, u32, f64)]) -> ShiftPlan {
    solve_within(s, spans, 0.0)
}

/// Solves to a relative gap of `gap` (0: proven optimal).
pub(crate) fn solve_within(
    s: &Scenario,
    spans: &[(&str, u32, u32, u32, f64)],
    gap: f64,
) -> ShiftPlan {
    let inst = Instance::new(s).expect("instance");
    let required = need(&inst, spans);
    let options = ScheduleOptions {
        time_limit_seconds: 30.0,
        gap,
        threads: 1,
    };
    plan_on(s, &inst, &required, 0, &options).expect("plan")
}

fn template(id: &str, first: &str, last: &str, step: u32, minutes: u32, breaks: &str) -> String {
    format!(
        "[[shifts.templates]]\nid = \"{id}\"\nearliest_start = \"{first}\"\nlatest_start = \"{last}\"\nstart_step_minutes = {step}\nlength_minutes = {minutes}\nbreaks = [{breaks}]\n"
    )
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6
}

#[test]
fn hand_checked_single_queue_optimum() {
    // 4-hour shifts starting 08:00, 09:00 or 10:00; need 1, 2, 2, 2, 1, 1 agents from 08:00 to
    // 14:00. 13:00 needs a 10:00 start, 08:00 an 08:00 start, and 09:00 a second agent starting
    // at 08:00 or 09:00: three shifts (12 paid hours at 10 = 120) and three agent-hours over
    // (at 1 each) = 123. Two shifts would leave an hour short (1000).
    let s = scenario(
        1,
        1.0,
        FREE,
        &["q-a"],
        &(group("g", SKILL_A, "\"zh\"", 5, 10.0) + &template("t", "08:00", "10:00", 60, 240, "")),
    );
    let plan = solve(
        &s,
        &[
            ("q-a", 0, 8, 9, 1.0),
            ("q-a", 0, 9, 12, 2.0),
            ("q-a", 0, 12, 14, 1.0),
        ],
    );
    let sm = &plan.summary;
    assert!(close(sm.objective, 123.0), "{sm:?}");
    assert!(close(sm.paid_hours, 12.0));
    assert!(close(sm.understaffed_agent_hours, 0.0));
    assert!(close(sm.overstaffed_agent_hours, 3.0));
    assert_eq!(sm.status, SolveStatus::Optimal);
    assert!(sm.gap.unwrap() < 1e-9 && close(sm.best_bound.unwrap(), 123.0));
}

#[test]
fn hand_checked_multi_skill_optimum() {
    // Queue a needs one agent 08–12, queue b one agent 12–16. A cross-trained agent (12/h) on one
    // 8-hour shift covers both: 96, against two specialists at 10/h for 160.
    let body = group("only-a", SKILL_A, "\"zh\"", 2, 10.0)
        + &group("only-b", SKILL_B, "\"zh\"", 2, 10.0)
        + &group("both", &format!("{SKILL_A}, {SKILL_B}"), "\"zh\"", 1, 12.0)
        + &template("t", "08:00", "08:00", 60, 480, "");
    let s = scenario(1, 0.0, FREE, &["q-a", "q-b"], &body);
    let plan = solve(&s, &[("q-a", 0, 8, 12, 1.0), ("q-b", 0, 12, 16, 1.0)]);
    assert!(close(plan.summary.objective, 96.0), "{:?}", plan.summary);
    assert_eq!(plan.shifts.len(), 1);
    assert_eq!(plan.shifts[0].group, "both");
    // The one agent is allocated to a in the morning and to b in the afternoon.
    let on = |queue: &str, hour: u32| {
        plan.allocation
            .iter()
            .filter(|r| {
                r.queue == queue && r.start.format("%H").to_string() == format!("{hour:02}")
            })
            .map(|r| r.agents)
            .sum::<f64>()
    };
    assert!(close(on("q-a", 9), 1.0) && close(on("q-b", 9), 0.0));
    assert!(close(on("q-b", 14), 1.0) && close(on("q-a", 14), 0.0));
}

#[test]
fn breaks_are_placed_in_their_windows() {
    // 5-hour shifts from 08:00 with a 1-hour unpaid break starting 10:00 or 11:00. Need 2 agents
    // 08–13 except 1 at 11:00. Breaks cost cover, so 3 agents (12 paid hours = 120) with one
    // break at 10:00 and two at 11:00 are needed; without breaks 2 agents (80) would do.
    let body = group("g", SKILL_A, "\"zh\"", 5, 10.0)
        + &template(
            "t",
            "08:00",
            "08:00",
            60,
            300,
            "{ name = \"lunch\", minutes = 60, earliest_after_start_minutes = 120, latest_after_start_minutes = 180 }",
        );
    let s = scenario(1, 0.0, FREE, &["q-a"], &body);
    let plan = solve(
        &s,
        &[
            ("q-a", 0, 8, 11, 2.0),
            ("q-a", 0, 11, 12, 1.0),
            ("q-a", 0, 12, 13, 2.0),
        ],
    );
    assert!(close(plan.summary.objective, 120.0), "{:?}", plan.summary);
    assert!(close(plan.summary.understaffed_agent_hours, 0.0));
    let mut at = std::collections::BTreeMap::new();
    for sh in &plan.shifts {
        for b in &sh.breaks {
            let h = b.start.format("%H:%M").to_string();
            assert!(h == "10:00" || h == "11:00", "break at {h}");
            assert_eq!((b.end - b.start).num_minutes(), 60);
            *at.entry(h).or_insert(0) += sh.count;
        }
    }
    assert_eq!(at.get("10:00"), Some(&1));
    assert_eq!(at.get("11:00"), Some(&2));
}

#[test]
fn headcount_caps_the_agents_of_a_day() {
    // Need 3 agents 08–16 but the group has 2: 8 agent-hours short (without the cap: none).
    let body =
        group("g", SKILL_A, "\"zh\"", 2, 10.0) + &template("t", "08:00", "08:00", 60, 480, "");
    let plan = solve(
        &scenario(1, 0.0, FREE, &["q-a"], &body),
        &[("q-a", 0, 8, 16, 3.0)],
    );
    assert!(close(plan.summary.understaffed_agent_hours, 8.0));
    assert!(close(plan.summary.paid_hours, 16.0));
    assert_eq!(plan.summary.agents_by_group["g"], 2);
}

/// One agent, one 8-hour shift from 08:00, one agent needed 08–16 on each of `days` days.
fn one_agent_every_day(days: u32, rules: &str) -> ShiftPlan {
    let body =
        group("g", SKILL_A, "\"zh\"", 1, 10.0) + &template("t", "08:00", "08:00", 60, 480, "");
    let spans: Vec<(&str, u32, u32, u32, f64)> =
        (0..days).map(|d| ("q-a", d, 8, 16, 1.0)).collect();
    solve(&scenario(days, 0.0, rules, &["q-a"], &body), &spans)
}

#[test]
fn days_off_per_week_bind() {
    // Two days off: 5 of 7 days covered, 16 agent-hours short (without the rule: 0).
    let rules = "days_off_per_week = 2\nmax_consecutive_days = 14\nmin_rest_hours = 0\ncontract = { min_weekly_hours = 0, max_weekly_hours = 80 }";
    let plan = one_agent_every_day(7, rules);
    assert!(
        close(plan.summary.understaffed_agent_hours, 16.0),
        "{:?}",
        plan.summary
    );
    assert_eq!(plan.summary.shifts, 5);
}

#[test]
fn max_weekly_hours_bind() {
    // 24 hours a week at most: 3 shifts, 4 days short = 32 agent-hours (without: 0).
    let rules = "days_off_per_week = 0\nmax_consecutive_days = 14\nmin_rest_hours = 0\ncontract = { min_weekly_hours = 0, max_weekly_hours = 24 }";
    let plan = one_agent_every_day(7, rules);
    assert!(close(plan.summary.understaffed_agent_hours, 32.0));
    assert!(close(plan.summary.paid_hours, 24.0));
}

#[test]
fn min_weekly_hours_bind() {
    // Work on one day only, but the agent's contract guarantees 24 hours: 3 shifts are paid
    // (240) although 1 (80) would cover the need.
    let rules = "days_off_per_week = 0\nmax_consecutive_days = 14\nmin_rest_hours = 0\ncontract = { min_weekly_hours = 24, max_weekly_hours = 48 }";
    let body =
        group("g", SKILL_A, "\"zh\"", 1, 10.0) + &template("t", "08:00", "08:00", 60, 480, "");
    let plan = solve(
        &scenario(7, 0.0, rules, &["q-a"], &body),
        &[("q-a", 2, 8, 16, 1.0)],
    );
    assert!(close(plan.summary.paid_hours, 24.0), "{:?}", plan.summary);
    assert!(close(plan.summary.objective, 240.0));
}

#[test]
fn max_consecutive_days_bind() {
    // At most 2 days in a row over 7 days: 5 working days at best (xx.xx.x), 16 hours short
    // (without: 0).
    let rules = "days_off_per_week = 0\nmax_consecutive_days = 2\nmin_rest_hours = 0\ncontract = { min_weekly_hours = 0, max_weekly_hours = 80 }";
    let plan = one_agent_every_day(7, rules);
    assert!(
        close(plan.summary.understaffed_agent_hours, 16.0),
        "{:?}",
        plan.summary
    );
}

#[test]
fn min_rest_binds() {
    // 8-hour shifts may start 06:00–14:00; 12 hours' rest. Day 1 needs someone 14–22, day 2
    // someone 06–14. One agent cannot do both (8 hours' rest); the best is 10–18 on day 1 and
    // 06–14 on day 2 (12 hours' rest), 4 agent-hours short (without the rule: 0).
    let rules = "days_off_per_week = 0\nmax_consecutive_days = 14\nmin_rest_hours = 12\ncontract = { min_weekly_hours = 0, max_weekly_hours = 80 }";
    let body =
        group("g", SKILL_A, "\"zh\"", 1, 10.0) + &template("t", "06:00", "14:00", 60, 480, "");
    let plan = solve(
        &scenario(2, 0.0, rules, &["q-a"], &body),
        &[("q-a", 0, 14, 22, 1.0), ("q-a", 1, 6, 14, 1.0)],
    );
    assert!(
        close(plan.summary.understaffed_agent_hours, 4.0),
        "{:?}",
        plan.summary
    );
    let starts: Vec<String> = plan.shifts.iter().map(|s| s.start.to_rfc3339()).collect();
    assert_eq!(
        starts,
        ["2026-11-09T10:00:00+08:00", "2026-11-10T06:00:00+08:00"]
    );
}

#[test]
fn temporary_staff_dates_cap_and_cost() {
    // Permanent agent at 30/h, temporary staff at 10/h, at most 1, only on day 2. Need 1 agent
    // on day 1 and 2 on day 2: day 1 the permanent agent (240), day 2 the temp (80) and the
    // permanent agent (240) = 560. Without the dates: 80 + 160 = 240; without the cap: 400.
    let temp = "[[groups]]\nid = \"temp\"\nskills = [{ skill = \"a\", proficiency = 2 }]\nlanguages = [\"zh\"]\nheadcount = 1\ncost_per_hour = 10.0\ntemporary = true\navailable_from = 2026-11-10\navailable_to = 2026-11-30\n";
    let body = group("perm", SKILL_A, "\"zh\"", 1, 30.0)
        + temp
        + &template("t", "08:00", "08:00", 60, 480, "");
    let plan = solve(
        &scenario(2, 0.0, FREE, &["q-a"], &body),
        &[("q-a", 0, 8, 16, 1.0), ("q-a", 1, 8, 16, 2.0)],
    );
    assert!(close(plan.summary.objective, 560.0), "{:?}", plan.summary);
    assert!(plan
        .shifts
        .iter()
        .all(|s| s.group != "temp" || s.day.to_string() == "2026-11-10"));
}

#[test]
fn the_lead_in_evening_covers_the_first_night() {
    // A night shift 22:00–06:00; the first day needs cover 00:00–06:00, which only a shift
    // started the evening before the horizon can give.
    let body =
        group("g", SKILL_A, "\"zh\"", 2, 10.0) + &template("night", "22:00", "22:00", 60, 480, "");
    let plan = solve(
        &scenario(1, 0.0, FREE, &["q-a"], &body),
        &[("q-a", 0, 0, 6, 1.0)],
    );
    assert!(
        close(plan.summary.understaffed_agent_hours, 0.0),
        "{:?}",
        plan.summary
    );
    assert_eq!(plan.shifts.len(), 1);
    assert_eq!(plan.shifts[0].day.to_string(), "2026-11-08");
}

#[test]
fn a_language_shortage_is_named() {
    let body = group("zh", SKILL_A, "\"zh\"", 5, 10.0)
        + &group("ja", SKILL_A, "\"zh\", \"ja\"", 2, 12.0)
        + &template("t", "08:00", "08:00", 60, 480, "");
    let plan = solve(
        &scenario(1, 0.0, FREE, &["q-a", "q-ja"], &body),
        &[("q-ja", 0, 9, 11, 5.0)],
    );
    let f = &plan.summary.shortfalls;
    assert_eq!(f.len(), 1, "{f:?}");
    assert_eq!(f[0].reason, "headcount");
    assert_eq!(
        f[0].message,
        "q-ja, 9 Nov 09:00–11:00: needs 5, at most 2 agents hold a in Japanese (ja)"
    );
    assert!(close(f[0].short_agent_hours, 6.0));
}

#[test]
fn an_impossible_contract_is_a_diagnostic_not_a_panic() {
    // Contracts of 40 hours, but only 5-hour shifts and one day off: 30 hours at most.
    let rules = "days_off_per_week = 1\nmax_consecutive_days = 6\nmin_rest_hours = 11\ncontract = { min_weekly_hours = 40, max_weekly_hours = 48 }";
    let body =
        group("g", SKILL_A, "\"zh\"", 3, 10.0) + &template("part", "18:00", "18:00", 60, 300, "");
    let s = scenario(7, 0.0, rules, &["q-a"], &body);
    let inst = Instance::new(&s).unwrap();
    let required = need(&inst, &[("q-a", 0, 18, 23, 1.0)]);
    let err = plan_on(&s, &inst, &required, 0, &ScheduleOptions::default()).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ScheduleError::Infeasible { .. }), "{text}");
    assert!(
        text.contains("group `g`: each of its 3 agents must work 40–48 h a week with 1 day(s) off")
            && text.contains("`part` pays 5.0 h a shift and allows at most 6 days a week (30.0 h)"),
        "{text}"
    );
}

#[test]
fn coverage_is_what_the_shifts_deliver() {
    // On a realistic small day with breaks and two skills, every interval's allocation adds up
    // to the on-duty agents of the explicit shifts, and coverage adds up the allocation.
    let body = group("a", SKILL_A, "\"zh\"", 6, 10.0)
        + &group("ab", &format!("{SKILL_A}, {SKILL_B}"), "\"zh\"", 4, 12.0)
        + &template(
            "t",
            "07:00",
            "12:00",
            60,
            480,
            "{ name = \"lunch\", minutes = 60, earliest_after_start_minutes = 180, latest_after_start_minutes = 300 }",
        );
    let s = scenario(2, 1.0, FREE, &["q-a", "q-b"], &body);
    let plan = solve(
        &s,
        &[
            ("q-a", 0, 8, 18, 3.0),
            ("q-b", 0, 10, 20, 2.0),
            ("q-a", 1, 7, 12, 4.0),
            ("q-b", 1, 12, 19, 1.0),
        ],
    );
    let inst = Instance::new(&s).unwrap();
    for (i, iv) in inst.intervals.iter().enumerate() {
        let t = iv.start;
        for g in &inst.groups {
            let duty: f64 = plan
                .shifts
                .iter()
                .filter(|sh| sh.group == g.id && sh.start <= t && t < sh.end)
                .map(|sh| {
                    let on_break = sh.breaks.iter().any(|b| b.start <= t && t < b.end);
                    if on_break {
                        0.0
                    } else {
                        sh.count as f64
                    }
                })
                .sum();
            let allocated: f64 = plan
                .allocation
                .iter()
                .filter(|a| a.group == g.id && a.start == t)
                .map(|a| a.agents)
                .sum();
            assert!(
                (duty - allocated).abs() < 1e-5,
                "{} at {i}: {duty} vs {allocated}",
                g.id
            );
        }
        for q in &inst.queues {
            let allocated: f64 = plan
                .allocation
                .iter()
                .filter(|a| a.queue == q.id && a.start == t)
                .map(|a| a.agents)
                .sum();
            let row = plan
                .coverage
                .iter()
                .find(|c| c.queue == q.id && c.start == t)
                .unwrap();
            assert!((row.allocated - allocated).abs() < 1e-5);
            assert!((row.under - (row.required - row.allocated).max(0.0)).abs() < 1e-5);
            assert!((row.over - (row.allocated - row.required).max(0.0)).abs() < 1e-5);
        }
    }
}

fn agent(id: &str, group: &str, prefer: &[&str], days_off: &[u8]) -> AgentProfile {
    AgentProfile {
        id: id.into(),
        name: id.into(),
        group: group.into(),
        skills: vec![peakcrew_core::model::SkillLevel {
            skill: "a".into(),
            proficiency: peakcrew_core::model::Proficiency::new(3).unwrap(),
        }],
        languages: vec!["zh".into()],
        contract: peakcrew_core::model::Contract {
            min_weekly_hours: 0.0,
            max_weekly_hours: 80.0,
        },
        unavailable: Vec::new(),
        preferred_shifts: prefer.iter().map(|s| s.to_string()).collect(),
        preferred_days_off: days_off.to_vec(),
    }
}

fn roster_of(s: &Scenario, plan: &ShiftPlan, agents: &[AgentProfile]) -> Roster {
    let shifts: Vec<(usize, PlannedShift)> = plan
        .shifts
        .iter()
        .cloned()
        .enumerate()
        .map(|(i, s)| (i + 2, s))
        .collect();
    build_roster(
        s,
        &shifts,
        &plan.allocation,
        agents,
        &RosterOptions::default(),
    )
    .unwrap()
}

#[test]
fn roster_follows_template_preferences() {
    // One early and one late shift a day; the early bird gets the early ones.
    let body = group("g", SKILL_A, "\"zh\"", 2, 10.0)
        + &template("early", "06:00", "06:00", 60, 480, "")
        + &template("late", "14:00", "14:00", 60, 480, "");
    let s = scenario(3, 0.0, FREE, &["q-a"], &body);
    let spans: Vec<(&str, u32, u32, u32, f64)> = (0..3).map(|d| ("q-a", d, 6, 22, 1.0)).collect();
    let plan = solve(&s, &spans);
    let roster = roster_of(
        &s,
        &plan,
        &[
            agent("owl", "g", &["late"], &[]),
            agent("lark", "g", &["early"], &[]),
        ],
    );
    assert_eq!(roster.summary.filled_shifts, 6);
    for a in &roster.assignments {
        let expected = if a.agent == "lark" { "early" } else { "late" };
        assert_eq!(a.template, expected);
    }
    assert!(close(roster.summary.preferred_template_share, 1.0));
}

#[test]
fn roster_spreads_weekend_days() {
    // Saturday and Sunday need one agent each; two agents: one weekend day each, not both on one.
    let body =
        group("g", SKILL_A, "\"zh\"", 2, 10.0) + &template("t", "08:00", "08:00", 60, 480, "");
    let s = scenario(7, 0.0, FREE, &["q-a"], &body);
    let plan = solve(&s, &[("q-a", 5, 8, 16, 1.0), ("q-a", 6, 8, 16, 1.0)]);
    let roster = roster_of(
        &s,
        &plan,
        &[agent("x", "g", &[], &[]), agent("y", "g", &[], &[])],
    );
    assert_eq!(roster.summary.filled_shifts, 2);
    assert_eq!(roster.summary.max_weekend_days, 1);
}

#[test]
fn roster_keeps_rest_days_off_and_hours_for_every_agent() {
    // A week with night and day templates under the bundled rules; each agent's shifts are
    // checked individually against every rule.
    let rules = "days_off_per_week = 1\nmax_consecutive_days = 6\nmin_rest_hours = 11\ncontract = { min_weekly_hours = 16, max_weekly_hours = 40 }";
    let body = group("g", SKILL_A, "\"zh\"", 6, 10.0)
        + &template(
            "day",
            "08:00",
            "11:00",
            60,
            540,
            "{ name = \"lunch\", minutes = 60, earliest_after_start_minutes = 180, latest_after_start_minutes = 300 }",
        )
        + &template("night", "21:00", "23:00", 60, 480, "");
    let s = scenario(7, 0.0, rules, &["q-a"], &body);
    let spans: Vec<(&str, u32, u32, u32, f64)> = (0..7)
        .flat_map(|d| {
            [
                ("q-a", d, 0, 7, 1.0),
                ("q-a", d, 9, 20, 2.0),
                ("q-a", d, 22, 24, 1.0),
            ]
        })
        .collect();
    // Only the roster is under test: a plan within 10% of optimal will do.
    let plan = solve_within(&s, &spans, 0.1);
    let agents: Vec<AgentProfile> = (0..6)
        .map(|i| {
            let mut a = agent(&format!("A{i}"), "g", &[], &[(i % 7) as u8]);
            a.contract = peakcrew_core::model::Contract {
                min_weekly_hours: 16.0,
                max_weekly_hours: 40.0,
            };
            a
        })
        .collect();
    let roster = roster_of(&s, &plan, &agents);
    assert_eq!(roster.summary.filled_shifts, plan.summary.shifts);
    assert!(roster.summary.unfilled.is_empty() && roster.summary.contract_shortfalls.is_empty());
    for a in &agents {
        let mine: Vec<&Assignment> = roster
            .assignments
            .iter()
            .filter(|x| x.agent == a.id)
            .collect();
        for pair in mine.windows(2) {
            let rest = (pair[1].start - pair[0].end).num_minutes();
            assert!(rest >= 11 * 60, "{}: {rest} minutes of rest", a.id);
        }
        let paid: f64 = mine
            .iter()
            .map(|x| {
                let unpaid: i64 = x
                    .breaks
                    .iter()
                    .map(|b| (b.end - b.start).num_minutes())
                    .sum();
                ((x.end - x.start).num_minutes() - unpaid) as f64 / 60.0
            })
            .sum();
        assert!((16.0..=40.0).contains(&paid), "{}: {paid} h", a.id);
        let days: std::collections::BTreeSet<_> = mine.iter().map(|x| x.date).collect();
        assert!(days.len() <= 6, "{}: {} days", a.id, days.len());
    }
}

#[test]
fn a_full_roster_delivers_the_plans_coverage_and_a_missing_agent_shows() {
    let rules = "days_off_per_week = 1\nmax_consecutive_days = 6\nmin_rest_hours = 11\ncontract = { min_weekly_hours = 16, max_weekly_hours = 40 }";
    let body = group("g", SKILL_A, "\"zh\"", 4, 10.0)
        + &template(
            "day",
            "08:00",
            "11:00",
            60,
            540,
            "{ name = \"lunch\", minutes = 60, earliest_after_start_minutes = 180, latest_after_start_minutes = 300 }",
        );
    let s = scenario(3, 0.0, rules, &["q-a"], &body);
    let spans: Vec<(&str, u32, u32, u32, f64)> = (0..3).map(|d| ("q-a", d, 9, 18, 2.0)).collect();
    let plan = solve_within(&s, &spans, 0.1);
    let requirements: Vec<crate::staffing::Requirement> = plan
        .coverage
        .iter()
        .map(|c| crate::staffing::Requirement {
            queue: c.queue.clone(),
            start: c.start,
            interval_minutes: s.interval_minutes,
            contacts: 0.0,
            aht_seconds: 0.0,
            required_raw: c.required as u32,
            required: c.required as u32,
            service_level: 0.0,
            asa_seconds: 0.0,
            abandon_rate: 0.0,
            occupancy: 0.0,
        })
        .collect();
    let agents: Vec<AgentProfile> = (0..4)
        .map(|i| agent(&format!("A{i}"), "g", &[], &[]))
        .collect();
    let roster = roster_of(&s, &plan, &agents);
    assert_eq!(roster.summary.filled_shifts, plan.summary.shifts);
    let (_, delivered) = roster_coverage(&s, &requirements, &roster.assignments).expect("cover");
    assert_eq!(delivered.len(), plan.coverage.len());
    for (d, p) in delivered.iter().zip(&plan.coverage) {
        assert_eq!((&d.queue, d.start), (&p.queue, p.start));
        assert!(close(d.allocated, p.allocated), "{d:?} vs {p:?}");
    }
    // Drop one agent's first shift: exactly that shift's time on duty (idle agents count as
    // over-cover) goes missing.
    let dropped = roster.assignments[0].clone();
    let fewer: Vec<_> = roster.assignments[1..].to_vec();
    let (_, short) = roster_coverage(&s, &requirements, &fewer).expect("cover");
    let lost: f64 = delivered
        .iter()
        .zip(&short)
        .map(|(a, b)| a.allocated - b.allocated)
        .sum();
    let on_duty_minutes = (dropped.end - dropped.start).num_minutes()
        - dropped
            .breaks
            .iter()
            .map(|b| (b.end - b.start).num_minutes())
            .sum::<i64>();
    let lost_minutes = lost * s.interval_minutes as f64;
    assert!(
        (lost_minutes - on_duty_minutes as f64).abs() < 1e-3,
        "lost {lost_minutes} minutes, the shift had {on_duty_minutes} on duty"
    );
}
