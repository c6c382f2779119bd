//! The planner's whole job in one call ([`run`]): history → forecast → requirements → shift plan
//! → roster → simulation → report, each stage's files written as it finishes, `summary.json`
//! last; progress goes to a [`Progress`] sink the caller supplies.
//!
//! This crate only sequences the stages (`run.rs`) and translates their outputs into the
//! report's inputs (here); each stage's logic stays in its own crate and module. Stage failures
//! are returned as [`PlanError`] naming the stage, so the CLI can say which one failed.

mod run;

pub use run::{run, PlanRequest, PlanSummary, Progress, SimulationSummary};

use chrono::{DateTime, Duration, FixedOffset, Offset};

use peakcrew_core::model::Channel;
use peakcrew_plan::forecast::{self, Forecast};
use peakcrew_plan::history::History;
use peakcrew_plan::report::{
    self, EventWindow, ForecastPoint, ForecastSeries, GanttRow, GanttShift, HistoryPoint, Kpi,
    KpiFormat, KpiTarget, ReportInput, ServicePoint, ServiceSeries, Severity, Status,
    TargetDirection, TimeSpan, Warning,
};
use peakcrew_plan::scenario::Scenario;
use peakcrew_plan::schedule::{CoverageRow, Roster, ShiftPlan};
use peakcrew_plan::staffing::{self, Requirement};
use peakcrew_sim::SimReport;

/// The stages, in order, for progress reporting and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Forecast,
    Staffing,
    Schedule,
    Roster,
    Simulation,
    Report,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Forecast => "forecast",
            Stage::Staffing => "staffing",
            Stage::Schedule => "schedule",
            Stage::Roster => "roster",
            Stage::Simulation => "simulation",
            Stage::Report => "report",
        }
    }
}

/// A stage failed; the message is the stage's own error.
#[derive(Debug, thiserror::Error)]
#[error("the {} stage failed: {message}", stage.name())]
pub struct PlanError {
    pub stage: Stage,
    pub message: String,
}

fn failed<E: std::fmt::Display>(stage: Stage) -> impl Fn(E) -> PlanError {
    move |e| PlanError {
        stage,
        message: e.to_string(),
    }
}

/// Days of history shown before the horizon in the report's forecast charts.
const HISTORY_DAYS_SHOWN: i64 = 14;

/// The forecast charts: recent history, the forecast with its bands, and event windows.
pub fn forecast_series(
    scenario: &Scenario,
    history: &History,
    forecast: &Forecast,
) -> Vec<ForecastSeries> {
    let horizon = horizon_span(scenario);
    let shown_from = horizon.start - Duration::days(HISTORY_DAYS_SHOWN);
    let by_queue = history.by_queue();
    let mut out = Vec::new();
    for q in &scenario.queues {
        let history = by_queue
            .get(&q.id)
            .map(|rows| {
                rows.iter()
                    .filter(|r| r.start >= shown_from && r.start < horizon.start)
                    .map(|r| HistoryPoint {
                        t: r.start,
                        value: r.contacts,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let points = forecast
            .rows
            .iter()
            .filter(|r| r.queue == q.id)
            .map(|r| ForecastPoint {
                t: r.start,
                mean: r.contacts,
                lo80: r.lo80,
                hi80: r.hi80,
                lo95: r.lo95,
                hi95: r.hi95,
            })
            .collect();
        let events = scenario
            .events
            .iter()
            .filter_map(|e| {
                // The event day itself: its ramp and after-wave span weeks (21 + 10 days for
                // Double-11) and shading them would cover the whole chart.
                let span = TimeSpan {
                    start: local_midnight(scenario, e.date),
                    end: local_midnight(scenario, e.date + Duration::days(1)),
                };
                (span.end > shown_from && span.start < horizon.end).then(|| EventWindow {
                    name: e.name.clone(),
                    span,
                })
            })
            .collect();
        out.push(ForecastSeries {
            queue: q.id.clone(),
            history,
            forecast: points,
            events,
        });
    }
    out
}

/// The horizon as instants in the scenario's zone.
pub fn horizon_span(scenario: &Scenario) -> TimeSpan {
    let start = scenario.horizon.start;
    TimeSpan {
        start: local_midnight(scenario, start),
        end: local_midnight(
            scenario,
            start + Duration::days(scenario.horizon.days as i64),
        ),
    }
}

fn local_midnight(scenario: &Scenario, date: chrono::NaiveDate) -> DateTime<FixedOffset> {
    let utc = peakcrew_core::model::local_to_utc(
        scenario.time_zone,
        date.and_time(chrono::NaiveTime::MIN),
    );
    let offset = utc.with_timezone(&scenario.time_zone).offset().fix();
    utc.with_timezone(&offset)
}

/// Consecutive intervals of one queue where `short(row)` holds, merged into spans, for warnings.
pub fn merge_spans<T>(
    rows: &[T],
    minutes: u32,
    start: impl Fn(&T) -> DateTime<FixedOffset>,
    short: impl Fn(&T) -> bool,
) -> Vec<(TimeSpan, usize)> {
    let mut spans: Vec<(TimeSpan, usize)> = Vec::new();
    let step = Duration::minutes(minutes as i64);
    for r in rows.iter().filter(|r| short(r)) {
        let s = start(r);
        match spans.last_mut() {
            Some((span, n)) if span.end == s => {
                span.end = s + step;
                *n += 1;
            }
            _ => spans.push((
                TimeSpan {
                    start: s,
                    end: s + step,
                },
                1,
            )),
        }
    }
    spans
}

/// A KPI with its status computed from the target.
pub fn kpi(
    name: &str,
    value: f64,
    format: KpiFormat,
    target: Option<(f64, TargetDirection)>,
    note: Option<String>,
) -> Kpi {
    let status = match target {
        None => Status::Ok,
        Some((t, TargetDirection::AtLeast)) if value >= t => Status::Ok,
        Some((t, TargetDirection::AtMost)) if value <= t => Status::Ok,
        Some((t, TargetDirection::AtLeast)) if value >= t * 0.95 => Status::Warn,
        Some((t, TargetDirection::AtMost)) if value <= t * 1.5 => Status::Warn,
        Some(_) => Status::Bad,
    };
    Kpi {
        name: name.to_string(),
        value,
        format,
        target: target.map(|(value, direction)| KpiTarget { value, direction }),
        status,
        note,
    }
}

/// Forecast and staffing, the first two stages.
pub fn forecast_and_staff(
    scenario: &Scenario,
    history: &History,
) -> Result<(Forecast, Vec<Requirement>), PlanError> {
    let fc = forecast::forecast_scenario(
        scenario,
        history,
        scenario.horizon.start,
        scenario.horizon.days,
    )
    .map_err(failed(Stage::Forecast))?;
    let loads: Vec<staffing::requirements::IntervalLoad> = fc.rows.iter().map(Into::into).collect();
    let reqs =
        staffing::requirements::requirements(scenario, &loads).map_err(failed(Stage::Staffing))?;
    Ok((fc, reqs))
}

/// Warnings for queues whose forecast needed a fallback, from the forecaster's own words.
pub fn forecast_warnings(forecast: &Forecast) -> Vec<Warning> {
    forecast
        .warnings
        .iter()
        .map(|w| Warning {
            severity: Severity::Info,
            queue: None,
            span: None,
            message: w.clone(),
        })
        .collect()
}

/// What the stages produced, for the report and summary.json.
pub struct PlanOutputs<'a> {
    pub scenario: &'a Scenario,
    pub history: &'a History,
    pub forecast: &'a Forecast,
    pub requirements: &'a [Requirement],
    pub shifts: &'a ShiftPlan,
    pub roster: &'a Roster,
    /// Coverage the roster delivers (equal to the plan's when every shift is filled).
    pub coverage: &'a [CoverageRow],
    /// The roster simulated through the routing core.
    pub simulation: &'a SimReport,
}

/// Queue-intervals short of their requirement, and the agent-hours missing, in a coverage.
pub fn understaffing(coverage: &[CoverageRow], interval_minutes: u32) -> (usize, f64) {
    let short = coverage.iter().filter(|c| c.under > 1e-6);
    let hours = interval_minutes as f64 / 60.0;
    let mut n = 0;
    let mut missing = 0.0;
    for c in short {
        n += 1;
        missing += c.under * hours;
    }
    (n, missing)
}

/// The roster as Gantt rows, one per agent, in the order of the roster (by agent).
pub fn gantt_rows(roster: &Roster) -> Vec<GanttRow> {
    let mut rows: Vec<GanttRow> = Vec::new();
    for a in &roster.assignments {
        let shift = GanttShift {
            start: a.start,
            end: a.end,
            skill: a.primary_skill.clone(),
            breaks: a
                .breaks
                .iter()
                .map(|b| TimeSpan {
                    start: b.start,
                    end: b.end,
                })
                .collect(),
        };
        match rows.last_mut() {
            Some(row) if row.agent == a.agent => row.shifts.push(shift),
            _ => rows.push(GanttRow {
                agent: a.agent.clone(),
                group: a.group.clone(),
                shifts: vec![shift],
            }),
        }
    }
    rows
}

/// The simulated share of one channel's contacts answered within their queue's answer time,
/// with the contact-weighted target, as a KPI named after the business measure ("chats first
/// answered within 90 s"). `None` when the channel has no queue with a service-level target.
fn channel_service_kpi(sim: &SimReport, channel: Channel, what: &str) -> Option<Kpi> {
    let queues: Vec<_> = sim
        .queues
        .iter()
        .filter(|q| q.channel == channel && q.target.is_some())
        .filter(|q| q.metrics.service_level.is_some() && q.metrics.offered > 0.0)
        .collect();
    let contacts: f64 = queues.iter().map(|q| q.metrics.offered).sum();
    if queues.is_empty() || contacts <= 0.0 {
        return None;
    }
    let weighted = |f: &dyn Fn(&peakcrew_sim::QueueReport) -> f64| {
        queues.iter().map(|q| q.metrics.offered * f(q)).sum::<f64>() / contacts
    };
    let share = weighted(&|q| q.metrics.service_level.as_ref().map_or(0.0, |e| e.mean));
    let target = weighted(&|q| q.target.unwrap_or(0.0));
    let first = queues[0].answer_seconds;
    let within = if queues.iter().all(|q| q.answer_seconds == first) {
        format!("within {first:.0} s")
    } else {
        "within their queue's answer time".to_string()
    };
    Some(kpi(
        &format!("{what} {within} (simulated)"),
        share,
        KpiFormat::Percent,
        Some((target, TargetDirection::AtLeast)),
        Some(format!(
            "{} queue(s), {:.0} contacts a replication",
            queues.len(),
            contacts
        )),
    ))
}

/// The simulation's KPIs: the business's answer-time measures per channel, abandonment,
/// occupancy.
pub fn simulation_kpis(sim: &SimReport) -> Vec<Kpi> {
    let mut out: Vec<Kpi> = [
        (Channel::Chat, "Chats first answered"),
        (Channel::Phone, "Calls answered"),
    ]
    .into_iter()
    .filter_map(|(channel, what)| channel_service_kpi(sim, channel, what))
    .collect();
    let ci = |e: &peakcrew_sim::Estimate| match (e.ci95_low, e.ci95_high) {
        (Some(lo), Some(hi)) => format!(
            "95% CI {:.1}–{:.1}% over {} replications",
            lo * 100.0,
            hi * 100.0,
            e.n
        ),
        _ => format!("{} replication(s)", e.n),
    };
    if let Some(e) = &sim.overall.abandonment_rate {
        out.push(kpi(
            "Abandonment (simulated)",
            e.mean,
            KpiFormat::Percent,
            None,
            Some(ci(e)),
        ));
    }
    if let Some(e) = &sim.overall.occupancy {
        out.push(kpi(
            "Occupancy (simulated)",
            e.mean,
            KpiFormat::Percent,
            None,
            Some(ci(e)),
        ));
    }
    out
}

/// Simulated service level per interval for every queue with a service-level target.
pub fn service_series(sim: &SimReport) -> Vec<ServiceSeries> {
    sim.queues
        .iter()
        .filter_map(|q| {
            let target = q.target?;
            q.metrics.service_level.as_ref()?;
            let what = if q.channel == Channel::Phone {
                "answered"
            } else {
                "first answered"
            };
            Some(ServiceSeries {
                queue: q.queue.clone(),
                target,
                measure: format!("{what} within {:.0} s", q.answer_seconds),
                points: sim
                    .intervals
                    .iter()
                    .filter(|iv| iv.queue == q.queue)
                    .map(|iv| {
                        let sl = iv.metrics.service_level.as_ref();
                        ServicePoint {
                            t: iv.start,
                            service_level: sl.map(|e| e.mean),
                            ci_low: sl.and_then(|e| e.ci95_low),
                            ci_high: sl.and_then(|e| e.ci95_high),
                        }
                    })
                    .collect(),
            })
        })
        .collect()
}

/// The report for a plan: KPIs, warnings, forecast, coverage and roster.
pub fn report_input(out: &PlanOutputs) -> ReportInput {
    let scenario = out.scenario;
    let s = &out.shifts.summary;
    let r = &out.roster.summary;
    let currency = "¥".to_string();
    let (short_intervals, short_hours) = understaffing(out.coverage, scenario.interval_minutes);
    let mut kpis = vec![
        kpi("Paid hours", s.paid_hours, KpiFormat::Hours, None, None),
        kpi(
            "Labour cost",
            s.paid_cost,
            KpiFormat::Money { currency },
            None,
            Some(format!("{} shifts", s.shifts)),
        ),
        kpi(
            "Required agent-hours (after shrinkage)",
            out.requirements
                .iter()
                .map(|r| r.required as f64 * r.interval_minutes as f64 / 60.0)
                .sum(),
            KpiFormat::Hours,
            None,
            None,
        ),
        kpi(
            "Understaffed queue-intervals",
            short_intervals as f64,
            KpiFormat::Count,
            Some((0.0, TargetDirection::AtMost)),
            Some(format!("{short_hours:.0} agent-hours short, as rostered")),
        ),
        kpi(
            "Solver gap",
            s.gap.unwrap_or(0.0),
            KpiFormat::Percent,
            Some((0.01, TargetDirection::AtMost)),
            Some(format!("{} in {:.1} s", s.status.as_str(), s.solve_seconds)),
        ),
        kpi(
            "Shifts filled by named agents",
            r.filled_shifts as f64 / (r.planned_shifts.max(1)) as f64,
            KpiFormat::Percent,
            Some((1.0, TargetDirection::AtLeast)),
            Some(format!(
                "{} of {} shifts, {} of {} agents rostered",
                r.filled_shifts, r.planned_shifts, r.rostered_agents, r.agents
            )),
        ),
    ];
    kpis.extend(simulation_kpis(out.simulation));
    let scheduled_hours = s.paid_hours.max(1e-9);
    let required_hours: f64 = out.coverage.iter().map(|c| c.required).sum::<f64>()
        * scenario.interval_minutes as f64
        / 60.0;
    kpis.push(kpi(
        "Planned utilization (required / paid hours)",
        required_hours / scheduled_hours,
        KpiFormat::Percent,
        None,
        None,
    ));

    let mut warnings = forecast_warnings(out.forecast);
    for sf in &s.shortfalls {
        warnings.push(Warning {
            severity: if sf.short_agent_hours >= 10.0 {
                Severity::Critical
            } else {
                Severity::Warning
            },
            queue: Some(sf.queue.clone()),
            span: Some(TimeSpan {
                start: sf.from,
                end: sf.to,
            }),
            message: sf.message.clone(),
        });
    }
    for u in &r.unfilled {
        warnings.push(Warning {
            severity: Severity::Warning,
            queue: None,
            span: None,
            message: format!(
                "roster: {} {} shift at {} has {} agent(s) missing: {}",
                u.group,
                u.template,
                u.start.format("%-d %b %H:%M"),
                u.missing,
                u.reason
            ),
        });
    }
    for c in &r.contract_shortfalls {
        warnings.push(Warning {
            severity: Severity::Warning,
            queue: None,
            span: None,
            message: format!(
                "roster: {} works {:.1} h in week {}, below the contract minimum of {:.1} h",
                c.agent,
                c.hours,
                c.week + 1,
                c.min_weekly_hours
            ),
        });
    }
    for q in &out.simulation.queues {
        let (Some(target), Some(sl)) = (q.target, q.metrics.service_level.as_ref()) else {
            continue;
        };
        if sl.mean < target {
            warnings.push(Warning {
                severity: if sl.mean < target - 0.05 {
                    Severity::Critical
                } else {
                    Severity::Warning
                },
                queue: Some(q.queue.clone()),
                span: None,
                message: format!(
                    "{}: simulated service level {:.1}% is below its target of {:.0}% (answered \
                     within {:.0} s), with the roster as planned, the scenario's shrinkage and \
                     the routing core's policy",
                    q.queue,
                    sl.mean * 100.0,
                    target * 100.0,
                    q.answer_seconds
                ),
            });
        }
    }
    let coverage = scenario
        .queues
        .iter()
        .map(|q| report::CoverageSeries {
            queue: q.id.clone(),
            points: out
                .coverage
                .iter()
                .filter(|c| c.queue == q.id)
                .map(|c| report::CoveragePoint {
                    t: c.start,
                    required: c.required,
                    scheduled: c.allocated,
                })
                .collect(),
        })
        .collect();
    ReportInput {
        title: format!("{} — staffing plan", scenario.name),
        scenario_name: scenario.name.clone(),
        horizon: horizon_span(scenario),
        time_zone: scenario.time_zone,
        interval_minutes: scenario.interval_minutes,
        kpis,
        warnings,
        forecast: forecast_series(scenario, out.history, out.forecast),
        coverage,
        roster: gantt_rows(out.roster),
        service: service_series(out.simulation),
    }
}
