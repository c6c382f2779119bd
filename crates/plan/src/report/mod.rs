//! The planner's report: one self-contained HTML file a director can read — header, KPI table,
//! warnings, then the charts (forecast, staffing coverage, simulated service level, roster).
//!
//! This module owns the report's input types ([`ReportInput`] and its parts, plain serde data
//! that depends on no other stage: the `plan` glue maps each stage's output into them) and
//! [`render_html`], which turns them into the page. It computes nothing about the plan itself;
//! every number shown is given, or counted from what is given (e.g. "short in 14 intervals").
//!
//! Invariants of the page:
//! - **Self-contained**: inline CSS, inline SVG and one small inline script (roster paging,
//!   filtering and day zoom); no network, no external fonts, images or scripts. Without the
//!   script every section still reads; only the roster shows all rows at once.
//! - **Escaped**: every text from the input goes through [`text::Esc`], so names with `<`, `&`,
//!   quotes or CJK are shown as written and never become markup.
//! - **Deterministic**: the same input gives the same bytes (no clock, no randomness).
//! - **Bounded size**: lines are reduced to at most two vertices per pixel column, path data is
//!   relative and rounded to tenths, tooltips are per time bucket (see [`svg`]), and the heatmap
//!   has at most ~200 columns per queue; warnings list at most 300. Only the roster grows with
//!   its data (about 1.4 kB per agent-week), so 700 agents over a week of 96 intervals and
//!   10 queues (28 days of history) come to about 2.5 MB.
//! - **Local time**: every time is shown in [`ReportInput::time_zone`]; axis ticks sit on local
//!   midnights and hours, across DST changes.

mod coverage_chart;
mod forecast_chart;
mod gantt;
mod input;
mod service_chart;
mod svg;
mod tables;
mod text;

/// A seeded sample report for the unit tests and the browser test (not a product path).
#[doc(hidden)]
pub mod sample;
#[cfg(test)]
mod tests;

use std::fmt::{self, Write};

use chrono_tz::Tz;

pub use input::{
    CoveragePoint, CoverageSeries, EventWindow, ForecastPoint, ForecastSeries, GanttRow,
    GanttShift, HistoryPoint, Instant, Kpi, KpiFormat, KpiTarget, ReportInput, ServicePoint,
    ServiceSeries, Severity, Status, TargetDirection, TimeSpan, Warning,
};
pub use tables::kpi_value;

use text::Esc;

const STYLE: &str = include_str!("report.css");
const SCRIPT: &str = include_str!("report.js");

/// The whole report as one HTML document.
pub fn render_html(input: &ReportInput) -> String {
    let mut html = String::with_capacity(64 * 1024 + input.roster.len() * 2048);
    // fmt::Write for String never fails and no Display impl used here returns an error.
    write_page(&mut html, input).expect("formatting into a String cannot fail");
    html
}

fn write_page(out: &mut String, input: &ReportInput) -> fmt::Result {
    write!(
        out,
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{}</title><style>{STYLE}</style></head><body>"#,
        Esc(&input.title)
    )?;
    header(out, input)?;
    out.push_str("<main>");
    tables::kpi_section(out, &input.kpis)?;
    tables::warning_section(out, input)?;
    forecast_chart::section(out, input)?;
    coverage_chart::section(out, input)?;
    service_chart::section(out, input)?;
    gantt::section(out, input)?;
    write!(out, "</main><script>{SCRIPT}</script></body></html>")
}

fn header(out: &mut String, input: &ReportInput) -> fmt::Result {
    let tz = input.time_zone;
    let minutes = (input.horizon.end - input.horizon.start).num_minutes();
    let length = if minutes % 1440 == 0 {
        let days = minutes / 1440;
        format!("{days} day{}", if days == 1 { "" } else { "s" })
    } else {
        format!("{} h", text::compact(minutes as f64 / 60.0, 1))
    };
    write!(
        out,
        r##"<header><h1>{}</h1><dl class="meta"><div><dt>Scenario</dt><dd>{}</dd></div><div><dt>Horizon</dt><dd>{} ({length})</dd></div><div><dt>Time zone</dt><dd>{}</dd></div><div><dt>Interval</dt><dd>{} min</dd></div></dl><nav><a href="#kpis">Key figures</a><a href="#warnings">Warnings{}</a><a href="#forecast">Forecast</a><a href="#coverage">Coverage</a><a href="#service">Service level</a><a href="#roster">Roster</a></nav></header>"##,
        Esc(&input.title),
        Esc(&input.scenario_name),
        Esc(&text::span(tz, &input.horizon)),
        Esc(tz.name()),
        input.interval_minutes,
        if input.warnings.is_empty() {
            String::new()
        } else {
            format!(r#" <span class="badge">{}</span>"#, input.warnings.len())
        }
    )
}

/// A chart's frame in the page: the queue as its title and a one-line summary.
fn figure_start(out: &mut String, queue: &str, summary: &str) -> fmt::Result {
    write!(
        out,
        r#"<figure class="chart"><figcaption><b>{}</b><span>{}</span></figcaption>"#,
        Esc(queue),
        Esc(summary)
    )
}

fn figure_end(out: &mut String) -> fmt::Result {
    out.push_str("</figure>");
    Ok(())
}

/// One entry of a section's legend: a color (a CSS value) and what it stands for.
enum LegendKey<'a> {
    Line(&'a str, &'a str),
    Dash(&'a str, &'a str),
    Area(&'a str, &'a str),
}

fn legend(out: &mut String, keys: &[LegendKey]) -> fmt::Result {
    out.push_str(r#"<div class="legend">"#);
    for key in keys {
        let (class, color, label) = match key {
            LegendKey::Line(c, l) => ("line", c, l),
            LegendKey::Dash(c, l) => ("dash", c, l),
            LegendKey::Area(c, l) => ("area", c, l),
        };
        write!(
            out,
            r#"<span class="key"><i class="sw {class}" style="--c:{}"></i>{}</span>"#,
            Esc(color),
            Esc(label)
        )?;
    }
    out.push_str("</div>");
    Ok(())
}

/// The tooltip heading of a time bucket starting at `start` (seconds): one interval's start
/// (`Mon 11-11 10:15`), or the bucket's span (`Mon 11-11 10:00–11:00`).
fn bucket_label(tz: Tz, start: i64, bucket_secs: i64, single_interval: bool) -> String {
    let at = |secs: i64| {
        chrono::DateTime::from_timestamp(secs, 0)
            .unwrap_or_default()
            .fixed_offset()
    };
    if single_interval {
        text::day_time(tz, &at(start))
    } else {
        text::span(
            tz,
            &TimeSpan {
                start: at(start),
                end: at(start + bucket_secs),
            },
        )
    }
}
