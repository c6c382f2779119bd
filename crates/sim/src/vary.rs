//! What-if variations of a simulation's inputs, and grids of them.
//!
//! A variation is written `KEY=VALUE`:
//!
//! | key | value | effect |
//! |---|---|---|
//! | `volume` or `volume.QUEUE` | `+30%`, `-10%`, `x1.5` | multiplies expected contacts (all queues, or one) |
//! | `aht` or `aht.QUEUE` | `+10%`, `x0.9` | multiplies mean handle times |
//! | `agents` or `agents.GROUP` | `-10`, `+5`, `-10%` | removes agents (spread evenly over the group's agents in id order, all their shifts) or adds copies of the group's agents (the i-th new agent works the shifts of the group's i-th agent) |
//! | `cross-training` | `GROUP:SKILL:LEVEL` | every agent of GROUP holds SKILL at LEVEL (1–5), added or replaced |
//!
//! A value list `KEY=V1,V2,…` is one axis of a sweep; several axes make a grid (every
//! combination). [`parse_grid`] returns the baseline (no variation) first, then the grid in
//! row-major order of the axes as given.

use std::collections::{BTreeMap, BTreeSet};

use super::input::{ArrivalRate, RosterShift, SimError};
use peakcrew_core::model::{Proficiency, Skill, SkillLevel};
use peakcrew_core::routing::Catalog;

/// One change to the inputs.
#[derive(Debug, Clone, PartialEq)]
pub enum Variation {
    Volume {
        queue: Option<String>,
        factor: f64,
    },
    Aht {
        queue: Option<String>,
        factor: f64,
    },
    Agents {
        group: Option<String>,
        change: AgentChange,
    },
    CrossTraining {
        group: String,
        skill: Skill,
        level: Proficiency,
    },
}

/// How many agents an `agents` variation adds (positive) or removes (negative).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AgentChange {
    Count(i64),
    Percent(f64),
}

/// A set of variations applied together, with the text each came from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Variant {
    pub variations: Vec<(String, Variation)>,
}

fn err(text: &str, message: impl Into<String>) -> SimError {
    SimError::Variation {
        text: text.to_string(),
        message: message.into(),
    }
}

/// `+30%`, `-10%`, `30%` or `x1.3` as a multiplier.
fn factor(text: &str, value: &str) -> Result<f64, SimError> {
    let f = if let Some(x) = value.strip_prefix(['x', '×', '*']) {
        x.trim().parse::<f64>().ok()
    } else if let Some(p) = value.strip_suffix('%') {
        p.trim().parse::<f64>().ok().map(|p| 1.0 + p / 100.0)
    } else {
        None
    };
    match f {
        Some(f) if (0.0..=1000.0).contains(&f) => Ok(f),
        Some(f) => Err(err(text, format!("the factor {f} is outside 0 to 1000"))),
        None => Err(err(
            text,
            format!("expected a change such as +30%, -10% or x1.5, found `{value}`"),
        )),
    }
}

impl Variation {
    /// Parses one `KEY=VALUE`.
    pub fn parse(text: &str) -> Result<Variation, SimError> {
        let (key, value) = text
            .split_once('=')
            .ok_or_else(|| err(text, "expected KEY=VALUE, e.g. volume=+30%"))?;
        let (key, value) = (key.trim(), value.trim());
        let (head, target) = match key.split_once('.') {
            Some((h, t)) if !t.is_empty() => (h, Some(t.to_string())),
            Some(_) => return Err(err(text, "expected a name after the dot")),
            None => (key, None),
        };
        match head {
            "volume" => Ok(Variation::Volume {
                queue: target,
                factor: factor(text, value)?,
            }),
            "aht" => Ok(Variation::Aht {
                queue: target,
                factor: factor(text, value)?,
            }),
            "agents" => {
                let change = if let Some(p) = value.strip_suffix('%') {
                    let p: f64 = p.trim().parse().map_err(|_| {
                        err(
                            text,
                            format!("expected a percentage such as -10%, found `{value}`"),
                        )
                    })?;
                    if !(-100.0..=1000.0).contains(&p) {
                        return Err(err(text, format!("expected -100% to +1000%, found {p}%")));
                    }
                    AgentChange::Percent(p)
                } else {
                    let c: i64 = value
                        .trim_start_matches('+')
                        .parse()
                        .map_err(|_| err(text, format!("expected a whole number of agents such as -10 or +5, found `{value}`")))?;
                    AgentChange::Count(c)
                };
                Ok(Variation::Agents {
                    group: target,
                    change,
                })
            }
            "cross-training" => {
                if target.is_some() {
                    return Err(err(text, "write cross-training=GROUP:SKILL:LEVEL"));
                }
                let parts: Vec<&str> = value.split(':').map(str::trim).collect();
                let [group, skill, level] = parts[..] else {
                    return Err(err(
                        text,
                        format!(
                            "expected GROUP:SKILL:LEVEL, e.g. hotline:returns:3, found `{value}`"
                        ),
                    ));
                };
                let level: u8 = level.parse().map_err(|_| {
                    err(
                        text,
                        format!("expected a level from 1 to 5, found `{level}`"),
                    )
                })?;
                let level = Proficiency::new(level).map_err(|m| err(text, m))?;
                if group.is_empty() || skill.is_empty() {
                    return Err(err(
                        text,
                        "expected GROUP:SKILL:LEVEL with a group and a skill",
                    ));
                }
                Ok(Variation::CrossTraining {
                    group: group.to_string(),
                    skill: Skill::new(skill),
                    level,
                })
            }
            other => Err(err(
                text,
                format!("unknown key `{other}`: expected volume, aht, agents or cross-training"),
            )),
        }
    }
}

/// Parses `--vary` arguments into the baseline followed by every combination of the axes.
pub fn parse_grid(specs: &[String]) -> Result<Vec<Variant>, SimError> {
    let mut axes: Vec<Vec<(String, Variation)>> = Vec::new();
    for spec in specs {
        let (key, values) = spec
            .split_once('=')
            .ok_or_else(|| err(spec, "expected KEY=VALUE[,VALUE...], e.g. volume=+10%,+30%"))?;
        let mut axis = Vec::new();
        for value in values.split(',').map(str::trim).filter(|v| !v.is_empty()) {
            let text = format!("{}={value}", key.trim());
            axis.push((text.clone(), Variation::parse(&text)?));
        }
        if axis.is_empty() {
            return Err(err(spec, "expected at least one value after `=`"));
        }
        axes.push(axis);
    }
    let mut grid = vec![Variant::baseline()];
    if axes.is_empty() {
        return Ok(grid);
    }
    let mut combos: Vec<Vec<(String, Variation)>> = vec![Vec::new()];
    for axis in &axes {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                axis.iter().map(move |v| {
                    let mut c = c.clone();
                    c.push(v.clone());
                    c
                })
            })
            .collect();
    }
    if combos.len() > 10_000 {
        return Err(SimError::TooLarge(format!(
            "a sweep of {} variants",
            combos.len()
        )));
    }
    grid.extend(combos.into_iter().map(|variations| Variant { variations }));
    Ok(grid)
}

impl Variant {
    pub fn baseline() -> Variant {
        Variant::default()
    }

    pub fn is_baseline(&self) -> bool {
        self.variations.is_empty()
    }

    /// `baseline`, or the variations' texts joined by spaces.
    pub fn label(&self) -> String {
        if self.is_baseline() {
            return "baseline".into();
        }
        self.variations
            .iter()
            .map(|(t, _)| t.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// The inputs with every variation applied, in order.
    pub fn apply(
        &self,
        catalog: &Catalog,
        rates: &[ArrivalRate],
        roster: &[RosterShift],
    ) -> Result<(Vec<ArrivalRate>, Vec<RosterShift>), SimError> {
        let mut rates = rates.to_vec();
        let mut roster = roster.to_vec();
        for (text, v) in &self.variations {
            match v {
                Variation::Volume { queue, factor } | Variation::Aht { queue, factor } => {
                    if let Some(q) = queue {
                        if !catalog.queues.iter().any(|c| &c.id == q) {
                            return Err(err(text, format!("no queue `{q}` in the scenario")));
                        }
                    }
                    let volume = matches!(v, Variation::Volume { .. });
                    for r in rates
                        .iter_mut()
                        .filter(|r| queue.as_ref().is_none_or(|q| &r.queue == q))
                    {
                        if volume {
                            r.contacts *= factor;
                        } else {
                            r.aht_seconds *= factor;
                        }
                    }
                }
                Variation::Agents { group, change } => {
                    roster = change_agents(text, roster, group.as_deref(), *change)?;
                }
                Variation::CrossTraining {
                    group,
                    skill,
                    level,
                } => {
                    let known = catalog.skills.contains(skill)
                        || catalog.queues.iter().any(|q| &q.skill == skill);
                    if !known {
                        return Err(err(text, format!("no skill `{skill}` in the scenario")));
                    }
                    let mut found = false;
                    for s in roster.iter_mut().filter(|s| &s.group == group) {
                        found = true;
                        match s.skills.iter_mut().find(|l| &l.skill == skill) {
                            Some(l) => l.proficiency = *level,
                            None => s.skills.push(SkillLevel {
                                skill: skill.clone(),
                                proficiency: *level,
                            }),
                        }
                    }
                    if !found {
                        return Err(err(
                            text,
                            format!("no agent of group `{group}` in the roster"),
                        ));
                    }
                }
            }
        }
        Ok((rates, roster))
    }
}

fn change_agents(
    text: &str,
    roster: Vec<RosterShift>,
    group: Option<&str>,
    change: AgentChange,
) -> Result<Vec<RosterShift>, SimError> {
    let members: Vec<String> = roster
        .iter()
        .filter(|s| group.is_none_or(|g| s.group == g))
        .map(|s| s.agent.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let count = members.len() as i64;
    if count == 0 {
        return Err(err(
            text,
            match group {
                Some(g) => format!("no agent of group `{g}` in the roster"),
                None => "the roster has no agents".to_string(),
            },
        ));
    }
    let delta = match change {
        AgentChange::Count(c) => c,
        AgentChange::Percent(p) => (count as f64 * p / 100.0).round() as i64,
    };
    if delta < -count {
        return Err(err(
            text,
            format!("cannot remove {} agents: there are {count}", -delta),
        ));
    }
    if delta > 1_000_000 {
        return Err(err(
            text,
            format!("cannot add {delta} agents: at most 1000000"),
        ));
    }
    if delta < 0 {
        let m = (-delta) as usize;
        // Evenly spaced over the members, so a cut does not hit one shift pattern only.
        let gone: BTreeSet<&str> = (0..m)
            .map(|i| members[((2 * i + 1) * members.len()) / (2 * m)].as_str())
            .collect();
        return Ok(roster
            .into_iter()
            .filter(|s| !gone.contains(s.agent.as_str()))
            .collect());
    }
    let mut shifts_of: BTreeMap<&str, Vec<&RosterShift>> = BTreeMap::new();
    for s in &roster {
        shifts_of.entry(s.agent.as_str()).or_default().push(s);
    }
    let taken: BTreeSet<&str> = shifts_of.keys().copied().collect();
    let label = group.unwrap_or("agent");
    let mut added = Vec::new();
    let mut serial = 0usize;
    for i in 0..delta as usize {
        let model = members[i % members.len()].as_str();
        let name = loop {
            serial += 1;
            let name = format!("{label}+{serial}");
            if !taken.contains(name.as_str()) {
                break name;
            }
        };
        for s in &shifts_of[model] {
            added.push(RosterShift {
                agent: name.clone(),
                ..(*s).clone()
            });
        }
    }
    let mut roster = roster;
    roster.extend(added);
    Ok(roster)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;
    use peakcrew_core::model::Language;

    fn shift(agent: &str, group: &str, hour: u32) -> RosterShift {
        let t = |h: u32| {
            DateTime::parse_from_rfc3339(&format!("2026-11-11T{h:02}:00:00+08:00")).unwrap()
        };
        RosterShift {
            agent: agent.into(),
            group: group.into(),
            skills: vec![SkillLevel {
                skill: Skill::new("general"),
                proficiency: Proficiency::new(4).unwrap(),
            }],
            languages: vec![Language::new("zh")],
            start: t(hour),
            end: t(hour + 8),
            breaks: vec![],
        }
    }

    #[test]
    fn parses_every_key_and_rejects_bad_values() {
        assert_eq!(
            Variation::parse("volume=+30%").unwrap(),
            Variation::Volume {
                queue: None,
                factor: 1.3
            }
        );
        assert_eq!(
            Variation::parse("aht.zh-hotline=x0.9").unwrap(),
            Variation::Aht {
                queue: Some("zh-hotline".into()),
                factor: 0.9
            }
        );
        assert_eq!(
            Variation::parse("agents.hotline=-10").unwrap(),
            Variation::Agents {
                group: Some("hotline".into()),
                change: AgentChange::Count(-10)
            }
        );
        assert_eq!(
            Variation::parse("agents=-5%").unwrap(),
            Variation::Agents {
                group: None,
                change: AgentChange::Percent(-5.0)
            }
        );
        assert!(matches!(
            Variation::parse("cross-training=hotline:returns:3").unwrap(),
            Variation::CrossTraining { ref group, ref skill, level } if group == "hotline" && skill.as_str() == "returns" && level.get() == 3
        ));
        for bad in [
            "volume",
            "volume=30",
            "volume=-200%",
            "agents=ten",
            "cross-training=a:b",
            "cross-training=a:b:9",
            "speed=+1%",
        ] {
            let e = Variation::parse(bad).unwrap_err().to_string();
            assert!(e.contains(bad), "{e}");
        }
    }

    #[test]
    fn grid_is_baseline_then_every_combination() {
        let g = parse_grid(&["volume=+10%,+30%".into(), "agents.hotline=0,-10".into()]).unwrap();
        let labels: Vec<String> = g.iter().map(Variant::label).collect();
        assert_eq!(
            labels,
            vec![
                "baseline",
                "volume=+10% agents.hotline=0",
                "volume=+10% agents.hotline=-10",
                "volume=+30% agents.hotline=0",
                "volume=+30% agents.hotline=-10",
            ]
        );
    }

    #[test]
    fn agents_are_removed_evenly_and_added_as_copies() {
        let roster: Vec<RosterShift> = (0..10)
            .map(|i| shift(&format!("a{i}"), if i < 8 { "g" } else { "h" }, i))
            .collect();
        let out = change_agents("t", roster.clone(), Some("g"), AgentChange::Count(-2)).unwrap();
        let names: Vec<&str> = out.iter().map(|s| s.agent.as_str()).collect();
        assert_eq!(names, vec!["a0", "a1", "a3", "a4", "a5", "a7", "a8", "a9"]);
        let out = change_agents("t", roster.clone(), Some("h"), AgentChange::Count(3)).unwrap();
        assert_eq!(out.len(), 13);
        assert_eq!(out[10].agent, "h+1");
        assert_eq!(out[10].start, roster[8].start);
        assert_eq!(out[11].start, roster[9].start);
        assert_eq!(out[12].start, roster[8].start);
        assert!(change_agents("t", roster.clone(), Some("h"), AgentChange::Count(-3)).is_err());
        assert!(change_agents("t", roster, Some("x"), AgentChange::Count(1)).is_err());
    }
}
