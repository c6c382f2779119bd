//! The roster section: a Gantt chart with one row per agent over the horizon, each shift a bar
//! colored by its primary skill, breaks cut out in white.
//!
//! Every row is rendered (as its own small SVG) so the page reads without a script; the inline
//! script then pages the rows (50 at a time), filters them by agent, group or skill, and zooms to
//! one day by changing the rows' view boxes. Rows draw the horizon on x in 0..1000 with
//! `preserveAspectRatio="none"`, so a zoom is only a view-box change; the time axis, whose text
//! must not stretch, is pre-rendered once per view instead.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::{self, Write};

use chrono::{Duration, NaiveTime, TimeZone};

use super::input::{GanttRow, GanttShift, ReportInput, TimeSpan};
use super::svg::{time_ticks, PathData, TimeScale, P};
use super::text::{compact, local, span, thousands, Esc};
use super::{legend, LegendKey};

/// Rows per page when the script runs.
pub const PAGE_SIZE: usize = 50;
/// Width of the rows' view box: the horizon maps onto 0..ROW_W.
const ROW_W: f64 = 1000.0;
const ROW_H: f64 = 16.0;
/// Skill colors; CSS classes k0…k11 carry them, and skills beyond them reuse them in turn.
pub const SKILL_COLORS: [&str; 12] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1", "#edc948", "#9c755f",
    "#ff9da7", "#17becf", "#8c6d31", "#637939",
];

/// One way to look at the roster: the whole horizon, or one local day.
struct View {
    label: String,
    /// Seconds since the epoch.
    start: i64,
    end: i64,
}

fn views(input: &ReportInput) -> Vec<View> {
    let tz = input.time_zone;
    let (h0, h1) = (
        input.horizon.start.timestamp(),
        input.horizon.end.timestamp(),
    );
    let mut out = vec![View {
        label: "Whole horizon".to_string(),
        start: h0,
        end: h1,
    }];
    let first = local(tz, &input.horizon.start).date_naive();
    let last = local(tz, &input.horizon.end).date_naive();
    let midnight = |d: chrono::NaiveDate| {
        tz.from_local_datetime(&d.and_time(NaiveTime::MIN))
            .earliest()
            .map(|t| t.timestamp())
    };
    let mut day = first;
    while day <= last {
        let next = day + Duration::days(1);
        if let (Some(a), Some(b)) = (midnight(day), midnight(next)) {
            let (a, b) = (a.max(h0), b.min(h1));
            if b > a {
                out.push(View {
                    label: day.format("%a %Y-%m-%d").to_string(),
                    start: a,
                    end: b,
                });
            }
        }
        day = next;
    }
    out
}

pub fn section(out: &mut String, input: &ReportInput) -> fmt::Result {
    out.push_str(r#"<section id="roster"><h2>Roster</h2>"#);
    if input.roster.is_empty() {
        out.push_str(r#"<p class="nodata">No roster data.</p></section>"#);
        return Ok(());
    }
    let tz = input.time_zone;
    let skills: BTreeMap<&str, usize> = input
        .roster
        .iter()
        .flat_map(|r| r.shifts.iter().map(|s| s.skill.as_str()))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .enumerate()
        .map(|(i, skill)| (skill, i % SKILL_COLORS.len()))
        .collect();
    let shifts: usize = input.roster.iter().map(|r| r.shifts.len()).sum();
    write!(
        out,
        r#"<p class="lede">{} agents on {} shifts. Each bar is a shift colored by the skill worked; white cuts are breaks. Hover a bar for its times. Filter by agent, group or skill, and pick a day to zoom in.</p>"#,
        thousands(input.roster.len() as f64, 0),
        thousands(shifts as f64, 0)
    )?;
    let keys: Vec<LegendKey> = skills
        .iter()
        .map(|(skill, i)| LegendKey::Area(SKILL_COLORS[*i], skill))
        .collect();
    legend(out, &keys)?;

    let views = views(input);
    let xs = TimeScale::new(&input.horizon.start, &input.horizon.end, 0.0, ROW_W);
    write!(
        out,
        r#"<div class="gantt" id="gantt" data-page-size="{PAGE_SIZE}"><div class="gantt-controls" hidden><input type="search" id="gantt-filter" placeholder="Filter by agent, group or skill" aria-label="Filter the roster"><select id="gantt-view" aria-label="Time range">"#
    )?;
    for view in &views {
        let (x0, x1) = (xs.x_secs(view.start), xs.x_secs(view.end));
        write!(
            out,
            r#"<option value="{} {}">{}</option>"#,
            P(x0),
            P(x1 - x0),
            Esc(&view.label)
        )?;
    }
    out.push_str(r#"</select><span class="pager"><button type="button" id="gantt-prev">‹ Previous</button><span id="gantt-info"></span><button type="button" id="gantt-next">Next ›</button></span></div>"#);

    out.push_str(
        r#"<div class="gantt-head"><div>Agent</div><div>Group</div><div class="gantt-axis">"#,
    );
    for (i, view) in views.iter().enumerate() {
        axis(out, input, view, i > 0)?;
    }
    out.push_str("</div></div>");

    out.push_str(r#"<div class="gantt-body">"#);
    grid(out, input, &xs)?;
    for row in &input.roster {
        gantt_row(out, tz, &xs, &skills, row)?;
    }
    out.push_str(
        r#"</div><p class="nodata" id="gantt-empty" hidden>No agent matches the filter.</p></div>"#,
    );
    write!(
        out,
        r#"<p class="note">Times in {}. The script shows {PAGE_SIZE} agents per page; without it every agent is listed.</p></section>"#,
        Esc(tz.name())
    )
}

/// The time axis of one view, mapped onto the same 0..ROW_W as the rows it heads.
fn axis(out: &mut String, input: &ReportInput, view: &View, hidden: bool) -> fmt::Result {
    let scale = TimeScale {
        t0: view.start,
        t1: view.end.max(view.start + 1),
        x0: 0.0,
        x1: ROW_W,
    };
    write!(
        out,
        r#"<div{}><svg viewBox="0 0 {} 20" class="gantt-ticks" aria-label="{}">"#,
        if hidden { " hidden" } else { "" },
        P(ROW_W),
        Esc(&view.label)
    )?;
    // At least ~110 units per label, so `Mon 11-11` and the next time never touch.
    for tick in time_ticks(input.time_zone, scale.t0, scale.t1, 9) {
        let x = scale.x_secs(tick.secs);
        let anchor = if x < 30.0 {
            "start"
        } else if x > ROW_W - 30.0 {
            "end"
        } else {
            "middle"
        };
        write!(
            out,
            r#"<line x1="{x}" x2="{x}" y1="15" y2="20"/><text x="{x}" y="12" text-anchor="{anchor}">{}</text>"#,
            Esc(&tick.label),
            x = P(x)
        )?;
    }
    out.push_str("</svg></div>");
    Ok(())
}

/// Day and six-hour lines behind all rows, in one SVG that stretches with the body.
fn grid(out: &mut String, input: &ReportInput, xs: &TimeScale) -> fmt::Result {
    let ticks = time_ticks(input.time_zone, xs.t0, xs.t1, 1_000);
    let mut days = String::new();
    let mut quarters = String::new();
    for tick in ticks {
        let target = if tick.day_start {
            &mut days
        } else if tick.minute_of_day % 360 == 0 {
            &mut quarters
        } else {
            continue;
        };
        let _ = write!(target, "M{} 0V1", P(xs.x_secs(tick.secs)));
    }
    write!(
        out,
        r#"<svg class="gt gantt-grid" viewBox="0 0 {} 1" preserveAspectRatio="none" aria-hidden="true"><path class="q" d="{quarters}" vector-effect="non-scaling-stroke"/><path class="d" d="{days}" vector-effect="non-scaling-stroke"/></svg>"#,
        P(ROW_W)
    )
}

fn shift_title(tz: chrono_tz::Tz, shift: &GanttShift) -> String {
    let spanned = TimeSpan {
        start: shift.start,
        end: shift.end,
    };
    let hours = (shift.end - shift.start).num_minutes() as f64 / 60.0;
    let mut title = format!(
        "{} · {}\n{} h",
        span(tz, &spanned),
        shift.skill,
        compact(hours, 2)
    );
    if shift.breaks.is_empty() {
        title.push_str(", no breaks");
    } else {
        title.push_str(", breaks ");
        for (i, b) in shift.breaks.iter().enumerate() {
            let _ = write!(
                title,
                "{}{}–{}",
                if i > 0 { ", " } else { "" },
                super::text::clock(tz, &b.start),
                super::text::clock(tz, &b.end)
            );
        }
    }
    title
}

fn gantt_row(
    out: &mut String,
    tz: chrono_tz::Tz,
    xs: &TimeScale,
    skills: &BTreeMap<&str, usize>,
    row: &GanttRow,
) -> fmt::Result {
    let row_skills: BTreeSet<&str> = row.shifts.iter().map(|s| s.skill.as_str()).collect();
    let mut search = format!("{} {}", row.agent, row.group);
    for skill in &row_skills {
        search.push(' ');
        search.push_str(skill);
    }
    write!(
        out,
        r#"<div class="gr" data-k="{}"><div class="ga" title="{agent}">{agent}</div><div class="gg" title="{group}">{group}</div><svg class="gt" viewBox="0 0 {} {}" preserveAspectRatio="none">"#,
        Esc(&search.to_lowercase()),
        P(ROW_W),
        P(ROW_H),
        agent = Esc(&row.agent),
        group = Esc(&row.group),
    )?;
    for shift in &row.shifts {
        let (xa, xb) = (xs.x_clamped(&shift.start), xs.x_clamped(&shift.end));
        if xb <= xa {
            continue;
        }
        let mut bar = PathData::new();
        bar.rect(xa, 2.0, xa + (xb - xa).max(0.3), 14.0);
        let mut cuts = PathData::new();
        for b in &shift.breaks {
            let (ba, bb) = (xs.x_clamped(&b.start).max(xa), xs.x_clamped(&b.end).min(xb));
            if bb > ba {
                cuts.rect(ba, 2.0, ba + (bb - ba).max(0.2), 14.0);
            }
        }
        write!(
            out,
            r#"<g class="k{}"><title>{}</title><path d="{}"/>"#,
            skills.get(shift.skill.as_str()).copied().unwrap_or(0),
            Esc(&shift_title(tz, shift)),
            bar.finish()
        )?;
        if !cuts.is_empty() {
            write!(out, r#"<path class="br" d="{}"/>"#, cuts.finish())?;
        }
        out.push_str("</g>");
    }
    out.push_str("</svg></div>");
    Ok(())
}
