//! The named-agents file the roster reads, and a deterministic generator for it.
//!
//! Format (`agents.csv`, one agent a row):
//!
//! ```text
//! id,name,group,skills,languages,min_weekly_hours,max_weekly_hours,unavailable,preferred_shifts,preferred_days_off
//! A0001,王伟,chat-core,presales:4;aftersales:4;returns:3,zh,32,48,2026-11-12,early;day,sat;sun
//! ```
//!
//! `skills` is `skill:proficiency` pairs (1–5), lists are `;`-separated and may be empty,
//! `unavailable` holds dates (leave, training), `preferred_shifts` template ids best first,
//! `preferred_days_off` weekdays as `mon`…`sun` (or 0–6, Monday = 0). Every reference is checked
//! against the scenario; the first bad row is reported with its line.

use std::collections::HashSet;
use std::path::Path;

use chrono::{Datelike, Duration, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::csv_rows::{CsvFile, CsvRowsError};
use crate::scenario::Scenario;
use peakcrew_core::model::{AgentProfile, Contract, Language, Proficiency, Skill, SkillLevel};

#[derive(Debug, thiserror::Error)]
pub enum AgentsError {
    /// Unreadable, or a row that is wrong: `FILE:LINE: FIELD: ...`.
    #[error(transparent)]
    File(#[from] CsvRowsError),
    #[error("{file}: no agents")]
    Empty { file: String },
}

const HEADER: [&str; 10] = [
    "id",
    "name",
    "group",
    "skills",
    "languages",
    "min_weekly_hours",
    "max_weekly_hours",
    "unavailable",
    "preferred_shifts",
    "preferred_days_off",
];

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn list(s: &str) -> impl Iterator<Item = &str> {
    s.split(';').map(str::trim).filter(|x| !x.is_empty())
}

/// Reads and checks an agents file against a scenario.
pub fn read_agents(path: &Path, scenario: &Scenario) -> Result<Vec<AgentProfile>, AgentsError> {
    agents_from(CsvFile::open(path)?, scenario)
}

/// Parses agents CSV text; `file` names it in errors.
pub fn parse_agents(
    text: &str,
    file: &str,
    scenario: &Scenario,
) -> Result<Vec<AgentProfile>, AgentsError> {
    agents_from(CsvFile::from_reader(text.as_bytes(), file)?, scenario)
}

fn agents_from<R: std::io::Read>(
    mut csv: CsvFile<R>,
    scenario: &Scenario,
) -> Result<Vec<AgentProfile>, AgentsError> {
    csv.expect_header(&HEADER)?;
    let skills: HashSet<&str> = scenario.skills.iter().map(|s| s.id.as_str()).collect();
    let languages: HashSet<&str> = scenario.languages.iter().map(|l| l.id.as_str()).collect();
    let templates: HashSet<&str> = scenario
        .shifts
        .templates
        .iter()
        .map(|t| t.id.as_str())
        .collect();
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    while let Some(rec) = csv.next_record() {
        let rec = rec?;
        let err = |field: &str, message: String| {
            AgentsError::File(csv.error(rec.line, format!("{field}: {message}")))
        };
        let id = rec[0].trim().to_string();
        if id.is_empty() {
            return Err(err("id", "expected an agent id, found nothing".into()));
        }
        if !seen.insert(id.clone()) {
            return Err(err("id", format!("`{id}` appears twice")));
        }
        let group = rec[2].trim();
        if scenario.group(group).is_none() {
            return Err(err(
                "group",
                format!(
                    "unknown group `{group}`; the scenario's groups are {}",
                    scenario
                        .groups
                        .iter()
                        .map(|g| g.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let mut agent_skills = Vec::new();
        for item in list(&rec[3]) {
            let (skill, level) = item.split_once(':').ok_or_else(|| {
                err(
                    "skills",
                    format!("expected `skill:proficiency` like `returns:4`, found `{item}`"),
                )
            })?;
            if !skills.contains(skill) {
                return Err(err("skills", format!("unknown skill `{skill}`")));
            }
            let level: u8 = level.parse().map_err(|_| {
                err(
                    "skills",
                    format!("expected a proficiency from 1 to 5, found `{level}`"),
                )
            })?;
            let proficiency = Proficiency::new(level).map_err(|m| err("skills", m))?;
            agent_skills.push(SkillLevel {
                skill: Skill::new(skill),
                proficiency,
            });
        }
        if agent_skills.is_empty() {
            return Err(err("skills", "expected at least one skill".into()));
        }
        let mut agent_languages = Vec::new();
        for l in list(&rec[4]) {
            if !languages.contains(l) {
                return Err(err("languages", format!("unknown language `{l}`")));
            }
            agent_languages.push(Language::new(l));
        }
        if agent_languages.is_empty() {
            return Err(err("languages", "expected at least one language".into()));
        }
        let hours = |i: usize, field: &str| -> Result<f64, AgentsError> {
            rec[i]
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|h| h.is_finite() && *h >= 0.0 && *h <= 168.0)
                .ok_or_else(|| {
                    err(
                        field,
                        format!("expected hours from 0 to 168, found `{}`", &rec[i]),
                    )
                })
        };
        let min_weekly_hours = hours(5, "min_weekly_hours")?;
        let max_weekly_hours = hours(6, "max_weekly_hours")?;
        if max_weekly_hours < min_weekly_hours {
            return Err(err(
                "max_weekly_hours",
                format!("{max_weekly_hours} is below min_weekly_hours {min_weekly_hours}"),
            ));
        }
        let mut unavailable = Vec::new();
        for d in list(&rec[7]) {
            unavailable.push(NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                err(
                    "unavailable",
                    format!("expected dates like 2026-11-11, found `{d}`"),
                )
            })?);
        }
        let mut preferred_shifts = Vec::new();
        for t in list(&rec[8]) {
            if !templates.contains(t) {
                return Err(err(
                    "preferred_shifts",
                    format!("unknown shift template `{t}`"),
                ));
            }
            preferred_shifts.push(t.to_string());
        }
        let mut preferred_days_off = Vec::new();
        for d in list(&rec[9]) {
            let day = WEEKDAYS
                .iter()
                .position(|w| w.eq_ignore_ascii_case(d))
                .or_else(|| d.parse::<usize>().ok().filter(|&n| n < 7))
                .ok_or_else(|| {
                    err(
                        "preferred_days_off",
                        format!("expected mon…sun or 0–6, found `{d}`"),
                    )
                })?;
            preferred_days_off.push(day as u8);
        }
        out.push(AgentProfile {
            id,
            name: rec[1].trim().to_string(),
            group: group.to_string(),
            skills: agent_skills,
            languages: agent_languages,
            contract: Contract {
                min_weekly_hours,
                max_weekly_hours,
            },
            unavailable,
            preferred_shifts,
            preferred_days_off,
        });
    }
    if out.is_empty() {
        return Err(AgentsError::Empty {
            file: csv.file().to_string(),
        });
    }
    Ok(out)
}

/// Writes agents in the format [`read_agents`] reads.
pub fn write_agents(agents: &[AgentProfile], out: impl std::io::Write) -> std::io::Result<()> {
    let join = |items: Vec<String>| items.join(";");
    let rows = agents.iter().map(|a| {
        [
            a.id.clone(),
            a.name.clone(),
            a.group.clone(),
            join(
                a.skills
                    .iter()
                    .map(|s| format!("{}:{}", s.skill, s.proficiency.get()))
                    .collect(),
            ),
            join(a.languages.iter().map(|l| l.to_string()).collect()),
            crate::schedule::files::fmt_num(a.contract.min_weekly_hours),
            crate::schedule::files::fmt_num(a.contract.max_weekly_hours),
            join(a.unavailable.iter().map(|d| d.to_string()).collect()),
            join(a.preferred_shifts.clone()),
            join(
                a.preferred_days_off
                    .iter()
                    .map(|&d| WEEKDAYS[d as usize % 7].to_string())
                    .collect(),
            ),
        ]
    });
    crate::csv_rows::write_records(out, HEADER, rows)
}

const SURNAMES: [&str; 40] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "林", "罗", "高", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "潘", "袁", "蔡", "蒋", "余",
];
const GIVEN: [&str; 48] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "玲", "红", "鑫", "宇", "浩", "婷", "雪", "琳",
    "晨", "欣", "怡", "佳", "俊", "凯", "思", "雨", "子", "梦", "嘉", "博", "文", "晓", "慧", "颖",
];

/// Named agents for every group of a scenario, deterministic in `seed`: the group's headcount of
/// agents with Chinese names, the group's languages and contract, proficiencies around the
/// group's (±1), about one in six with an extra skill at a trainee level, a few with a day of
/// leave in the horizon, and preferences — one or two favourite templates among those the group
/// may work (night work is rarely a favourite) and most wanting a weekend day off.
pub fn generate_agents(scenario: &Scenario, seed: u64) -> Vec<AgentProfile> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xA6E7_5EED);
    let horizon: Vec<NaiveDate> = (0..scenario.horizon.days)
        .map(|d| scenario.horizon.start + Duration::days(d as i64))
        .collect();
    let mut out = Vec::new();
    let mut number = 0;
    for group in &scenario.groups {
        let templates: Vec<&peakcrew_core::model::ShiftTemplate> = scenario
            .shifts
            .templates
            .iter()
            .filter(|t| group.shift_templates.is_empty() || group.shift_templates.contains(&t.id))
            .collect();
        let contract = group
            .contract
            .clone()
            .unwrap_or_else(|| scenario.shifts.contract.clone());
        for _ in 0..group.headcount {
            number += 1;
            let given: String = (0..rng.random_range(1..=2))
                .map(|_| GIVEN[rng.random_range(0..GIVEN.len())])
                .collect();
            let name = format!("{}{}", SURNAMES[rng.random_range(0..SURNAMES.len())], given);
            let mut skills: Vec<SkillLevel> = group
                .skills
                .iter()
                .map(|s| {
                    let shift: i32 = match rng.random_range(0..10) {
                        0..=5 => 0,
                        6 | 7 => -1,
                        _ => 1,
                    };
                    let level = (s.proficiency.get() as i32 + shift).clamp(1, 5) as u8;
                    SkillLevel {
                        skill: s.skill.clone(),
                        proficiency: Proficiency::new(level).unwrap_or(s.proficiency),
                    }
                })
                .collect();
            let others: Vec<&crate::scenario::Declared> = scenario
                .skills
                .iter()
                .filter(|d| !group.has_skill(&Skill::new(d.id.as_str())))
                .collect();
            if !others.is_empty() && rng.random_range(0..6) == 0 {
                let extra = others[rng.random_range(0..others.len())];
                skills.push(SkillLevel {
                    skill: Skill::new(extra.id.as_str()),
                    proficiency: Proficiency::new(rng.random_range(1..=2))
                        .unwrap_or(Proficiency::MIN),
                });
            }
            let unavailable = if !group.temporary && rng.random_range(0..16) == 0 {
                vec![horizon[rng.random_range(0..horizon.len())]]
            } else {
                Vec::new()
            };
            let weight = |t: &peakcrew_core::model::ShiftTemplate| {
                let start = t.start_minutes(scenario.interval_minutes);
                let late = start
                    .iter()
                    .any(|&s| s + t.length_minutes > 24 * 60 || s >= 20 * 60);
                if late {
                    1
                } else {
                    6
                }
            };
            let mut preferred_shifts = Vec::new();
            let wanted = match rng.random_range(0..10) {
                0 => 0,
                1..=6 => 1,
                _ => 2,
            };
            for _ in 0..wanted.min(templates.len()) {
                let pool: Vec<&&peakcrew_core::model::ShiftTemplate> = templates
                    .iter()
                    .filter(|t| !preferred_shifts.contains(&t.id))
                    .collect();
                let total: u32 = pool.iter().map(|t| weight(t)).sum();
                let mut pick = rng.random_range(0..total.max(1));
                for t in pool {
                    if pick < weight(t) {
                        preferred_shifts.push(t.id.clone());
                        break;
                    }
                    pick -= weight(t);
                }
            }
            let mut preferred_days_off: Vec<u8> = match rng.random_range(0..10) {
                0..=3 => vec![rng.random_range(5..=6)],
                4 | 5 => vec![5, 6],
                6..=8 => vec![rng.random_range(0..5)],
                _ => Vec::new(),
            };
            preferred_days_off.sort_unstable();
            out.push(AgentProfile {
                id: format!("A{number:04}"),
                name,
                group: group.id.clone(),
                skills,
                languages: group.languages.clone(),
                contract: contract.clone(),
                unavailable,
                preferred_shifts,
                preferred_days_off,
            });
        }
    }
    // Weekday of each leave day is irrelevant to the generator; keep dates sorted for reading.
    for a in &mut out {
        a.unavailable.sort_by_key(|d| (d.year(), d.ordinal()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario() -> Scenario {
        let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
            .join("scenarios/double11.toml");
        Scenario::load(&path).unwrap()
    }

    #[test]
    fn generated_agents_round_trip_and_are_deterministic() {
        let s = scenario();
        let a = generate_agents(&s, 11);
        assert_eq!(
            a.len() as u32,
            s.groups.iter().map(|g| g.headcount).sum::<u32>()
        );
        assert_eq!(a, generate_agents(&s, 11));
        assert_ne!(a, generate_agents(&s, 12));
        let mut buf = Vec::new();
        write_agents(&a, &mut buf).unwrap();
        let back = parse_agents(std::str::from_utf8(&buf).unwrap(), "a.csv", &s).unwrap();
        assert_eq!(back, a);
        let extra = a
            .iter()
            .filter(|x| {
                let g = s.group(&x.group).unwrap();
                x.skills.iter().any(|k| !g.has_skill(&k.skill))
            })
            .count();
        assert!(
            extra > 50 && extra < 200,
            "{extra} agents with an extra skill"
        );
    }

    #[test]
    fn the_committed_agents_file_is_the_generators_output() {
        let s = scenario();
        let path = s.resolve(s.agents_file.as_deref().unwrap());
        let committed = read_agents(&path, &s).unwrap();
        assert_eq!(committed, generate_agents(&s, s.history.seed));
    }

    #[test]
    fn bad_rows_name_their_line_and_field() {
        let s = scenario();
        let head = HEADER.join(",");
        let ok = "A1,Li,chat-core,presales:4,zh,32,48,,early,sat";
        let cases = [
            (
                format!("{head}\n{ok}\nA2,Wu,nope,presales:4,zh,32,48,,,\n"),
                ":3: group",
            ),
            (
                format!("{head}\nA2,Wu,chat-core,presales:9,zh,32,48,,,\n"),
                ":2: skills",
            ),
            (
                format!("{head}\nA2,Wu,chat-core,presales:4,fr,32,48,,,\n"),
                ":2: languages",
            ),
            (
                format!("{head}\nA2,Wu,chat-core,presales:4,zh,40,30,,,\n"),
                ":2: max_weekly_hours",
            ),
            (
                format!("{head}\nA2,Wu,chat-core,presales:4,zh,32,48,11/11,,\n"),
                ":2: unavailable",
            ),
            (
                format!("{head}\nA2,Wu,chat-core,presales:4,zh,32,48,,brunch,\n"),
                ":2: preferred_shifts",
            ),
            (
                format!("{head}\nA2,Wu,chat-core,presales:4,zh,32,48,,,funday\n"),
                ":2: preferred_days_off",
            ),
            (format!("{head}\n{ok}\n{ok}\n"), ":3: id"),
            ("id,name\n".to_string(), ":1: expected the header"),
        ];
        for (text, want) in cases {
            let e = parse_agents(&text, "a.csv", &s).unwrap_err().to_string();
            assert!(e.contains(want), "{e} should contain {want}");
        }
    }
}
