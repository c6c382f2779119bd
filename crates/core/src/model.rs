//! The domain model every stage shares: channels, skills, languages, queues and their service
//! targets, agent groups and named agents, shift templates and labor rules, the event calendar and
//! the time-zone-aware interval grid.
//!
//! These are plain data with serde derives. Validation that needs the whole scenario (cross
//! references, spans for error messages) lives in [`crate::scenario`]; checks that a single value
//! can do on its own (a proficiency is 1–5) live in the type's constructor here, so no other
//! module ever sees an invalid value.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Deserializer, Serialize};

/// Default stretch of a chat's duration per extra concurrent chat: an agent holding k chats
/// at once works each more slowly, so a chat lasts AHT × (1 + stretch × (k − 1)). Staffing
/// sizes chat queues with it and the simulator makes the same assumption.
pub const DEFAULT_CHAT_STRETCH: f64 = 0.25;

/// Wall-clock duration multiplier of a chat handled at concurrency `k`: 1 + stretch × (k − 1).
pub fn chat_stretch(k: u32, stretch: f64) -> f64 {
    1.0 + stretch * (k.max(1) - 1) as f64
}

/// How a contact reaches the center. Phone and in-person are synchronous, one at a time; chat and
/// social are concurrent text; email is deferred work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Channel {
    Phone,
    Chat,
    Email,
    Social,
    InPerson,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Phone,
        Channel::Chat,
        Channel::Email,
        Channel::Social,
        Channel::InPerson,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Chat => "chat",
            Channel::Email => "email",
            Channel::Social => "social",
            Channel::InPerson => "in-person",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Channel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                format!("expected one of phone, chat, email, social, in-person, found `{s}`")
            })
    }
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn new(s: impl Into<String>) -> Self {
                Self(s.into())
            }
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_string())
            }
        }
    };
}

string_id!(
    /// A skill such as `returns` or `points`, declared in the scenario's `[[skills]]`.
    Skill
);
string_id!(
    /// A language code such as `zh`, `en`, `ja`, declared in the scenario's `[[languages]]`.
    Language
);

/// How well an agent handles a skill, 1 (trainee) to 5 (expert).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Proficiency(u8);

impl Proficiency {
    pub const MIN: Proficiency = Proficiency(1);
    pub const MAX: Proficiency = Proficiency(5);

    pub fn new(level: u8) -> Result<Self, String> {
        if (1..=5).contains(&level) {
            Ok(Proficiency(level))
        } else {
            Err(format!("expected a proficiency from 1 to 5, found {level}"))
        }
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Proficiency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let level = i64::deserialize(d)?;
        u8::try_from(level)
            .map_err(|_| format!("expected a proficiency from 1 to 5, found {level}"))
            .and_then(Proficiency::new)
            .map_err(serde::de::Error::custom)
    }
}

/// A skill an agent holds, with the level.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SkillLevel {
    pub skill: Skill,
    pub proficiency: Proficiency,
}

/// What a queue promises its customers. Real-time queues are sized by Erlang; `Deadline` queues
/// (email, social backlog) are sized by the work that must be finished within the deadline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum SlaTarget {
    /// `fraction` of contacts answered within `answer_seconds` (e.g. 80% in 20 s).
    ServiceLevel { fraction: f64, answer_seconds: f64 },
    /// Average speed of answer at most `seconds`.
    Asa { seconds: f64 },
    /// At most `fraction` of contacts abandon; `answer_seconds` is the threshold reported.
    AbandonCap { fraction: f64, answer_seconds: f64 },
    /// Deferred work: every contact handled within `hours` of arrival.
    Deadline { hours: f64 },
}

impl SlaTarget {
    pub fn is_deferred(&self) -> bool {
        matches!(self, SlaTarget::Deadline { .. })
    }

    /// The answer-time threshold for service-level reporting, in seconds.
    pub fn answer_seconds(&self) -> f64 {
        match *self {
            SlaTarget::ServiceLevel { answer_seconds, .. }
            | SlaTarget::AbandonCap { answer_seconds, .. } => answer_seconds,
            SlaTarget::Asa { seconds } => seconds,
            SlaTarget::Deadline { hours } => hours * 3600.0,
        }
    }
}

/// Shape of a queue's volume over the day, used by the history generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IntradayProfile {
    /// Online retail: a late-morning peak and a larger evening peak (20:00–22:00).
    RetailEvening,
    /// Phone lines: a morning and an early-afternoon peak, quiet at night.
    BusinessHours,
    /// Deferred channels: mail arrives spread over the waking day.
    Spread,
}

/// Parameters for generated history (the bundled scenario has no private data behind it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolumeProfile {
    /// Average contacts on an ordinary weekday, before events.
    pub daily_contacts: f64,
    pub profile: IntradayProfile,
    /// Saturday/Sunday volume relative to a weekday.
    #[serde(default = "default_weekend_factor")]
    pub weekend_factor: f64,
    /// Year-on-year growth of the baseline, e.g. 0.15 for +15% per year.
    #[serde(default)]
    pub annual_growth: f64,
}

fn default_weekend_factor() -> f64 {
    1.1
}

/// A queue: one channel, one skill, one language, one service promise.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Queue {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub channel: Channel,
    pub skill: Skill,
    pub language: Language,
    pub sla: SlaTarget,
    /// Mean customer patience before abandoning; absent means customers wait (deferred work).
    #[serde(default)]
    pub patience_seconds: Option<f64>,
    /// Contacts an agent may hold at once (chat). 1 for phone and email.
    #[serde(default = "one")]
    pub concurrency: u32,
    /// Nominal average handle time; the forecast learns the real one from history.
    pub aht_seconds: f64,
    /// Routing priority class, 0 (highest) to 9.
    #[serde(default = "default_priority")]
    pub priority: u8,
    /// Per-queue overrides of the scenario's staffing defaults.
    #[serde(default)]
    pub max_occupancy: Option<f64>,
    #[serde(default)]
    pub shrinkage: Option<f64>,
    pub volume: VolumeProfile,
}

fn one() -> u32 {
    1
}
fn default_priority() -> u8 {
    5
}

/// Contract terms for agents of a group or a named agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Contract {
    pub min_weekly_hours: f64,
    pub max_weekly_hours: f64,
}

/// A pool of interchangeable agents with the same skill set, for the shift plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentGroup {
    pub id: String,
    #[serde(default)]
    pub name: String,
    pub skills: Vec<SkillLevel>,
    pub languages: Vec<Language>,
    /// Agents available in the group (for temporary staff: the most that can be hired).
    pub headcount: u32,
    pub cost_per_hour: f64,
    /// Temporary peak staff: paid only when scheduled, available only in `available_from..=available_to`.
    #[serde(default)]
    pub temporary: bool,
    #[serde(default, deserialize_with = "de_opt_date")]
    pub available_from: Option<NaiveDate>,
    #[serde(default, deserialize_with = "de_opt_date")]
    pub available_to: Option<NaiveDate>,
    /// Shift templates this group may work; empty means all.
    #[serde(default)]
    pub shift_templates: Vec<String>,
    /// Overrides the scenario's contract for this group.
    #[serde(default)]
    pub contract: Option<Contract>,
}

impl AgentGroup {
    pub fn has_skill(&self, skill: &Skill) -> bool {
        self.skills.iter().any(|s| &s.skill == skill)
    }
    pub fn speaks(&self, language: &Language) -> bool {
        self.languages.contains(language)
    }
}

/// A named agent, from the agents file the roster reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgentProfile {
    pub id: String,
    pub name: String,
    /// The scenario group whose shifts this agent can fill.
    pub group: String,
    pub skills: Vec<SkillLevel>,
    pub languages: Vec<Language>,
    pub contract: Contract,
    /// Dates the agent cannot work (leave, training).
    pub unavailable: Vec<NaiveDate>,
    /// Shift templates the agent prefers, best first.
    pub preferred_shifts: Vec<String>,
    /// Weekdays the agent prefers off (0 = Monday).
    pub preferred_days_off: Vec<u8>,
}

/// A break or lunch placed inside a shift, starting within a window after the shift start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BreakRule {
    pub name: String,
    pub minutes: u32,
    #[serde(default)]
    pub paid: bool,
    pub earliest_after_start_minutes: u32,
    pub latest_after_start_minutes: u32,
}

/// A kind of shift: a length, a window of allowed start times on the interval grid, breaks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftTemplate {
    pub id: String,
    #[serde(deserialize_with = "de_time")]
    pub earliest_start: NaiveTime,
    #[serde(deserialize_with = "de_time")]
    pub latest_start: NaiveTime,
    /// Start times are every `start_step_minutes` from `earliest_start`; defaults to the interval.
    #[serde(default)]
    pub start_step_minutes: Option<u32>,
    pub length_minutes: u32,
    #[serde(default)]
    pub breaks: Vec<BreakRule>,
}

impl ShiftTemplate {
    /// Minutes paid: the whole shift less unpaid breaks.
    pub fn paid_minutes(&self) -> u32 {
        let unpaid: u32 = self
            .breaks
            .iter()
            .filter(|b| !b.paid)
            .map(|b| b.minutes)
            .sum();
        self.length_minutes.saturating_sub(unpaid)
    }

    /// Allowed start times, as minutes after local midnight (may exceed 24 h for night shifts
    /// whose window wraps past midnight).
    pub fn start_minutes(&self, interval_minutes: u32) -> Vec<u32> {
        let step = self.start_step_minutes.unwrap_or(interval_minutes).max(1);
        let first = minutes_of(self.earliest_start);
        let mut last = minutes_of(self.latest_start);
        if last < first {
            last += 24 * 60;
        }
        (first..=last).step_by(step as usize).collect()
    }
}

fn minutes_of(t: NaiveTime) -> u32 {
    t.hour() * 60 + t.minute()
}

/// Labor rules every roster must respect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftRules {
    /// Days off in each 7-day week.
    pub days_off_per_week: u32,
    pub max_consecutive_days: u32,
    /// Minimum hours between the end of one shift and the start of the next.
    pub min_rest_hours: f64,
    /// Default contract for groups without their own.
    pub contract: Contract,
    pub templates: Vec<ShiftTemplate>,
}

/// How a queue feels an event, as multipliers on the event's excess over baseline (1.0 = as
/// configured for the event, 0 = unaffected, 2 = twice the excess).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventQueueScale {
    #[serde(default = "one_f")]
    pub pre: f64,
    #[serde(default = "one_f")]
    pub day: f64,
    #[serde(default = "one_f")]
    pub post: f64,
}

fn one_f() -> f64 {
    1.0
}

impl Default for EventQueueScale {
    fn default() -> Self {
        EventQueueScale {
            pre: 1.0,
            day: 1.0,
            post: 1.0,
        }
    }
}

/// A calendar event (Double-11, 6.18, Spring Festival) with its expected effect on volume.
///
/// The multiplier on baseline volume is: a linear pre-event ramp rising from 1 to `pre_uplift`
/// over `pre_days` before the day; `uplift` on the day itself (with `midnight_spike` on top for
/// the first `midnight_hours` hours, when a sale opens at 00:00); and a post-event wave starting at
/// `post_uplift` the day after and decaying linearly to 1 over `post_days`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub name: String,
    #[serde(deserialize_with = "de_date")]
    pub date: NaiveDate,
    pub uplift: f64,
    #[serde(default)]
    pub pre_days: u32,
    #[serde(default = "one_f")]
    pub pre_uplift: f64,
    #[serde(default)]
    pub post_days: u32,
    #[serde(default = "one_f")]
    pub post_uplift: f64,
    #[serde(default = "one_f")]
    pub midnight_spike: f64,
    #[serde(default)]
    pub midnight_hours: u32,
    /// Per-queue scaling of the event's excess volume; queues not listed get 1.0.
    #[serde(default)]
    pub queues: BTreeMap<String, EventQueueScale>,
}

impl Event {
    /// First and last dates the event touches.
    pub fn span(&self) -> (NaiveDate, NaiveDate) {
        (
            self.date - Duration::days(self.pre_days as i64),
            self.date + Duration::days(self.post_days as i64),
        )
    }

    /// Volume multiplier of this event for `queue` at local time `at`; 1.0 outside the event.
    pub fn multiplier(&self, queue: &str, at: NaiveDateTime) -> f64 {
        let scale = self.queues.get(queue).copied().unwrap_or_default();
        let offset = (at.date() - self.date).num_days();
        let excess = if offset == 0 {
            let mut day = (self.uplift - 1.0) * scale.day;
            if at.hour() < self.midnight_hours {
                // The spike multiplies the day's level, so its excess is the product's.
                day = (1.0 + day) * (1.0 + (self.midnight_spike - 1.0) * scale.day) - 1.0;
            }
            day
        } else if offset < 0 && (-offset) as u32 <= self.pre_days {
            let ramp = 1.0 - ((-offset - 1) as f64 / self.pre_days as f64);
            (self.pre_uplift - 1.0) * ramp * scale.pre
        } else if offset > 0 && offset as u32 <= self.post_days {
            let decay = 1.0 - ((offset - 1) as f64 / self.post_days as f64);
            (self.post_uplift - 1.0) * decay * scale.post
        } else {
            0.0
        };
        (1.0 + excess).max(0.0)
    }

    /// The same event shape moved to another date (last year's Double-11 for history).
    pub fn on(&self, date: NaiveDate) -> Event {
        Event {
            date,
            ..self.clone()
        }
    }
}

/// One interval of the planning grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Interval {
    /// Start instant.
    pub start: DateTime<Utc>,
    /// Wall-clock start in the scenario's zone.
    pub local: NaiveDateTime,
    pub minutes: u32,
}

/// The time-zone-aware grid of intervals the plan is made on. Local days are cut at local
/// midnight, so a DST change day has 23 or 25 hours of intervals rather than a shifted grid.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimeGrid {
    pub tz: Tz,
    pub interval_minutes: u32,
    pub start: NaiveDate,
    pub days: u32,
}

impl TimeGrid {
    pub fn new(tz: Tz, interval_minutes: u32, start: NaiveDate, days: u32) -> Self {
        TimeGrid {
            tz,
            interval_minutes,
            start,
            days,
        }
    }

    pub fn dates(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        (0..self.days).map(move |d| self.start + Duration::days(d as i64))
    }

    /// The first instant of a local date (the earliest valid local time on a day that starts
    /// inside a DST gap).
    pub fn day_start(&self, date: NaiveDate) -> DateTime<Utc> {
        local_to_utc(self.tz, date.and_time(NaiveTime::MIN))
    }

    /// Intervals of one local date, in order.
    pub fn intervals_on(&self, date: NaiveDate) -> Vec<Interval> {
        let start = self.day_start(date);
        let end = self.day_start(date + Duration::days(1));
        let step = Duration::minutes(self.interval_minutes as i64);
        let mut out = Vec::with_capacity((24 * 60 / self.interval_minutes.max(1)) as usize + 4);
        let mut t = start;
        while t < end {
            out.push(Interval {
                start: t,
                local: t.with_timezone(&self.tz).naive_local(),
                minutes: self.interval_minutes,
            });
            t += step;
        }
        out
    }

    /// Every interval of the grid, in order.
    pub fn intervals(&self) -> Vec<Interval> {
        self.dates().flat_map(|d| self.intervals_on(d)).collect()
    }
}

/// A local wall-clock time as an instant: ambiguous times (DST fall-back) take the earlier
/// instant; times inside a spring-forward gap move forward to the first valid instant.
pub fn local_to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut probe = local;
    for _ in 0..180 {
        if let Some(t) = tz.from_local_datetime(&probe).earliest() {
            return t.with_timezone(&Utc);
        }
        probe += Duration::minutes(1);
    }
    // No zone has a gap longer than three hours; treat the wall clock as UTC offset 0.
    Utc.from_utc_datetime(&local)
}

/// Reads a TOML local date (`2026-11-11`) or a string in the same form.
pub fn de_date<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveDate, D::Error> {
    let raw = DateOrString::deserialize(d)?;
    let s = raw.text();
    NaiveDate::parse_from_str(&s, "%Y-%m-%d").map_err(|_| {
        serde::de::Error::custom(format!("expected a date like 2026-11-11, found `{s}`"))
    })
}

fn de_opt_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDate>, D::Error> {
    de_date(d).map(Some)
}

/// Reads a TOML local time (`08:30:00`) or a string `08:30`.
pub fn de_time<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
    let raw = DateOrString::deserialize(d)?;
    let s = raw.text();
    NaiveTime::parse_from_str(&s, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(&s, "%H:%M:%S"))
        .map_err(|_| serde::de::Error::custom(format!("expected a time like 08:30, found `{s}`")))
}

#[derive(Deserialize)]
#[serde(untagged)]
enum DateOrString {
    Toml(toml::value::Datetime),
    Text(String),
}

impl DateOrString {
    fn text(&self) -> String {
        match self {
            DateOrString::Toml(d) => d.to_string(),
            DateOrString::Text(s) => s.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn grid_has_96_intervals_on_an_ordinary_day() {
        let grid = TimeGrid::new(chrono_tz::Asia::Shanghai, 15, date("2026-11-09"), 7);
        assert_eq!(grid.intervals().len(), 7 * 96);
        let first = grid.intervals_on(date("2026-11-11"))[0];
        assert_eq!(first.local.to_string(), "2026-11-11 00:00:00");
        assert_eq!(first.start.to_rfc3339(), "2026-11-10T16:00:00+00:00");
    }

    #[test]
    fn dst_days_have_92_and_100_intervals() {
        let ny = chrono_tz::America::New_York;
        let spring = TimeGrid::new(ny, 15, date("2026-03-08"), 1);
        let fall = TimeGrid::new(ny, 15, date("2026-11-01"), 1);
        assert_eq!(spring.intervals().len(), 92);
        assert_eq!(fall.intervals().len(), 100);
        // Local times stay on the grid across the change.
        assert!(spring
            .intervals()
            .iter()
            .all(|i| i.local.minute() % 15 == 0));
    }

    #[test]
    fn event_multiplier_ramps_peaks_and_decays() {
        let ev = Event {
            name: "Double-11".into(),
            date: date("2026-11-11"),
            uplift: 3.0,
            pre_days: 10,
            pre_uplift: 1.5,
            post_days: 5,
            post_uplift: 2.0,
            midnight_spike: 4.0,
            midnight_hours: 2,
            queues: BTreeMap::new(),
        };
        let at = |d: &str, h: u32| date(d).and_hms_opt(h, 0, 0).unwrap();
        assert_eq!(ev.multiplier("q", at("2026-10-31", 12)), 1.0);
        assert!((ev.multiplier("q", at("2026-11-10", 12)) - 1.5).abs() < 1e-12);
        assert!((ev.multiplier("q", at("2026-11-01", 12)) - 1.05).abs() < 1e-12);
        assert!((ev.multiplier("q", at("2026-11-11", 12)) - 3.0).abs() < 1e-12);
        assert!((ev.multiplier("q", at("2026-11-11", 0)) - 12.0).abs() < 1e-12);
        assert!((ev.multiplier("q", at("2026-11-12", 12)) - 2.0).abs() < 1e-12);
        assert!((ev.multiplier("q", at("2026-11-16", 12)) - 1.2).abs() < 1e-12);
        assert_eq!(ev.multiplier("q", at("2026-11-17", 12)), 1.0);
    }

    #[test]
    fn shift_start_windows_wrap_midnight() {
        let t = ShiftTemplate {
            id: "night".into(),
            earliest_start: NaiveTime::from_hms_opt(22, 0, 0).unwrap(),
            latest_start: NaiveTime::from_hms_opt(0, 30, 0).unwrap(),
            start_step_minutes: Some(30),
            length_minutes: 480,
            breaks: vec![BreakRule {
                name: "lunch".into(),
                minutes: 60,
                paid: false,
                earliest_after_start_minutes: 180,
                latest_after_start_minutes: 300,
            }],
        };
        assert_eq!(
            t.start_minutes(15),
            vec![1320, 1350, 1380, 1410, 1440, 1470]
        );
        assert_eq!(t.paid_minutes(), 420);
    }

    #[test]
    fn proficiency_rejects_out_of_range() {
        assert!(Proficiency::new(0).is_err());
        assert!(Proficiency::new(6).is_err());
        assert_eq!(Proficiency::new(3).unwrap().get(), 3);
    }
}
