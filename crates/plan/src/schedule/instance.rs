//! The discrete instance both the shift plan and the roster work on: the interval grid, the plan
//! days (with the lead-in evening), every shift a template allows on every day, every break a
//! shift may take, and the pools agents are rostered in.
//!
//! Times are whole minutes from the first instant of the horizon (`t0`, local midnight of the
//! first day, in UTC), so a night shift, a DST day and the interval grid all live on one line.
//!
//! Invariants the formulation relies on (checked by [`Instance::new`]):
//! * every allowed shift start is on the interval grid, so the break windows of all starts of a
//!   template lie on one lattice (needed by the implicit break model);
//! * the break rules of a template are ordered and their windows cannot overlap, and every break
//!   ends inside its shift;
//! * within one start block of a template any two starts on consecutive days leave the minimum
//!   rest (`span ≤ 24 h − length − rest`), which is what makes a pool rest-safe.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};

use super::ScheduleError;
use crate::scenario::Scenario;
use peakcrew_core::model::{local_to_utc, Contract, Interval};

pub(crate) const MINUTES_PER_DAY: i64 = 24 * 60;

/// A queue and the groups that can serve it (skill and language both held).
#[derive(Debug, Clone)]
pub struct QueueInfo {
    pub id: String,
    pub skill: String,
    pub language: String,
    pub served_by: Vec<usize>,
}

/// Queues served by exactly the same groups. The plan allocates agents to classes: with one
/// understaffing price for every queue, splitting a class's agents over its queues is free, so
/// this is exact and saves allocation variables (hotline, email and social share one class in
/// the bundled scenario).
#[derive(Debug, Clone)]
pub struct QueueClass {
    pub queues: Vec<usize>,
    pub served_by: Vec<usize>,
}

/// A group as the plan sees it.
#[derive(Debug, Clone)]
pub struct GroupInfo {
    pub id: String,
    pub headcount: u32,
    pub cost_per_hour: f64,
    pub temporary: bool,
    pub contract: Contract,
    /// Queues this group can serve.
    pub serves: Vec<usize>,
    /// Queue classes this group can serve.
    pub classes: Vec<usize>,
    /// Templates this group may work.
    pub templates: Vec<usize>,
    /// Plan days on which the group can work (temporary staff availability).
    pub available: Vec<bool>,
}

/// A break rule of a template, with its window as offsets from the shift start.
#[derive(Debug, Clone)]
pub struct BreakInfo {
    pub name: String,
    pub minutes: i64,
    pub paid: bool,
    pub earliest: i64,
    pub latest: i64,
}

#[derive(Debug, Clone)]
pub struct TemplateInfo {
    pub id: String,
    pub length: i64,
    pub paid_minutes: i64,
    pub breaks: Vec<BreakInfo>,
    /// Allowed starts, minutes after local midnight of the shift's day (may exceed 24 h).
    pub starts: Vec<i64>,
    /// Start blocks: consecutive runs of `starts` within which any two starts on consecutive days
    /// leave the minimum rest. Indices into `starts`.
    pub blocks: Vec<Vec<usize>>,
    /// True when not even the same start can be worked on two consecutive days.
    pub no_consecutive_days: bool,
}

impl TemplateInfo {
    pub fn block_of(&self, start_minute: i64) -> Option<usize> {
        let i = self.starts.iter().position(|&s| s == start_minute)?;
        self.blocks.iter().position(|b| b.contains(&i))
    }
}

/// A day shifts may start on. Day 0 of the horizon is `index == lead_in as usize`.
#[derive(Debug, Clone)]
pub struct PlanDay {
    pub date: NaiveDate,
    /// The evening before the horizon: only starts whose shift reaches into the horizon.
    pub lead_in: bool,
    /// Contract week the day counts in (the lead-in counts in week 0).
    pub week: usize,
}

/// One template started at one time on one plan day (independent of the group).
#[derive(Debug, Clone)]
pub struct Slot {
    pub template: usize,
    pub day: usize,
    /// Minutes after local midnight of the day.
    pub start_minute: i64,
    pub block: usize,
    /// Minutes from `t0`.
    pub start: i64,
    pub end: i64,
    /// Horizon intervals the shift overlaps, with the fraction of the interval it covers.
    pub cover: Vec<(usize, f64)>,
}

/// One break rule started at one time, for shifts of one template on one day.
#[derive(Debug, Clone)]
pub struct BreakSlot {
    pub template: usize,
    pub rule: usize,
    pub day: usize,
    pub start: i64,
    pub cover: Vec<(usize, f64)>,
}

/// Shifts of one template on one day and the break times one of its rules may use, in start
/// order. Windows are nested by start (first in, first out), the structure Bechtold and Jacobs'
/// implicit break model needs.
#[derive(Debug, Clone)]
pub struct BreakSet {
    pub template: usize,
    pub rule: usize,
    pub day: usize,
    /// Slots in increasing start order.
    pub slots: Vec<usize>,
    /// Break slots in increasing time order.
    pub breaks: Vec<usize>,
}

/// Agents of one group who work one start block of one template for the whole week.
#[derive(Debug, Clone)]
pub struct Pool {
    pub group: usize,
    pub template: usize,
    pub block: usize,
    /// Slots of the pool by plan day (only days the group is available).
    pub slots_by_day: Vec<Vec<usize>>,
}

/// Working-day bounds of one agent in one pool for one week.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayBounds {
    pub min_days: u32,
    pub max_days: u32,
}

/// The whole discrete instance.
#[derive(Debug, Clone)]
pub struct Instance {
    pub tz: chrono_tz::Tz,
    pub interval_minutes: i64,
    pub t0: DateTime<Utc>,
    pub intervals: Vec<Interval>,
    /// Interval starts in minutes from `t0`, and the end of the horizon.
    pub interval_starts: Vec<i64>,
    pub horizon_end: i64,
    pub queues: Vec<QueueInfo>,
    pub classes: Vec<QueueClass>,
    pub groups: Vec<GroupInfo>,
    pub templates: Vec<TemplateInfo>,
    pub days: Vec<PlanDay>,
    pub weeks: usize,
    pub days_off_per_week: u32,
    pub max_consecutive_days: u32,
    pub min_rest_minutes: i64,
    pub slots: Vec<Slot>,
    pub break_slots: Vec<BreakSlot>,
    pub break_sets: Vec<BreakSet>,
    /// `(template, day, start_minute)` → slot.
    pub slot_index: BTreeMap<(usize, usize, i64), usize>,
}

impl Instance {
    pub fn new(scenario: &Scenario) -> Result<Instance, ScheduleError> {
        let grid = scenario.grid();
        let intervals = grid.intervals();
        let interval_minutes = scenario.interval_minutes as i64;
        let t0 = grid.day_start(scenario.horizon.start);
        let minutes_from_t0 = |t: DateTime<Utc>| (t - t0).num_minutes();
        let interval_starts: Vec<i64> =
            intervals.iter().map(|i| minutes_from_t0(i.start)).collect();
        let horizon_end = minutes_from_t0(
            grid.day_start(scenario.horizon.start + Duration::days(scenario.horizon.days as i64)),
        );

        let rules = &scenario.shifts;
        let min_rest_minutes = (rules.min_rest_hours * 60.0).round() as i64;
        let templates = rules
            .templates
            .iter()
            .map(|t| template_info(t, interval_minutes, min_rest_minutes))
            .collect::<Result<Vec<_>, _>>()?;

        // The lead-in evening exists when some shift started the day before reaches the horizon.
        let spills = templates
            .iter()
            .any(|t| t.starts.iter().any(|&s| s + t.length > MINUTES_PER_DAY));
        let mut days = Vec::new();
        if spills {
            days.push(PlanDay {
                date: scenario.horizon.start - Duration::days(1),
                lead_in: true,
                week: 0,
            });
        }
        for (i, date) in grid.dates().enumerate() {
            days.push(PlanDay {
                date,
                lead_in: false,
                week: i / 7,
            });
        }
        let weeks = (scenario.horizon.days as usize).div_ceil(7).max(1);

        let queues: Vec<QueueInfo> = scenario
            .queues
            .iter()
            .map(|q| QueueInfo {
                id: q.id.clone(),
                skill: q.skill.to_string(),
                language: q.language.to_string(),
                served_by: scenario
                    .groups
                    .iter()
                    .enumerate()
                    .filter(|(_, g)| g.has_skill(&q.skill) && g.speaks(&q.language))
                    .map(|(i, _)| i)
                    .collect(),
            })
            .collect();
        let mut classes: Vec<QueueClass> = Vec::new();
        for (qi, q) in queues.iter().enumerate() {
            match classes
                .iter_mut()
                .find(|c| !q.served_by.is_empty() && c.served_by == q.served_by)
            {
                Some(c) => c.queues.push(qi),
                None => classes.push(QueueClass {
                    queues: vec![qi],
                    served_by: q.served_by.clone(),
                }),
            }
        }
        let groups: Vec<GroupInfo> = scenario
            .groups
            .iter()
            .enumerate()
            .map(|(gi, g)| GroupInfo {
                id: g.id.clone(),
                headcount: g.headcount,
                cost_per_hour: g.cost_per_hour,
                temporary: g.temporary,
                contract: g.contract.clone().unwrap_or_else(|| rules.contract.clone()),
                serves: queues
                    .iter()
                    .enumerate()
                    .filter(|(_, q)| q.served_by.contains(&gi))
                    .map(|(i, _)| i)
                    .collect(),
                classes: classes
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.served_by.contains(&gi))
                    .map(|(i, _)| i)
                    .collect(),
                templates: if g.shift_templates.is_empty() {
                    (0..templates.len()).collect()
                } else {
                    templates
                        .iter()
                        .enumerate()
                        .filter(|(_, t)| g.shift_templates.iter().any(|id| id == &t.id))
                        .map(|(i, _)| i)
                        .collect()
                },
                available: days
                    .iter()
                    .map(|d| {
                        g.available_from.is_none_or(|from| d.date >= from)
                            && g.available_to.is_none_or(|to| d.date <= to)
                    })
                    .collect(),
            })
            .collect();

        let mut inst = Instance {
            tz: scenario.time_zone,
            interval_minutes,
            t0,
            intervals,
            interval_starts,
            horizon_end,
            queues,
            classes,
            groups,
            templates,
            days,
            weeks,
            days_off_per_week: rules.days_off_per_week,
            max_consecutive_days: rules.max_consecutive_days,
            min_rest_minutes,
            slots: Vec::new(),
            break_slots: Vec::new(),
            break_sets: Vec::new(),
            slot_index: BTreeMap::new(),
        };
        inst.build_slots();
        Ok(inst)
    }

    /// Minutes from `t0` of a local wall-clock time `minute` minutes after midnight of `date`.
    pub fn local_minute(&self, date: NaiveDate, minute: i64) -> i64 {
        let local = date.and_time(NaiveTime::MIN) + Duration::minutes(minute);
        (local_to_utc(self.tz, local) - self.t0).num_minutes()
    }

    /// The instant `minutes` after `t0`.
    pub fn instant(&self, minutes: i64) -> DateTime<Utc> {
        self.t0 + Duration::minutes(minutes)
    }

    /// Horizon intervals overlapped by `[from, to)`, with the covered fraction of each.
    pub fn cover(&self, from: i64, to: i64) -> Vec<(usize, f64)> {
        let n = self.interval_starts.len();
        let first = self
            .interval_starts
            .partition_point(|&s| s + self.interval_minutes <= from);
        let mut out = Vec::new();
        for i in first..n {
            let start = self.interval_starts[i];
            if start >= to {
                break;
            }
            let end = if i + 1 < n {
                self.interval_starts[i + 1]
            } else {
                self.horizon_end
            };
            let overlap = (end.min(to) - start.max(from)).max(0);
            if overlap > 0 {
                out.push((i, overlap as f64 / (end - start) as f64));
            }
        }
        out
    }

    fn build_slots(&mut self) {
        for (ti, t) in self.templates.clone().iter().enumerate() {
            for (di, day) in self.days.clone().iter().enumerate() {
                let mut day_slots = Vec::new();
                for (si, &s) in t.starts.iter().enumerate() {
                    let start = self.local_minute(day.date, s);
                    let end = start + t.length;
                    if day.lead_in && end <= 0 {
                        continue;
                    }
                    let block = t.blocks.iter().position(|b| b.contains(&si)).unwrap_or(0);
                    let idx = self.slots.len();
                    self.slots.push(Slot {
                        template: ti,
                        day: di,
                        start_minute: s,
                        block,
                        start,
                        end,
                        cover: self.cover(start, end),
                    });
                    self.slot_index.insert((ti, di, s), idx);
                    day_slots.push(idx);
                }
                if day_slots.is_empty() {
                    continue;
                }
                for (ri, rule) in t.breaks.iter().enumerate() {
                    // Every start is on the interval lattice, so the union of the windows is too.
                    let mut times: Vec<i64> = day_slots
                        .iter()
                        .flat_map(|&s| {
                            let start = self.slots[s].start;
                            (rule.earliest..=rule.latest)
                                .step_by(self.interval_minutes as usize)
                                .map(move |o| start + o)
                        })
                        .collect();
                    times.sort_unstable();
                    times.dedup();
                    let breaks = times
                        .into_iter()
                        .map(|b| {
                            let idx = self.break_slots.len();
                            self.break_slots.push(BreakSlot {
                                template: ti,
                                rule: ri,
                                day: di,
                                start: b,
                                cover: self.cover(b, b + rule.minutes),
                            });
                            idx
                        })
                        .collect();
                    self.break_sets.push(BreakSet {
                        template: ti,
                        rule: ri,
                        day: di,
                        slots: day_slots.clone(),
                        breaks,
                    });
                }
            }
        }
    }

    /// Slot indices of a group's pools, by plan day.
    pub fn pools(&self) -> Vec<Pool> {
        let mut pools = Vec::new();
        for (gi, g) in self.groups.iter().enumerate() {
            for &ti in &g.templates {
                for bi in 0..self.templates[ti].blocks.len() {
                    let slots_by_day = (0..self.days.len())
                        .map(|di| {
                            if !g.available[di] {
                                return Vec::new();
                            }
                            self.templates[ti].blocks[bi]
                                .iter()
                                .filter_map(|&si| {
                                    self.slot_index
                                        .get(&(ti, di, self.templates[ti].starts[si]))
                                        .copied()
                                })
                                .collect()
                        })
                        .collect();
                    pools.push(Pool {
                        group: gi,
                        template: ti,
                        block: bi,
                        slots_by_day,
                    });
                }
            }
        }
        pools
    }

    /// Plan days of a contract week.
    pub fn week_days(&self, week: usize) -> Vec<usize> {
        (0..self.days.len())
            .filter(|&d| self.days[d].week == week)
            .collect()
    }

    /// How many days an agent under `contract` may work shifts of `template` in `week`:
    /// at least ⌈min hours (prorated for a short week) / paid hours⌉, at most
    /// min(⌊max hours / paid hours⌋, 7 − days off, plan days in the week).
    pub fn day_bounds(&self, contract: &Contract, template: usize, week: usize) -> DayBounds {
        let paid = self.templates[template].paid_minutes as f64;
        let plan_days = self.week_days(week).len() as u32;
        let horizon_days = self
            .week_days(week)
            .iter()
            .filter(|&&d| !self.days[d].lead_in)
            .count() as f64;
        let share = (horizon_days / 7.0).min(1.0);
        let min_days = ((contract.min_weekly_hours * 60.0 * share / paid) - 1e-9)
            .ceil()
            .max(0.0) as u32;
        let by_hours = ((contract.max_weekly_hours * 60.0 / paid) + 1e-9)
            .floor()
            .max(0.0) as u32;
        let by_days_off = 7u32.saturating_sub(self.days_off_per_week);
        DayBounds {
            min_days,
            max_days: by_hours.min(by_days_off).min(plan_days),
        }
    }

    /// Weekday of a plan day, 0 = Monday.
    pub fn weekday(&self, day: usize) -> u8 {
        self.days[day].date.weekday().num_days_from_monday() as u8
    }

    /// The index of a plan day by date.
    pub fn day_of(&self, date: NaiveDate) -> Option<usize> {
        self.days.iter().position(|d| d.date == date)
    }

    pub fn group_index(&self, id: &str) -> Option<usize> {
        self.groups.iter().position(|g| g.id == id)
    }

    pub fn template_index(&self, id: &str) -> Option<usize> {
        self.templates.iter().position(|t| t.id == id)
    }

    pub fn queue_index(&self, id: &str) -> Option<usize> {
        self.queues.iter().position(|q| q.id == id)
    }
}

/// Checks a template against the invariants in the module doc and splits its starts into
/// rest-safe blocks.
fn template_info(
    t: &peakcrew_core::model::ShiftTemplate,
    interval_minutes: i64,
    min_rest_minutes: i64,
) -> Result<TemplateInfo, ScheduleError> {
    let err = |message: String| ScheduleError::Template {
        template: t.id.clone(),
        message,
    };
    let length = t.length_minutes as i64;
    if length <= 0 || length > MINUTES_PER_DAY {
        return Err(err(format!(
            "expected a length from 1 minute to 24 hours, found {length} minutes"
        )));
    }
    let starts: Vec<i64> = t
        .start_minutes(interval_minutes as u32)
        .into_iter()
        .map(i64::from)
        .collect();
    if let Some(&off) = starts.iter().find(|&&s| s % interval_minutes != 0) {
        return Err(err(format!(
            "start {:02}:{:02} is not on the {interval_minutes}-minute interval grid; use a start \
             window and start_step_minutes that are multiples of the interval",
            (off / 60) % 24,
            off % 60
        )));
    }
    let mut breaks: Vec<BreakInfo> = t
        .breaks
        .iter()
        .map(|b| BreakInfo {
            name: b.name.clone(),
            minutes: b.minutes as i64,
            paid: b.paid,
            earliest: b.earliest_after_start_minutes as i64,
            latest: b.latest_after_start_minutes as i64,
        })
        .collect();
    breaks.sort_by_key(|b| b.earliest);
    for b in &breaks {
        if b.minutes <= 0 {
            return Err(err(format!("break `{}` has no length", b.name)));
        }
        if b.latest < b.earliest {
            return Err(err(format!(
                "break `{}`: latest_after_start_minutes ({}) is before earliest_after_start_minutes ({})",
                b.name, b.latest, b.earliest
            )));
        }
        if b.latest + b.minutes > length {
            return Err(err(format!(
                "break `{}` may start {} minutes after the shift start and last {} minutes, past the \
                 end of a {length}-minute shift",
                b.name, b.latest, b.minutes
            )));
        }
    }
    for pair in breaks.windows(2) {
        if pair[0].latest + pair[0].minutes > pair[1].earliest {
            return Err(err(format!(
                "the windows of breaks `{}` and `{}` overlap; the plan needs each break to end \
                 before the next one's window opens",
                pair[0].name, pair[1].name
            )));
        }
    }
    let paid_minutes = t.paid_minutes() as i64;
    if paid_minutes <= 0 {
        return Err(err("the shift has no paid time".to_string()));
    }
    // Two starts s ≤ s' on consecutive days leave s + 24 h − (s' + length) of rest, in either
    // order the worst case is the later start first.
    let budget = MINUTES_PER_DAY - length - min_rest_minutes;
    let mut blocks: Vec<Vec<usize>> = Vec::new();
    for (i, &s) in starts.iter().enumerate() {
        match blocks.last_mut() {
            Some(b) if budget >= 0 && s - starts[b[0]] <= budget => b.push(i),
            _ => blocks.push(vec![i]),
        }
    }
    Ok(TemplateInfo {
        id: t.id.clone(),
        length,
        paid_minutes,
        breaks,
        starts,
        blocks,
        no_consecutive_days: budget < 0,
    })
}
