//! The simulator's side of the stage files: the roster stage's assignments (read by
//! `schedule::files::read_roster`) and named agents (`schedule::read_agents`) mapped onto
//! [`RosterShift`]s, a shift plan standing in for a roster, and writers for `sim.csv` (per
//! queue × interval, for the report) and the sweep comparison. `forecast.csv` is read by the
//! forecast stage's `forecast::read_forecast`; each row maps onto an
//! [`ArrivalRate`](super::ArrivalRate) (`From<&ForecastRow>`).
//!
//! The simulator reads no file format of its own: each file has one reader, in the stage that
//! writes it.

use std::collections::HashMap;
use std::io::Write;

use super::input::{RosterShift, SimError};
use super::stats::{Estimate, Metrics, SimReport};
use super::vary::Variant;
use peakcrew_core::model::AgentProfile;
use peakcrew_plan::csv_rows::write_records;
use peakcrew_plan::scenario::Scenario;
use peakcrew_plan::schedule::roster::Assignment;

/// The roster's shifts with each agent's skills (proficiency included) and languages from
/// `agents` (the named-agents file the roster was built from). An agent missing from `agents`,
/// or listed there in another group than the roster's, is an error: the files do not belong
/// together. `primary_skill` does not change routing (an agent keeps every skill it holds).
pub fn roster_shifts(
    assignments: &[Assignment],
    agents: &[AgentProfile],
) -> Result<Vec<RosterShift>, SimError> {
    let by_id: HashMap<&str, &AgentProfile> = agents.iter().map(|a| (a.id.as_str(), a)).collect();
    assignments
        .iter()
        .map(|a| {
            let err = |message: String| SimError::Shift {
                agent: a.agent.clone(),
                start: a.start.to_rfc3339(),
                message,
            };
            let profile = by_id
                .get(a.agent.as_str())
                .ok_or_else(|| err("not in the agents file".into()))?;
            if profile.group != a.group {
                return Err(err(format!(
                    "rostered in group `{}` but the agents file puts the agent in `{}`",
                    a.group, profile.group
                )));
            }
            Ok(RosterShift {
                agent: a.agent.clone(),
                group: a.group.clone(),
                skills: profile.skills.clone(),
                languages: profile.languages.clone(),
                start: a.start,
                end: a.end,
                breaks: a.breaks.iter().map(|b| (b.start, b.end)).collect(),
            })
        })
        .collect()
}

/// Anonymous agents for a shift plan (schedule.csv, before the roster names anyone): `count`
/// agents of the group per planned shift, each with the group's skills and languages and the
/// shift's breaks, named `GROUP/ROW/i` (ROW: the shift's position in `shifts`, from 1). Lets a
/// plan be simulated without a roster; agents do not carry over between days, which the
/// simulation does not need.
pub fn roster_from_plan(
    scenario: &Scenario,
    shifts: &[peakcrew_plan::schedule::PlannedShift],
) -> Result<Vec<RosterShift>, SimError> {
    let mut out = Vec::new();
    for (row, s) in shifts.iter().enumerate() {
        let group = scenario.group(&s.group).ok_or_else(|| SimError::Shift {
            agent: format!("{}/{}", s.group, row + 1),
            start: s.start.to_rfc3339(),
            message: format!(
                "planned {} shift: group `{}` is not in the scenario",
                s.template, s.group
            ),
        })?;
        for i in 0..s.count {
            out.push(RosterShift {
                agent: format!("{}/{}/{}", s.group, row + 1, i + 1),
                group: s.group.clone(),
                skills: group.skills.clone(),
                languages: group.languages.clone(),
                start: s.start,
                end: s.end,
                breaks: s.breaks.iter().map(|b| (b.start, b.end)).collect(),
            });
        }
    }
    Ok(out)
}

fn num(x: Option<f64>) -> String {
    x.map_or(String::new(), |v| format!("{v:.6}"))
}

fn estimate_fields(e: &Option<Estimate>) -> [String; 3] {
    match e {
        Some(e) => [num(Some(e.mean)), num(e.ci95_low), num(e.ci95_high)],
        None => [String::new(), String::new(), String::new()],
    }
}

const METRIC_NAMES: [&str; 8] = [
    "service_level",
    "service_level_excluding_short_abandons",
    "asa_seconds",
    "mean_wait_seconds",
    "abandonment_rate",
    "occupancy",
    "longest_wait_seconds",
    "max_queue_length",
];

fn metric_header() -> Vec<String> {
    METRIC_NAMES
        .iter()
        .flat_map(|m| {
            [
                m.to_string(),
                format!("{m}_ci95_low"),
                format!("{m}_ci95_high"),
            ]
        })
        .collect()
}

fn metric_fields(m: &Metrics) -> Vec<String> {
    [
        &m.service_level,
        &m.service_level_excluding_short_abandons,
        &m.asa_seconds,
        &m.mean_wait_seconds,
        &m.abandonment_rate,
        &m.occupancy,
        &m.longest_wait_seconds,
        &m.max_queue_length,
    ]
    .into_iter()
    .flat_map(estimate_fields)
    .collect()
}

/// Writes `sim.csv`: one row per queue × interval with the means and 95% intervals across
/// replications (empty where a figure is undefined, e.g. no arrivals).
/// Columns: `queue,start,interval_minutes,counted,answer_seconds,target,offered` (mean per
/// replication), then each of service_level, service_level_excluding_short_abandons,
/// asa_seconds, mean_wait_seconds, abandonment_rate, occupancy, longest_wait_seconds,
/// max_queue_length (the tally's figures) with its `_ci95_low` and `_ci95_high`.
pub fn write_sim_csv(report: &SimReport, out: impl Write) -> std::io::Result<()> {
    let mut header: Vec<String> = [
        "queue",
        "start",
        "interval_minutes",
        "counted",
        "answer_seconds",
        "target",
        "offered",
    ]
    .map(String::from)
    .to_vec();
    header.extend(metric_header());
    let rows = report.intervals.iter().map(|iv| {
        let q = report.queue(&iv.queue);
        let mut row = vec![
            iv.queue.clone(),
            iv.start.to_rfc3339(),
            report.interval_minutes.to_string(),
            iv.counted.to_string(),
            num(q.map(|q| q.answer_seconds)),
            num(q.and_then(|q| q.target)),
            num(Some(iv.metrics.offered)),
        ];
        row.extend(metric_fields(&iv.metrics));
        row
    });
    write_records(out, header, rows)
}

/// Writes the sweep comparison: one row per variant and scope (`overall`, then each queue).
/// Columns: `variant,scope,offered` (per replication), then the metrics as in `sim.csv`.
pub fn write_sweep_csv(results: &[(Variant, SimReport)], out: impl Write) -> std::io::Result<()> {
    let mut header: Vec<String> = ["variant", "scope", "offered"].map(String::from).to_vec();
    header.extend(metric_header());
    let rows = results.iter().flat_map(|(variant, report)| {
        std::iter::once(("overall", &report.overall))
            .chain(report.queues.iter().map(|q| (q.queue.as_str(), &q.metrics)))
            .map(move |(scope, m)| {
                let mut row = vec![variant.label(), scope.to_string(), num(Some(m.offered))];
                row.extend(metric_fields(m));
                row
            })
    });
    write_records(out, header, rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn scenario() -> Scenario {
        Scenario::load(
            &Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
                .join("scenarios/double11.toml"),
        )
        .unwrap()
    }

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn a_plan_becomes_count_agents_per_shift() {
        let s = scenario();
        let dir = tempfile::tempdir().unwrap();
        let plan = write(&dir, "schedule.csv", "group,template,day,start,end,breaks,count\n\
            hotline,day,2026-11-11,2026-11-11T09:00:00+08:00,2026-11-11T18:00:00+08:00,break 10:30-10:45; lunch 12:30-13:30,3\n\
            bilingual-ja,night,2026-11-11,2026-11-11T22:00:00+08:00,2026-11-12T06:00:00+08:00,meal 01:30-02:00,1\n");
        let shifts: Vec<_> = peakcrew_plan::schedule::files::read_schedule(&plan, s.time_zone)
            .unwrap()
            .into_iter()
            .map(|(_, shift)| shift)
            .collect();
        let roster = roster_from_plan(&s, &shifts).unwrap();
        assert_eq!(roster.len(), 4);
        assert_eq!(roster[2].agent, "hotline/1/3");
        assert_eq!(
            roster[3].languages,
            s.group("bilingual-ja").unwrap().languages
        );
        assert_eq!(
            roster[3].breaks[0].0.to_rfc3339(),
            "2026-11-12T01:30:00+08:00"
        );
        let mut wrong = shifts.clone();
        wrong[0].group = "nobody".into();
        assert!(roster_from_plan(&s, &wrong)
            .unwrap_err()
            .to_string()
            .contains("group `nobody` is not in the scenario"));
    }

    #[test]
    fn roster_agents_bring_their_own_skills() {
        let s = scenario();
        let dir = tempfile::tempdir().unwrap();
        let roster = write(&dir, "roster.csv", "agent,name,group,template,date,start,end,breaks,primary_skill\n\
            A0001,a,chat-core,evening,2026-11-10,2026-11-10T13:00:00+08:00,2026-11-10T22:00:00+08:00,break 14:30-14:45; dinner 16:30-17:30,aftersales\n\
            A0003,c,chat-core,day,2026-11-11,2026-11-11T09:00:00+08:00,2026-11-11T18:00:00+08:00,,presales\n");
        let agents = peakcrew_plan::schedule::read_agents(
            &Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
                .join("scenarios/double11-agents.csv"),
            &s,
        )
        .unwrap();
        let assignments =
            peakcrew_plan::schedule::files::read_roster(&roster, s.time_zone).unwrap();
        let shifts = roster_shifts(&assignments, &agents).unwrap();
        assert_eq!(shifts.len(), 2);
        assert_eq!(shifts[0].breaks.len(), 2);
        assert_eq!(
            shifts[0].breaks[1].1.to_rfc3339(),
            "2026-11-10T17:30:00+08:00"
        );
        // A0003 holds membership at level 2 besides its group's skills (agents file, line 4).
        let a3 = agents.iter().find(|a| a.id == "A0003").unwrap();
        assert_eq!(shifts[1].skills, a3.skills);
        assert!(shifts[1]
            .skills
            .iter()
            .any(|k| k.skill.0 == "membership" && k.proficiency.get() == 2));

        let mut stranger = assignments.clone();
        stranger[1].agent = "Z9".into();
        let e = roster_shifts(&stranger, &agents).unwrap_err().to_string();
        assert!(
            e.contains("agent `Z9`") && e.contains("not in the agents file"),
            "{e}"
        );
        let mut moved = assignments;
        moved[0].group = "hotline".into();
        let e = roster_shifts(&moved, &agents).unwrap_err().to_string();
        assert!(e.contains("rostered in group `hotline`"), "{e}");
    }
}
