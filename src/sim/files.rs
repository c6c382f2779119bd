//! The simulator's files: thin readers for the roster and agents files it consumes, and
//! writers for `sim.csv` (per queue × interval, for the report) and the sweep comparison.
//! `forecast.csv` is read by the forecast stage's `forecast::read_forecast`; each row maps onto
//! an [`ArrivalRate`](super::ArrivalRate) (`From<&ForecastRow>`).
//!
//! **Stand-in readers.** `roster.csv` and the agents file belong to the roster stage, whose
//! reader is not on main yet. Until it lands, the readers here accept the agreed formats
//! (breaks are parsed by the schedule stage's `schedule::files::parse_breaks`, as in
//! schedule.csv); once the roster stage's reader is on main, replace [`read_roster`] and
//! [`read_agents`] by it, mapped onto [`RosterShift`]. Nothing else in the simulator depends on
//! these files.
//!
//! - `roster.csv`: `agent,date,start,end,breaks,primary_skill` (plus optional `name`, `group`,
//!   `template`, ignored unless noted): `start`/`end` in RFC 3339, `breaks` a `;`-separated
//!   list of `name HH:MM-HH:MM` in the scenario's local wall-clock time, in order from the
//!   shift start. The agent's group comes from the `group` column when present, else from the
//!   agents file; skills and languages come from the agents file when it lists them, else from
//!   the group in the scenario. `primary_skill` does not change routing (an agent keeps every
//!   skill it holds) and is not read.
//! - agents file: `id,group[,skills][,languages]` (extra columns ignored; `agent` is accepted
//!   for `id`): `skills` as `skill:level;skill:level`, `languages` as `zh;en`.
//!
//! A shift plan (`schedule.csv`, read by `schedule::files::read_schedule`) can stand in for a
//! roster: [`roster_from_plan`] puts `count` anonymous agents of the group on each shift.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use chrono::{DateTime, FixedOffset};

use super::input::RosterShift;
use super::stats::{Estimate, Metrics, SimReport};
use super::vary::Variant;
use crate::model::{Language, Proficiency, Skill, SkillLevel};
use crate::scenario::Scenario;
use crate::schedule::files::parse_breaks;

/// A file that cannot be read, with its name and, for a bad row, its line.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{file}: cannot read: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file}:1: missing column `{column}`; expected a header with {expected}")]
    MissingColumn {
        file: String,
        column: String,
        expected: &'static str,
    },
    #[error("{file}:{line}: {message}")]
    Row {
        file: String,
        line: u64,
        message: String,
    },
    #[error("{file}: no rows")]
    Empty { file: String },
}

/// A CSV file read by column name.
struct Table {
    file: String,
    columns: BTreeMap<String, usize>,
    rows: Vec<(u64, csv::StringRecord)>,
}

impl Table {
    fn read(path: &Path) -> Result<Table, FileError> {
        let file = path.display().to_string();
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(false)
            .from_path(path)
            .map_err(|e| match e.into_kind() {
                csv::ErrorKind::Io(source) => FileError::Io {
                    file: file.clone(),
                    source,
                },
                other => FileError::Row {
                    file: file.clone(),
                    line: 1,
                    message: format!("{other:?}"),
                },
            })?;
        let headers = reader.headers().map_err(|e| FileError::Row {
            file: file.clone(),
            line: 1,
            message: e.to_string(),
        })?;
        let columns = headers
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim_start_matches('\u{feff}').to_string(), i))
            .collect();
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| FileError::Row {
                file: file.clone(),
                line: e.position().map_or(0, |p| p.line()),
                message: match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => {
                        format!("expected {expected_len} fields, found {len}")
                    }
                    _ => e.to_string(),
                },
            })?;
            let line = record.position().map_or(0, |p| p.line());
            rows.push((line, record));
        }
        if rows.is_empty() {
            return Err(FileError::Empty { file });
        }
        Ok(Table {
            file,
            columns,
            rows,
        })
    }

    fn column(&self, names: &[&str], expected: &'static str) -> Result<usize, FileError> {
        names
            .iter()
            .find_map(|n| self.columns.get(*n).copied())
            .ok_or_else(|| FileError::MissingColumn {
                file: self.file.clone(),
                column: names[0].to_string(),
                expected,
            })
    }

    fn optional(&self, name: &str) -> Option<usize> {
        self.columns.get(name).copied()
    }

    fn err(&self, line: u64, message: String) -> FileError {
        FileError::Row {
            file: self.file.clone(),
            line,
            message,
        }
    }
}

fn field(record: &csv::StringRecord, i: usize) -> &str {
    record.get(i).unwrap_or("")
}

fn parse_time(name: &str, s: &str) -> Result<DateTime<FixedOffset>, String> {
    DateTime::parse_from_rfc3339(s).map_err(|_| {
        format!("{name}: expected an RFC 3339 time such as 2026-11-11T09:00:00+08:00, found `{s}`")
    })
}

/// One line of the agents file.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentEntry {
    pub group: String,
    pub skills: Option<Vec<SkillLevel>>,
    pub languages: Option<Vec<Language>>,
}

fn parse_skills(s: &str) -> Result<Vec<SkillLevel>, String> {
    s.split(';')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|item| {
            let (skill, level) = item.split_once(':').ok_or_else(|| {
                format!("skills: expected skill:level such as returns:4, found `{item}`")
            })?;
            let level: u8 = level
                .trim()
                .parse()
                .map_err(|_| format!("skills: expected a level from 1 to 5 in `{item}`"))?;
            Ok(SkillLevel {
                skill: Skill::new(skill.trim()),
                proficiency: Proficiency::new(level)
                    .map_err(|m| format!("skills: `{item}`: {m}"))?,
            })
        })
        .collect()
}

/// Reads the agents file (stand-in; see the module doc), keyed by agent id.
pub fn read_agents(path: &Path) -> Result<BTreeMap<String, AgentEntry>, FileError> {
    let t = Table::read(path)?;
    let expected = "id,group[,skills][,languages]";
    let id = t.column(&["id", "agent"], expected)?;
    let group = t.column(&["group"], expected)?;
    let (skills, languages) = (t.optional("skills"), t.optional("languages"));
    let mut out = BTreeMap::new();
    for (line, r) in &t.rows {
        let agent = field(r, id);
        if agent.is_empty() {
            return Err(t.err(*line, "id: expected an agent id, found nothing".into()));
        }
        let skills = match skills.map(|i| field(r, i)).filter(|s| !s.is_empty()) {
            Some(s) => Some(parse_skills(s).map_err(|m| t.err(*line, m))?),
            None => None,
        };
        let languages = languages
            .map(|i| field(r, i))
            .filter(|s| !s.is_empty())
            .map(|s| {
                s.split(';')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(Language::new)
                    .collect()
            });
        let entry = AgentEntry {
            group: field(r, group).to_string(),
            skills,
            languages,
        };
        if out.insert(agent.to_string(), entry).is_some() {
            return Err(t.err(*line, format!("agent `{agent}` is listed twice")));
        }
    }
    Ok(out)
}

const ROSTER_COLUMNS: &str = "agent,date,start,end,breaks,primary_skill";

/// Reads `roster.csv` (stand-in; see the module doc). `agents` is the agents file, needed when
/// the roster has no `group` column or the agents' skills differ from their group's.
pub fn read_roster(
    path: &Path,
    scenario: &Scenario,
    agents: Option<&BTreeMap<String, AgentEntry>>,
) -> Result<Vec<RosterShift>, FileError> {
    let t = Table::read(path)?;
    let agent = t.column(&["agent"], ROSTER_COLUMNS)?;
    let start = t.column(&["start"], ROSTER_COLUMNS)?;
    let end = t.column(&["end"], ROSTER_COLUMNS)?;
    let breaks = t.optional("breaks");
    let group_col = t.optional("group");
    let mut out = Vec::with_capacity(t.rows.len());
    for (line, r) in &t.rows {
        let row = || -> Result<RosterShift, String> {
            let id = field(r, agent);
            if id.is_empty() {
                return Err("agent: expected an agent id, found nothing".into());
            }
            let entry = agents.and_then(|a| a.get(id));
            let group = match group_col.map(|i| field(r, i)).filter(|g| !g.is_empty()) {
                Some(g) => g.to_string(),
                None => match entry {
                    Some(e) => e.group.clone(),
                    None if agents.is_some() => {
                        return Err(format!("agent `{id}` is not in the agents file"))
                    }
                    None => {
                        return Err(format!(
                        "agent `{id}`: the roster has no group column and no agents file was given"
                    ))
                    }
                },
            };
            let scenario_group = scenario.group(&group);
            let skills = match entry.and_then(|e| e.skills.clone()) {
                Some(s) => s,
                None => scenario_group
                    .map(|g| g.skills.clone())
                    .ok_or_else(|| format!("group `{group}` of agent `{id}` is not in the scenario, and the agents file gives no skills"))?,
            };
            let languages = match entry.and_then(|e| e.languages.clone()) {
                Some(l) => l,
                None => scenario_group
                    .map(|g| g.languages.clone())
                    .ok_or_else(|| format!("group `{group}` of agent `{id}` is not in the scenario, and the agents file gives no languages"))?,
            };
            let s = parse_time("start", field(r, start))?;
            let e = parse_time("end", field(r, end))?;
            if e <= s {
                return Err(format!(
                    "end {} is not after start {}",
                    e.to_rfc3339(),
                    s.to_rfc3339()
                ));
            }
            let breaks = match breaks {
                Some(i) => parse_breaks(field(r, i), s, scenario.time_zone)
                    .map_err(|m| format!("breaks: {m}"))?
                    .into_iter()
                    .map(|b| (b.start, b.end))
                    .collect(),
                None => Vec::new(),
            };
            Ok(RosterShift {
                agent: id.to_string(),
                group,
                skills,
                languages,
                start: s,
                end: e,
                breaks,
            })
        };
        out.push(row().map_err(|m| t.err(*line, m))?);
    }
    Ok(out)
}

/// Anonymous agents for a shift plan (schedule.csv, before the roster names anyone): `count`
/// agents of the group per planned shift, each with the group's skills and languages and the
/// shift's breaks, named `GROUP/ROW/i` (ROW: the shift's position in `shifts`, from 1). Lets a
/// plan be simulated without a roster;
/// agents do not carry over between days, which the simulation does not need.
pub fn roster_from_plan(
    scenario: &Scenario,
    shifts: &[crate::schedule::PlannedShift],
) -> Result<Vec<RosterShift>, String> {
    let mut out = Vec::new();
    for (row, s) in shifts.iter().enumerate() {
        let group = scenario.group(&s.group).ok_or_else(|| {
            format!(
                "planned shift {} {}: group `{}` is not in the scenario",
                s.template,
                s.start.to_rfc3339(),
                s.group
            )
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

const METRIC_NAMES: [&str; 6] = [
    "service_level",
    "asa_seconds",
    "abandon_rate",
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
        &m.asa_seconds,
        &m.abandon_rate,
        &m.occupancy,
        &m.longest_wait_seconds,
        &m.max_queue_length,
    ]
    .into_iter()
    .flat_map(estimate_fields)
    .collect()
}

fn csv_io(e: csv::Error) -> std::io::Error {
    std::io::Error::other(e)
}

/// Writes `sim.csv`: one row per queue × interval with the means and 95% intervals across
/// replications (empty where a figure is undefined, e.g. no arrivals).
/// Columns: `queue,start,interval_minutes,counted,answer_seconds,target,contacts` (mean per
/// replication), then each of
/// service_level, asa_seconds, abandon_rate, occupancy, longest_wait_seconds,
/// max_queue_length with its `_ci95_low` and `_ci95_high`.
pub fn write_sim_csv(report: &SimReport, out: impl Write) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header: Vec<String> = [
        "queue",
        "start",
        "interval_minutes",
        "counted",
        "answer_seconds",
        "target",
        "contacts",
    ]
    .map(String::from)
    .to_vec();
    header.extend(metric_header());
    w.write_record(&header).map_err(csv_io)?;
    for iv in &report.intervals {
        let q = report.queue(&iv.queue);
        let mut row = vec![
            iv.queue.clone(),
            iv.start.to_rfc3339(),
            report.interval_minutes.to_string(),
            iv.counted.to_string(),
            num(q.map(|q| q.answer_seconds)),
            num(q.and_then(|q| q.target)),
            num(Some(iv.metrics.contacts_per_replication)),
        ];
        row.extend(metric_fields(&iv.metrics));
        w.write_record(&row).map_err(csv_io)?;
    }
    w.flush()
}

/// Writes the sweep comparison: one row per variant and scope (`overall`, then each queue).
/// Columns: `variant,scope,contacts` (per replication), then the metrics as in `sim.csv`.
pub fn write_sweep_csv(results: &[(Variant, SimReport)], out: impl Write) -> std::io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    let mut header: Vec<String> = ["variant", "scope", "contacts"].map(String::from).to_vec();
    header.extend(metric_header());
    w.write_record(&header).map_err(csv_io)?;
    for (variant, report) in results {
        let scopes = std::iter::once(("overall", &report.overall))
            .chain(report.queues.iter().map(|q| (q.queue.as_str(), &q.metrics)));
        for (scope, m) in scopes {
            let mut row = vec![
                variant.label(),
                scope.to_string(),
                num(Some(m.contacts_per_replication)),
            ];
            row.extend(metric_fields(m));
            w.write_record(&row).map_err(csv_io)?;
        }
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario() -> Scenario {
        Scenario::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/double11.toml"))
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
        let shifts: Vec<_> = crate::schedule::files::read_schedule(&plan, s.time_zone)
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
            .contains("group `nobody`"));
    }

    #[test]
    fn roster_breaks_take_their_date_from_the_shift() {
        let s = scenario();
        let dir = tempfile::tempdir().unwrap();
        let roster = write(&dir, "r.csv", "agent,date,start,end,breaks,primary_skill,group\n\
            a1,2026-11-10,2026-11-10T22:00:00+08:00,2026-11-11T06:00:00+08:00,meal 01:30-02:00,general,hotline\n\
            a2,2026-11-11,2026-11-11T09:00:00+08:00,2026-11-11T18:00:00+08:00,break 10:30-10:45; lunch 12:30-13:30,returns,chat-returns\n");
        let shifts = read_roster(&roster, &s, None).unwrap();
        assert_eq!(
            shifts[0].breaks[0].0.to_rfc3339(),
            "2026-11-11T01:30:00+08:00"
        );
        assert_eq!(shifts[1].breaks.len(), 2);
        assert_eq!(
            shifts[1].breaks[1].1.to_rfc3339(),
            "2026-11-11T13:30:00+08:00"
        );
        assert_eq!(shifts[1].skills, s.group("chat-returns").unwrap().skills);

        let no_group = write(
            &dir,
            "n.csv",
            "agent,date,start,end,breaks,primary_skill\n\
            a1,2026-11-11,2026-11-11T09:00:00+08:00,2026-11-11T18:00:00+08:00,,general\n",
        );
        let e = read_roster(&no_group, &s, None).unwrap_err().to_string();
        assert!(
            e.contains("n.csv:2: agent `a1`: the roster has no group column"),
            "{e}"
        );
        let agents = write(
            &dir,
            "a.csv",
            "id,name,group,skills,languages\na1,Li,hotline,general:5;returns:2,zh;en\n",
        );
        let agents = read_agents(&agents).unwrap();
        let shifts = read_roster(&no_group, &s, Some(&agents)).unwrap();
        assert_eq!(shifts[0].group, "hotline");
        assert_eq!(shifts[0].skills.len(), 2);
        assert_eq!(
            shifts[0].languages,
            vec![Language::new("zh"), Language::new("en")]
        );

        let bad = write(&dir, "b.csv", "agent,date,start,end,breaks,primary_skill,group\n\
            a1,2026-11-11,2026-11-11T09:00:00+08:00,2026-11-11T18:00:00+08:00,lunch at noon,general,hotline\n");
        let e = read_roster(&bad, &s, None).unwrap_err().to_string();
        assert!(
            e.contains("b.csv:2: breaks: expected a break like `lunch 11:00-12:00`"),
            "{e}"
        );
    }
}
