//! Loading and validating scenario files (`scenarios/*.toml`).
//!
//! A planner edits these by hand, so a mistake must be found with its exact place and reported
//! together with every other mistake in the file, not one per run. The loader therefore parses the
//! TOML once into a span-carrying tree, deserializes each section and each array element on its
//! own (so one bad queue does not hide a bad group), then checks ranges and cross references on
//! the typed values, looking up the source position of every field it complains about.
//!
//! Errors read `FILE:LINE:COL: FIELD.PATH: what was expected, found what`.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use chrono::{Duration, NaiveDate, Timelike};
use chrono_tz::Tz;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use peakcrew_core::model::{
    de_date, AgentGroup, Channel, Event, Language, Queue, ShiftRules, Skill, SlaTarget, TimeGrid,
};

/// A declared skill or language: an id used everywhere else and a display name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Declared {
    pub id: String,
    #[serde(default)]
    pub name: String,
}

/// The dates the plan covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Horizon {
    #[serde(deserialize_with = "de_date")]
    pub start: NaiveDate,
    pub days: u32,
}

/// The span of dates events are known for (history plus horizon).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calendar {
    #[serde(deserialize_with = "de_date")]
    pub start: NaiveDate,
    #[serde(deserialize_with = "de_date")]
    pub end: NaiveDate,
}

/// Defaults for sizing queues; a queue may override them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffingDefaults {
    /// Share of paid time not available for contacts (breaks outside the shift plan, training,
    /// absence), applied after Erlang.
    pub shrinkage: f64,
    /// Highest occupancy a queue is planned at.
    pub max_occupancy: f64,
    /// How much longer a chat lasts per extra chat held at once (see `staffing::requirements`).
    #[serde(default = "default_chat_stretch")]
    pub chat_stretch: f64,
}

fn default_chat_stretch() -> f64 {
    peakcrew_core::model::DEFAULT_CHAT_STRETCH
}

/// Costs the scheduler trades off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Costs {
    /// Cost of one agent-hour of unmet requirement; high, so understaffing is a last resort.
    pub understaffing_per_agent_hour: f64,
    /// Small cost of an agent-hour over requirement, to prefer tight plans among equal-cost ones.
    #[serde(default)]
    pub overstaffing_per_agent_hour: f64,
}

/// Where the scenario's history comes from when none is given on the command line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistorySettings {
    /// History CSV, relative to the scenario file; generated when absent.
    pub file: String,
    /// Weeks of history the generator writes, ending the day before the horizon.
    pub weeks: u32,
    pub seed: u64,
}

/// A whole scenario: everything a plan needs besides history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    pub time_zone: Tz,
    pub interval_minutes: u32,
    pub horizon: Horizon,
    pub calendar: Calendar,
    pub staffing: StaffingDefaults,
    pub costs: Costs,
    pub history: HistorySettings,
    /// Named agents CSV for the roster, relative to the scenario file.
    pub agents_file: Option<String>,
    pub skills: Vec<Declared>,
    pub languages: Vec<Declared>,
    pub queues: Vec<Queue>,
    pub groups: Vec<AgentGroup>,
    pub shifts: ShiftRules,
    pub events: Vec<Event>,
    /// The file this was loaded from, for resolving relative paths.
    #[serde(skip)]
    pub source: PathBuf,
}

impl Scenario {
    /// The planning grid over the horizon.
    pub fn grid(&self) -> TimeGrid {
        TimeGrid::new(
            self.time_zone,
            self.interval_minutes,
            self.horizon.start,
            self.horizon.days,
        )
    }

    pub fn queue(&self, id: &str) -> Option<&Queue> {
        self.queues.iter().find(|q| q.id == id)
    }

    pub fn group(&self, id: &str) -> Option<&AgentGroup> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// A path in the scenario, resolved against the scenario file's folder.
    pub fn resolve(&self, relative: &str) -> PathBuf {
        let p = Path::new(relative);
        if p.is_absolute() {
            return p.to_path_buf();
        }
        self.source
            .parent()
            .unwrap_or_else(|| Path::new("."))
            .join(p)
    }

    pub fn history_path(&self) -> PathBuf {
        self.resolve(&self.history.file)
    }

    /// Effective shrinkage and occupancy cap for a queue.
    pub fn shrinkage_of(&self, queue: &Queue) -> f64 {
        queue.shrinkage.unwrap_or(self.staffing.shrinkage)
    }

    pub fn max_occupancy_of(&self, queue: &Queue) -> f64 {
        queue.max_occupancy.unwrap_or(self.staffing.max_occupancy)
    }

    /// Product of the multipliers of every event at this local time for this queue.
    pub fn event_multiplier(&self, queue: &str, at: chrono::NaiveDateTime) -> f64 {
        self.events
            .iter()
            .map(|e| e.multiplier(queue, at))
            .product()
    }

    /// Reads and validates a scenario file, returning every problem found.
    pub fn load(path: &Path) -> Result<Scenario, ScenarioErrors> {
        let text = std::fs::read_to_string(path).map_err(|e| ScenarioErrors {
            errors: vec![ScenarioError {
                file: path.display().to_string(),
                line: 0,
                column: 0,
                field: String::new(),
                message: format!("cannot read file: {e}"),
            }],
        })?;
        Self::from_toml(&text, path)
    }

    /// Parses and validates scenario text; `path` names the file in errors and anchors
    /// relative paths.
    pub fn from_toml(text: &str, path: &Path) -> Result<Scenario, ScenarioErrors> {
        let mut ctx = Ctx::new(text, path);
        let doc = match DeTable::parse(text) {
            Ok(doc) => doc,
            Err(e) => {
                let at = e.span().map(|s| s.start).unwrap_or(0);
                ctx.push_at(at, "", e.message().to_string());
                return Err(ctx.finish());
            }
        };
        ctx.index_table("", doc.get_ref());
        let table = doc.get_ref();
        let known = [
            "name",
            "description",
            "time_zone",
            "interval_minutes",
            "horizon",
            "calendar",
            "staffing",
            "costs",
            "history",
            "agents_file",
            "skills",
            "languages",
            "queues",
            "groups",
            "shifts",
            "events",
        ];
        for (key, _) in table.iter() {
            if !known.contains(&key.get_ref().as_ref()) {
                ctx.push_at(
                    key.span().start,
                    key.get_ref(),
                    format!("unknown key, expected one of {}", known.join(", ")),
                );
            }
        }

        let name: Option<String> = ctx.required(table, "name");
        let description: String = ctx.optional(table, "description").unwrap_or_default();
        let tz_name: Option<String> = ctx.required(table, "time_zone");
        let time_zone = tz_name.and_then(|s| match s.parse::<Tz>() {
            Ok(tz) => Some(tz),
            Err(_) => {
                ctx.push_field(
                    "time_zone",
                    format!("expected an IANA time zone such as Asia/Shanghai, found `{s}`"),
                );
                None
            }
        });
        let interval_minutes: u32 = ctx.optional(table, "interval_minutes").unwrap_or(15);
        let horizon: Option<Horizon> = ctx.required(table, "horizon");
        let calendar: Option<Calendar> = ctx.required(table, "calendar");
        let staffing: Option<StaffingDefaults> = ctx.required(table, "staffing");
        let costs: Option<Costs> = ctx.required(table, "costs");
        let history: Option<HistorySettings> = ctx.required(table, "history");
        let agents_file: Option<String> = ctx.optional(table, "agents_file");
        let skills: Vec<Declared> = ctx.array(table, "skills", true);
        let languages: Vec<Declared> = ctx.array(table, "languages", true);
        let queues: Vec<Queue> = ctx.array(table, "queues", true);
        let groups: Vec<AgentGroup> = ctx.array(table, "groups", true);
        let shifts: Option<ShiftRules> = ctx.required(table, "shifts");
        let events: Vec<Event> = ctx.array(table, "events", false);

        let (
            Some(name),
            Some(time_zone),
            Some(horizon),
            Some(calendar),
            Some(staffing),
            Some(costs),
            Some(history),
            Some(shifts),
        ) = (
            name, time_zone, horizon, calendar, staffing, costs, history, shifts,
        )
        else {
            // A missing or malformed section already produced its error; the checks below
            // need whole sections, but element errors found so far are still all reported.
            return Err(ctx.finish());
        };
        let scenario = Scenario {
            name,
            description,
            time_zone,
            interval_minutes,
            horizon,
            calendar,
            staffing,
            costs,
            history,
            agents_file,
            skills,
            languages,
            queues,
            groups,
            shifts,
            events,
            source: path.to_path_buf(),
        };
        check(&scenario, &mut ctx);
        if ctx.errors.is_empty() {
            Ok(scenario)
        } else {
            Err(ctx.finish())
        }
    }
}

/// One problem in a scenario file, with its place.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioError {
    pub file: String,
    /// 1-based; 0 when the problem is not tied to a place (unreadable file).
    pub line: usize,
    pub column: usize,
    /// Dotted path of the field, e.g. `queues[3].sla.fraction`.
    pub field: String,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else if self.field.is_empty() {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        } else {
            write!(
                f,
                "{}:{}:{}: {}: {}",
                self.file, self.line, self.column, self.field, self.message
            )
        }
    }
}

/// Every problem found in a scenario file, in file order.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ScenarioErrors {
    pub errors: Vec<ScenarioError>,
}

impl fmt::Display for ScenarioErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Where each field of the document is: the span of its key (if it has one) and of its value.
struct Place {
    key: Option<Range<usize>>,
    value: Range<usize>,
}

struct Ctx<'t> {
    text: &'t str,
    file: String,
    places: BTreeMap<String, Place>,
    errors: Vec<(usize, ScenarioError)>,
    /// For each array section, the file position of each element that decoded, so later checks
    /// name `queues[4]` even when `queues[0]` failed to decode and was dropped.
    kept: BTreeMap<String, Vec<usize>>,
    /// Ids of elements that failed to decode: references to them are not reported again.
    undecoded_ids: BTreeMap<String, HashSet<String>>,
}

impl<'t> Ctx<'t> {
    fn new(text: &'t str, path: &Path) -> Self {
        Ctx {
            text,
            file: path.display().to_string(),
            places: BTreeMap::new(),
            errors: Vec::new(),
            kept: BTreeMap::new(),
            undecoded_ids: BTreeMap::new(),
        }
    }

    fn index_table(&mut self, prefix: &str, table: &DeTable<'_>) {
        for (key, value) in table.iter() {
            let path = join(prefix, key.get_ref());
            self.places.insert(
                path.clone(),
                Place {
                    key: Some(key.span()),
                    value: value.span(),
                },
            );
            self.index_value(&path, value.get_ref());
        }
    }

    fn index_value(&mut self, path: &str, value: &DeValue<'_>) {
        match value {
            DeValue::Table(t) => self.index_table(path, t),
            DeValue::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    let p = format!("{path}[{i}]");
                    self.places.insert(
                        p.clone(),
                        Place {
                            key: None,
                            value: item.span(),
                        },
                    );
                    self.index_value(&p, item.get_ref());
                }
            }
            _ => {}
        }
    }

    fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let col = before
            .rfind('\n')
            .map_or(before.len(), |nl| before.len() - nl - 1)
            + 1;
        (line, col)
    }

    fn push_at(&mut self, offset: usize, field: &str, message: String) {
        let (line, column) = self.line_col(offset);
        self.errors.push((
            offset,
            ScenarioError {
                file: self.file.clone(),
                line,
                column,
                field: field.to_string(),
                message,
            },
        ));
    }

    /// Reports a problem with a field, at its key if it has one, else at its value; a field
    /// that is absent from the file is reported at its nearest present parent.
    fn push_field(&mut self, field: &str, message: String) {
        let mut probe = field.to_string();
        let offset = loop {
            if let Some(place) = self.places.get(&probe) {
                break place.key.clone().unwrap_or(place.value.clone()).start;
            }
            match parent(&probe) {
                Some(p) => probe = p,
                None => break 0,
            }
        };
        self.push_at(offset, field, message);
    }

    /// The deepest field under `prefix` whose key or value contains `offset`.
    fn field_at(&self, prefix: &str, offset: usize) -> String {
        let mut best: Option<(&String, usize)> = None;
        for (path, place) in self.places.range(prefix.to_string()..) {
            if !path.starts_with(prefix) {
                break;
            }
            let hit = place.value.contains(&offset)
                || place.key.as_ref().is_some_and(|k| k.contains(&offset));
            if hit {
                let width = place.value.len();
                if best.is_none_or(|(_, w)| width <= w) {
                    best = Some((path, width));
                }
            }
        }
        best.map_or(prefix.to_string(), |(p, _)| p.clone())
    }

    fn decode<T: DeserializeOwned>(
        &mut self,
        path: &str,
        value: &Spanned<DeValue<'_>>,
    ) -> Option<T> {
        use serde::de::IntoDeserializer;
        let owned = value.clone();
        match T::deserialize(owned.into_deserializer()) {
            Ok(v) => Some(v),
            Err(e) => {
                let offset = e.span().map_or(value.span().start, |s| s.start);
                let mut field = self.field_at(path, offset);
                let mut message = e.message().to_string();
                // serde names a missing field only in the message; put it in the path.
                if let Some(name) = message
                    .strip_prefix("missing field `")
                    .and_then(|r| r.strip_suffix('`'))
                {
                    field = join(&field, name);
                    message = "missing required field".to_string();
                } else if let Some(rest) = message.strip_prefix("unknown field `") {
                    if let Some((name, expected)) = rest.split_once("`, ") {
                        let place = self.field_at(path, offset);
                        field = if place.ends_with(name) {
                            place
                        } else {
                            join(&place, name)
                        };
                        message = format!("unknown key, {expected}");
                    }
                }
                self.push_at(offset, &field, message);
                None
            }
        }
    }

    fn optional<T: DeserializeOwned>(&mut self, table: &DeTable<'_>, key: &str) -> Option<T> {
        let value = table.get(key)?;
        self.decode(key, value)
    }

    fn required<T: DeserializeOwned>(&mut self, table: &DeTable<'_>, key: &str) -> Option<T> {
        if table.get(key).is_none() {
            self.push_at(0, key, "missing required section or key".to_string());
            return None;
        }
        self.optional(table, key)
    }

    /// Decodes an array of tables element by element so every bad element is reported.
    fn array<T: DeserializeOwned>(
        &mut self,
        table: &DeTable<'_>,
        key: &str,
        required: bool,
    ) -> Vec<T> {
        let Some(value) = table.get(key) else {
            if required {
                self.push_at(
                    0,
                    key,
                    format!("missing required section: add at least one [[{key}]]"),
                );
            }
            return Vec::new();
        };
        let DeValue::Array(items) = value.get_ref() else {
            self.push_at(
                value.span().start,
                key,
                format!(
                    "expected an array of tables ([[{key}]]), found a {}",
                    value.get_ref().type_str()
                ),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut kept = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match self.decode(&format!("{key}[{i}]"), item) {
                Some(v) => {
                    out.push(v);
                    kept.push(i);
                }
                None => {
                    if let Some(id) = item.get_ref().get("id").and_then(|v| v.get_ref().as_str()) {
                        self.undecoded_ids
                            .entry(key.to_string())
                            .or_default()
                            .insert(id.to_string());
                    }
                }
            }
        }
        self.kept.insert(key.to_string(), kept);
        out
    }

    /// Position in the file of the `i`-th decoded element of an array section.
    fn idx(&self, section: &str, i: usize) -> usize {
        self.kept
            .get(section)
            .and_then(|k| k.get(i))
            .copied()
            .unwrap_or(i)
    }

    fn finish(mut self) -> ScenarioErrors {
        self.errors.sort_by_key(|(offset, _)| *offset);
        ScenarioErrors {
            errors: self.errors.into_iter().map(|(_, e)| e).collect(),
        }
    }
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

fn parent(path: &str) -> Option<String> {
    let cut = path.rfind(['.', '['])?;
    Some(path[..cut].to_string())
}

/// Reads any strictly typed TOML file (e.g. `config/router.toml`) with the same precise errors as
/// scenarios: decoding errors with their place, then every problem `check` returns as
/// `(dotted field path, message)`, each located in the file.
pub fn load_toml<T: DeserializeOwned>(
    path: &Path,
    check: impl FnOnce(&T) -> Vec<(String, String)>,
) -> Result<T, ScenarioErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| ScenarioErrors {
        errors: vec![ScenarioError {
            file: path.display().to_string(),
            line: 0,
            column: 0,
            field: String::new(),
            message: format!("cannot read file: {e}"),
        }],
    })?;
    let mut ctx = Ctx::new(&text, path);
    let doc = match DeTable::parse(&text) {
        Ok(doc) => doc,
        Err(e) => {
            ctx.push_at(e.span().map_or(0, |s| s.start), "", e.message().to_string());
            return Err(ctx.finish());
        }
    };
    ctx.index_table("", doc.get_ref());
    let whole = Spanned::new(doc.span(), DeValue::Table(doc.into_inner()));
    let Some(value) = ctx.decode::<T>("", &whole) else {
        return Err(ctx.finish());
    };
    for (field, message) in check(&value) {
        ctx.push_field(&field, message);
    }
    if ctx.errors.is_empty() {
        Ok(value)
    } else {
        Err(ctx.finish())
    }
}

/// Range and cross-reference checks on a scenario whose sections all decoded.
fn check(s: &Scenario, ctx: &mut Ctx<'_>) {
    let fraction = |x: f64| x > 0.0 && x < 1.0;
    if ![5, 10, 15, 20, 30, 60].contains(&s.interval_minutes) {
        ctx.push_field(
            "interval_minutes",
            format!(
                "expected one of 5, 10, 15, 20, 30, 60, found {}",
                s.interval_minutes
            ),
        );
    }
    if s.horizon.days == 0 || s.horizon.days > 366 {
        ctx.push_field(
            "horizon.days",
            format!("expected 1 to 366 days, found {}", s.horizon.days),
        );
    }
    if s.calendar.end < s.calendar.start {
        ctx.push_field(
            "calendar.end",
            format!(
                "expected a date on or after calendar.start ({}), found {}",
                s.calendar.start, s.calendar.end
            ),
        );
    }
    let horizon_end = s.horizon.start + Duration::days(s.horizon.days as i64 - 1);
    if s.horizon.start < s.calendar.start || horizon_end > s.calendar.end {
        ctx.push_field(
            "horizon.start",
            format!(
                "the horizon {}..={} must lie inside the calendar {}..={}",
                s.horizon.start, horizon_end, s.calendar.start, s.calendar.end
            ),
        );
    }
    if !(0.0..1.0).contains(&s.staffing.shrinkage) {
        ctx.push_field(
            "staffing.shrinkage",
            format!(
                "expected a fraction from 0 up to (not including) 1, found {}",
                s.staffing.shrinkage
            ),
        );
    }
    if !(s.staffing.max_occupancy > 0.0 && s.staffing.max_occupancy <= 1.0) {
        ctx.push_field(
            "staffing.max_occupancy",
            format!(
                "expected a fraction above 0 and at most 1, found {}",
                s.staffing.max_occupancy
            ),
        );
    }
    if !(0.0..=1.0).contains(&s.staffing.chat_stretch) {
        ctx.push_field(
            "staffing.chat_stretch",
            format!(
                "expected 0 to 1 (extra duration per extra concurrent chat), found {}",
                s.staffing.chat_stretch
            ),
        );
    }
    if s.costs.understaffing_per_agent_hour <= 0.0 {
        ctx.push_field(
            "costs.understaffing_per_agent_hour",
            format!(
                "expected a positive cost, found {}",
                s.costs.understaffing_per_agent_hour
            ),
        );
    }
    if s.costs.overstaffing_per_agent_hour < 0.0 {
        ctx.push_field(
            "costs.overstaffing_per_agent_hour",
            format!(
                "expected a cost of 0 or more, found {}",
                s.costs.overstaffing_per_agent_hour
            ),
        );
    }
    if s.history.weeks == 0 {
        ctx.push_field("history.weeks", "expected at least 1 week".to_string());
    }

    let ruled = Ids::Ruled;
    let skills = unique_ids(ctx, "skills", ruled, s.skills.iter().map(|d| d.id.as_str()));
    let languages = unique_ids(
        ctx,
        "languages",
        ruled,
        s.languages.iter().map(|d| d.id.as_str()),
    );
    let queue_ids = unique_ids(ctx, "queues", ruled, s.queues.iter().map(|q| q.id.as_str()));
    unique_ids(ctx, "groups", ruled, s.groups.iter().map(|g| g.id.as_str()));
    let templates = unique_ids(
        ctx,
        "shifts.templates",
        Ids::NonEmpty,
        s.shifts.templates.iter().map(|t| t.id.as_str()),
    );

    for (i, q) in s.queues.iter().enumerate() {
        let oi = ctx.idx("queues", i);
        let at = |f: &str| format!("queues[{oi}].{f}");
        if !skills.contains(q.skill.as_str()) {
            ctx.push_field(
                &at("skill"),
                format!("unknown skill `{}`; declare it in [[skills]]", q.skill),
            );
        }
        if !languages.contains(q.language.as_str()) {
            ctx.push_field(
                &at("language"),
                format!(
                    "unknown language `{}`; declare it in [[languages]]",
                    q.language
                ),
            );
        }
        match q.sla {
            SlaTarget::ServiceLevel {
                fraction: f,
                answer_seconds: t,
            }
            | SlaTarget::AbandonCap {
                fraction: f,
                answer_seconds: t,
            } => {
                if !fraction(f) {
                    ctx.push_field(
                        &at("sla.fraction"),
                        format!("expected a fraction between 0 and 1, found {f}"),
                    );
                }
                if t.is_nan() || t < 0.0 {
                    ctx.push_field(
                        &at("sla.answer_seconds"),
                        format!("expected 0 seconds or more, found {t}"),
                    );
                }
            }
            SlaTarget::Asa { seconds } => {
                if seconds.is_nan() || seconds <= 0.0 {
                    ctx.push_field(
                        &at("sla.seconds"),
                        format!("expected a positive number of seconds, found {seconds}"),
                    );
                }
            }
            SlaTarget::Deadline { hours } => {
                if hours.is_nan() || hours <= 0.0 {
                    ctx.push_field(
                        &at("sla.hours"),
                        format!("expected a positive number of hours, found {hours}"),
                    );
                }
            }
        }
        if let Some(p) = q.patience_seconds {
            if p.is_nan() || p <= 0.0 {
                ctx.push_field(
                    &at("patience_seconds"),
                    format!("expected a positive number of seconds, found {p}"),
                );
            }
        }
        if q.concurrency == 0 || q.concurrency > 10 {
            ctx.push_field(
                &at("concurrency"),
                format!("expected 1 to 10 contacts at once, found {}", q.concurrency),
            );
        } else if q.concurrency > 1 && !matches!(q.channel, Channel::Chat | Channel::Social) {
            ctx.push_field(
                &at("concurrency"),
                format!("only chat and social queues can hold several contacts at once; a {} queue has concurrency 1, found {}", q.channel, q.concurrency),
            );
        }
        if q.aht_seconds.is_nan() || q.aht_seconds <= 0.0 {
            ctx.push_field(
                &at("aht_seconds"),
                format!(
                    "expected a positive handle time in seconds, found {}",
                    q.aht_seconds
                ),
            );
        }
        if q.priority > 9 {
            ctx.push_field(
                &at("priority"),
                format!(
                    "expected a priority class from 0 to 9, found {}",
                    q.priority
                ),
            );
        }
        if let Some(m) = q.max_occupancy {
            if !(m > 0.0 && m <= 1.0) {
                ctx.push_field(
                    &at("max_occupancy"),
                    format!("expected a fraction above 0 and at most 1, found {m}"),
                );
            }
        }
        if let Some(sh) = q.shrinkage {
            if !(0.0..1.0).contains(&sh) {
                ctx.push_field(
                    &at("shrinkage"),
                    format!("expected a fraction from 0 up to (not including) 1, found {sh}"),
                );
            }
        }
        if q.volume.daily_contacts.is_nan() || q.volume.daily_contacts < 0.0 {
            ctx.push_field(
                &at("volume.daily_contacts"),
                format!(
                    "expected 0 or more contacts, found {}",
                    q.volume.daily_contacts
                ),
            );
        }
        if q.volume.weekend_factor.is_nan() || q.volume.weekend_factor <= 0.0 {
            ctx.push_field(
                &at("volume.weekend_factor"),
                format!(
                    "expected a positive factor, found {}",
                    q.volume.weekend_factor
                ),
            );
        }
        if !q.sla.is_deferred() && q.patience_seconds.is_none() && q.channel == Channel::Phone {
            ctx.push_field(
                &at("patience_seconds"),
                "a phone queue needs the callers' mean patience in seconds".to_string(),
            );
        }
    }

    for (i, g) in s.groups.iter().enumerate() {
        let oi = ctx.idx("groups", i);
        let at = |f: &str| format!("groups[{oi}].{f}");
        if g.skills.is_empty() {
            ctx.push_field(&at("skills"), "expected at least one skill".to_string());
        }
        for (j, sk) in g.skills.iter().enumerate() {
            if !skills.contains(sk.skill.as_str()) {
                ctx.push_field(
                    &at(&format!("skills[{j}].skill")),
                    format!("unknown skill `{}`; declare it in [[skills]]", sk.skill),
                );
            }
        }
        if g.languages.is_empty() {
            ctx.push_field(
                &at("languages"),
                "expected at least one language".to_string(),
            );
        }
        for (j, l) in g.languages.iter().enumerate() {
            if !languages.contains(l.as_str()) {
                ctx.push_field(
                    &at(&format!("languages[{j}]")),
                    format!("unknown language `{l}`; declare it in [[languages]]"),
                );
            }
        }
        if g.cost_per_hour.is_nan() || g.cost_per_hour < 0.0 {
            ctx.push_field(
                &at("cost_per_hour"),
                format!("expected a cost of 0 or more, found {}", g.cost_per_hour),
            );
        }
        for (j, t) in g.shift_templates.iter().enumerate() {
            if !templates.contains(t.as_str()) {
                ctx.push_field(
                    &at(&format!("shift_templates[{j}]")),
                    format!("unknown shift template `{t}`; declare it in [[shifts.templates]]"),
                );
            }
        }
        if let (Some(from), Some(to)) = (g.available_from, g.available_to) {
            if to < from {
                ctx.push_field(
                    &at("available_to"),
                    format!("expected a date on or after available_from ({from}), found {to}"),
                );
            }
        }
        if let Some(c) = &g.contract {
            check_contract(ctx, &at("contract"), c);
        }
    }

    check_contract(ctx, "shifts.contract", &s.shifts.contract);
    if s.shifts.days_off_per_week > 6 {
        ctx.push_field(
            "shifts.days_off_per_week",
            format!(
                "expected 0 to 6 days off in a week, found {}",
                s.shifts.days_off_per_week
            ),
        );
    }
    if s.shifts.max_consecutive_days == 0 {
        ctx.push_field(
            "shifts.max_consecutive_days",
            "expected at least 1 day".to_string(),
        );
    }
    if s.shifts.min_rest_hours.is_nan() || !(0.0..=24.0).contains(&s.shifts.min_rest_hours) {
        ctx.push_field(
            "shifts.min_rest_hours",
            format!("expected 0 to 24 hours, found {}", s.shifts.min_rest_hours),
        );
    }
    if s.shifts.templates.is_empty() {
        ctx.push_field(
            "shifts.templates",
            "expected at least one [[shifts.templates]]".to_string(),
        );
    }
    let step = s.interval_minutes;
    for (i, t) in s.shifts.templates.iter().enumerate() {
        let at = |f: &str| format!("shifts.templates[{i}].{f}");
        if t.length_minutes == 0 || t.length_minutes > 16 * 60 || t.length_minutes % step != 0 {
            ctx.push_field(
                &at("length_minutes"),
                format!(
                    "expected a length up to 16 h in whole {step}-minute intervals, found {}",
                    t.length_minutes
                ),
            );
        }
        for (f, time) in [
            ("earliest_start", t.earliest_start),
            ("latest_start", t.latest_start),
        ] {
            if (time.hour() * 60 + time.minute()) % step != 0 || time.second() != 0 {
                ctx.push_field(
                    &at(f),
                    format!("expected a time on the {step}-minute grid, found {time}"),
                );
            }
        }
        if let Some(st) = t.start_step_minutes {
            if st == 0 || st % step != 0 {
                ctx.push_field(
                    &at("start_step_minutes"),
                    format!("expected a multiple of {step} minutes, found {st}"),
                );
            }
        }
        for (j, b) in t.breaks.iter().enumerate() {
            let bat = |f: &str| at(&format!("breaks[{j}].{f}"));
            if b.minutes == 0 || b.minutes % step != 0 {
                ctx.push_field(
                    &bat("minutes"),
                    format!(
                        "expected whole {step}-minute intervals, found {}",
                        b.minutes
                    ),
                );
            }
            if b.latest_after_start_minutes < b.earliest_after_start_minutes {
                ctx.push_field(
                    &bat("latest_after_start_minutes"),
                    format!(
                        "expected at least earliest_after_start_minutes ({}), found {}",
                        b.earliest_after_start_minutes, b.latest_after_start_minutes
                    ),
                );
            }
            if b.latest_after_start_minutes + b.minutes > t.length_minutes {
                ctx.push_field(
                    &bat("latest_after_start_minutes"),
                    format!(
                        "the break must end inside the {}-minute shift; {} + {} is past its end",
                        t.length_minutes, b.latest_after_start_minutes, b.minutes
                    ),
                );
            }
            if b.earliest_after_start_minutes % step != 0
                || b.latest_after_start_minutes % step != 0
            {
                ctx.push_field(
                    &bat("earliest_after_start_minutes"),
                    format!("expected break windows on the {step}-minute grid"),
                );
            }
        }
    }

    for (i, e) in s.events.iter().enumerate() {
        let oi = ctx.idx("events", i);
        let at = |f: &str| format!("events[{oi}].{f}");
        let (first, last) = e.span();
        if first < s.calendar.start || last > s.calendar.end {
            ctx.push_field(
                &at("date"),
                format!(
                    "the event spans {first}..={last}, outside the calendar {}..={}",
                    s.calendar.start, s.calendar.end
                ),
            );
        }
        for (f, v) in [
            ("uplift", e.uplift),
            ("pre_uplift", e.pre_uplift),
            ("post_uplift", e.post_uplift),
            ("midnight_spike", e.midnight_spike),
        ] {
            if v.is_nan() || v <= 0.0 {
                ctx.push_field(
                    &at(f),
                    format!("expected a positive multiplier of baseline volume, found {v}"),
                );
            }
        }
        if e.midnight_hours > 24 {
            ctx.push_field(
                &at("midnight_hours"),
                format!("expected 0 to 24 hours, found {}", e.midnight_hours),
            );
        }
        for q in e.queues.keys() {
            if !queue_ids.contains(q.as_str()) {
                ctx.push_field(&at(&format!("queues.{q}")), format!("unknown queue `{q}`"));
            }
        }
    }

    // A queue nobody can serve makes every plan fail; say so now, not after the solver.
    for (i, q) in s.queues.iter().enumerate() {
        let servable = s
            .groups
            .iter()
            .any(|g| g.has_skill(&q.skill) && g.speaks(&q.language));
        if !servable && skills.contains(q.skill.as_str()) && languages.contains(q.language.as_str())
        {
            ctx.push_field(
                &format!("queues[{}]", ctx.idx("queues", i)),
                format!(
                    "no agent group holds skill `{}` with language `{}`",
                    q.skill, q.language
                ),
            );
        }
    }
}

fn check_contract(ctx: &mut Ctx<'_>, at: &str, c: &peakcrew_core::model::Contract) {
    if c.min_weekly_hours < 0.0
        || c.max_weekly_hours > 80.0
        || c.min_weekly_hours > c.max_weekly_hours
    {
        ctx.push_field(
            &format!("{at}.max_weekly_hours"),
            format!(
                "expected 0 <= min_weekly_hours <= max_weekly_hours <= 80, found {} and {}",
                c.min_weekly_hours, c.max_weekly_hours
            ),
        );
    }
}

/// What a queue, skill, language or agent-group id looks like, for error messages.
pub const ID_RULE: &str = "1 to 64 characters from A-Z a-z 0-9 - _ . :";

/// Why `id` cannot name a queue, skill, language or agent group, if it cannot ([`ID_RULE`]).
/// Ids appear in URL paths, Prometheus labels and CSV files, so they keep to characters none
/// of those escape; `/` is left out because the routing core names a queue's escalation twin
/// `<queue>/escalated`.
pub fn id_problem(id: &str) -> Option<String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':');
    let length = id.chars().count();
    if id.is_empty() {
        Some(format!("expected an id of {ID_RULE}, found an empty one"))
    } else if let Some(c) = id.chars().find(|&c| !allowed(c)) {
        Some(format!(
            "expected an id of {ID_RULE}, found `{id}` with {c:?} in it"
        ))
    } else if length > 64 {
        Some(format!(
            "expected an id of {ID_RULE}, found one of {length} characters"
        ))
    } else {
        None
    }
}

/// Which ids a section's must be: any non-empty string, or [`ID_RULE`]'s.
#[derive(Clone, Copy)]
enum Ids {
    NonEmpty,
    Ruled,
}

/// Reports bad and duplicate ids and returns the set of ids.
fn unique_ids<'a>(
    ctx: &mut Ctx<'_>,
    section: &str,
    rule: Ids,
    ids: impl Iterator<Item = &'a str>,
) -> HashSet<String> {
    let mut seen = HashSet::new();
    for (i, id) in ids.enumerate() {
        let i = ctx.idx(section, i);
        let problem = match rule {
            Ids::Ruled => id_problem(id),
            Ids::NonEmpty => id.is_empty().then(|| "expected a non-empty id".to_string()),
        };
        if let Some(message) = problem {
            ctx.push_field(&format!("{section}[{i}].id"), message);
        } else if !seen.insert(id.to_string()) {
            ctx.push_field(
                &format!("{section}[{i}].id"),
                format!("duplicate id `{id}`"),
            );
        }
    }
    seen
}

/// Skills and languages as typed ids, for modules that want them.
impl Scenario {
    pub fn skill_ids(&self) -> Vec<Skill> {
        self.skills.iter().map(|d| Skill::new(&d.id)).collect()
    }
    pub fn language_ids(&self) -> Vec<Language> {
        self.languages
            .iter()
            .map(|d| Language::new(&d.id))
            .collect()
    }

    /// What the router routes over for this scenario: its queues, skills and languages.
    pub fn catalog(&self) -> peakcrew_core::routing::Catalog {
        peakcrew_core::routing::Catalog {
            queues: self.queues.clone(),
            skills: self.skill_ids(),
            languages: self.language_ids(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Server {
        listen: String,
        limits: Limits,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Limits {
        max_body_bytes: u64,
    }

    #[test]
    fn ids_keep_to_the_rule() {
        assert_eq!(id_problem("order-778:chat.v1_A"), None);
        assert_eq!(id_problem(&"q".repeat(64)), None);
        let msg = |id: &str| id_problem(id).unwrap_or_default();
        assert_eq!(
            msg(&"q".repeat(65)),
            "expected an id of 1 to 64 characters from A-Z a-z 0-9 - _ . :, found one of 65 characters"
        );
        assert!(msg("").ends_with("found an empty one"));
        assert!(msg("zh/hotline").ends_with("found `zh/hotline` with '/' in it"));
        assert!(msg("zh hotline").ends_with("with ' ' in it"));
        assert!(msg("客服").ends_with("with '客' in it"));
    }

    #[test]
    fn bad_ids_are_reported_at_their_key() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../scenarios/double11.toml"
        ));
        let text = std::fs::read_to_string(path).unwrap();
        let long = "g".repeat(65);
        let text = text
            .replacen("id = \"returns\"", "id = \"returns desk\"", 1)
            .replacen("id = \"zh-hotline\"", "id = \"zh-hotline/escalated\"", 1)
            .replacen("id = \"chat-core\"", &format!("id = \"{long}\""), 1);
        let errors = Scenario::from_toml(&text, Path::new("d.toml")).unwrap_err();
        let ids: Vec<String> = errors
            .errors
            .iter()
            .filter(|e| e.field.ends_with(".id"))
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            ids,
            [
                "d.toml:45:1: skills[2].id: expected an id of 1 to 64 characters from \
                 A-Z a-z 0-9 - _ . :, found `returns desk` with ' ' in it",
                "d.toml:122:1: queues[4].id: expected an id of 1 to 64 characters from \
                 A-Z a-z 0-9 - _ . :, found `zh-hotline/escalated` with '/' in it",
                "d.toml:195:1: groups[0].id: expected an id of 1 to 64 characters from \
                 A-Z a-z 0-9 - _ . :, found one of 65 characters",
            ]
        );
    }

    #[test]
    fn load_toml_places_decode_and_check_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.toml");
        std::fs::write(
            &p,
            "listen = \"127.0.0.1:0\"\n[limits]\nmax_body_bytes = \"big\"\n",
        )
        .unwrap();
        let err = load_toml::<Server>(&p, |_| Vec::new()).unwrap_err();
        assert_eq!(err.errors[0].field, "limits.max_body_bytes");
        assert_eq!((err.errors[0].line, err.errors[0].column), (3, 18));

        std::fs::write(&p, "listen = \"nowhere\"\n[limits]\nmax_body_bytes = 0\n").unwrap();
        let err = load_toml::<Server>(&p, |s| {
            let mut out = Vec::new();
            if !s.listen.contains(':') {
                out.push(("listen".to_string(), "expected HOST:PORT".to_string()));
            }
            if s.limits.max_body_bytes == 0 {
                out.push((
                    "limits.max_body_bytes".to_string(),
                    "expected a positive size".to_string(),
                ));
            }
            out
        })
        .unwrap_err();
        let places: Vec<(usize, usize, &str)> = err
            .errors
            .iter()
            .map(|e| (e.line, e.column, e.field.as_str()))
            .collect();
        assert_eq!(
            places,
            vec![(1, 1, "listen"), (3, 1, "limits.max_body_bytes")]
        );
    }
}
