//! The coverage section: a heatmap of over/under staffing (queues × time) for the overview, then
//! per queue the required agents as a grey area, the scheduled agents as a line, and every
//! shortfall filled red. Agents are counts per interval, so both series are drawn as steps.
//!
//! **Heatmap cells.** A cell covers one time bucket (the interval itself when the horizon is
//! short, an hour for a week of 15-minute intervals; see [`bucket_minutes`]) and takes the color of
//! its *worst* interval, judged by the relative gap `(scheduled − required) / max(required, 1)`:
//! a single understaffed interval makes its hour red. Any shortfall is red, so the red cells count
//! the same intervals as the "understaffed intervals" KPI.

use std::fmt::{self, Write};

use super::input::{CoveragePoint, CoverageSeries, ReportInput};
use super::svg::{
    bucket_minutes, decimate, hover_rect, nice_ticks, time_axis, value_axis, Frame, PathData,
    TimeScale, ValueScale, P,
};
use super::text::{clock, compact, day_time, percent, thousands, Esc};
use super::{bucket_label, figure_end, figure_start, legend, LegendKey};

/// Heatmap classes from worst shortfall to largest surplus, with their legend labels.
const GAP_CLASSES: [(&str, &str); 7] = [
    ("g0", "short ≥ 20%"),
    ("g1", "short 10–20%"),
    ("g2", "short < 10%"),
    ("g3", "exactly covered"),
    ("g4", "over < 10%"),
    ("g5", "over 10–20%"),
    ("g6", "over ≥ 20%"),
];
const NO_DEMAND: (&str, &str) = ("gn", "nothing required or scheduled");

/// `name` cut to `max` characters with an ellipsis, for a label column of fixed width (the full
/// name stays in the label's tooltip). Wide CJK characters count double.
fn shortened(name: &str, max: usize) -> String {
    let width = |c: char| if (c as u32) >= 0x1100 { 2 } else { 1 };
    if name.chars().map(width).sum::<usize>() <= max {
        return name.to_string();
    }
    let mut used = 0;
    let mut out: String = name
        .chars()
        .take_while(|c| {
            used += width(*c);
            used < max
        })
        .collect();
    out.push('…');
    out
}

fn gap(p: &CoveragePoint) -> f64 {
    p.scheduled - p.required
}

/// How bad an interval is, for picking a bucket's worst: the relative gap.
fn relative_gap(p: &CoveragePoint) -> f64 {
    gap(p) / p.required.max(1.0)
}

/// Points with both counts inside the horizon, the time axis of every coverage chart.
fn usable<'a>(input: &ReportInput, series: &'a CoverageSeries) -> Vec<&'a CoveragePoint> {
    let h = &input.horizon;
    series
        .points
        .iter()
        .filter(|p| p.required.is_finite() && p.scheduled.is_finite())
        .filter(|p| p.t >= h.start && p.t < h.end)
        .collect()
}

fn gap_class(p: &CoveragePoint) -> &'static str {
    let g = gap(p);
    if p.required <= 0.0 && p.scheduled <= 0.0 {
        return NO_DEMAND.0;
    }
    let r = relative_gap(p);
    let index = if g < -1e-9 {
        if r <= -0.2 {
            0
        } else if r <= -0.1 {
            1
        } else {
            2
        }
    } else if g <= 1e-9 {
        3
    } else if r < 0.1 {
        4
    } else if r < 0.2 {
        5
    } else {
        6
    };
    GAP_CLASSES[index].0
}

fn describe(p: &CoveragePoint) -> String {
    let g = gap(p);
    let verdict = if g < -1e-9 {
        format!(
            "short {} ({})",
            compact(-g, 1),
            percent(-g / p.required.max(1.0), 0)
        )
    } else if g > 1e-9 {
        format!("over {}", compact(g, 1))
    } else {
        "exactly covered".to_string()
    };
    format!(
        "required {}, scheduled {}: {verdict}",
        compact(p.required, 1),
        compact(p.scheduled, 1)
    )
}

/// The tooltip of a time bucket: the interval itself, or the bucket's worst interval and how
/// many of its intervals are short.
fn bucket_title(
    input: &ReportInput,
    start: i64,
    bucket_secs: i64,
    worst: &CoveragePoint,
    shorts: usize,
) -> String {
    let tz = input.time_zone;
    let single = bucket_secs == i64::from(input.interval_minutes) * 60;
    let mut title = bucket_label(tz, start, bucket_secs, single);
    if single {
        let _ = write!(title, "\n{}", describe(worst));
    } else {
        let _ = write!(
            title,
            "\nworst interval {}: {}",
            clock(tz, &worst.t),
            describe(worst)
        );
        if shorts > 0 {
            let _ = write!(title, "\n{shorts} of its intervals short");
        }
    }
    title
}

/// Points of `series` grouped by bucket index on `xs`, keeping each bucket's worst interval.
fn worst_per_bucket<'a>(
    points: &[&'a CoveragePoint],
    xs: &TimeScale,
    bucket_secs: i64,
) -> Vec<(i64, &'a CoveragePoint, usize)> {
    let mut out: Vec<(i64, &CoveragePoint, usize)> = Vec::new();
    for &p in points {
        let index = (p.t.timestamp() - xs.t0).div_euclid(bucket_secs);
        let short = usize::from(gap(p) < -1e-9);
        match out.last_mut() {
            Some((i, worst, shorts)) if *i == index => {
                *shorts += short;
                if relative_gap(p) < relative_gap(worst) {
                    *worst = p;
                }
            }
            _ => out.push((index, p, short)),
        }
    }
    out
}

pub fn section(out: &mut String, input: &ReportInput) -> fmt::Result {
    out.push_str(r#"<section id="coverage"><h2>Staffing coverage</h2>"#);
    let series: Vec<&CoverageSeries> = input
        .coverage
        .iter()
        .filter(|s| !usable(input, s).is_empty())
        .collect();
    if series.is_empty() {
        out.push_str(r#"<p class="nodata">No coverage data.</p></section>"#);
        return Ok(());
    }
    out.push_str(r#"<p class="lede">Agents scheduled against agents required, per queue. The heatmap gives the overview: each cell is one queue over one time slot, colored by its worst interval (red: short of the requirement, blue: more than required). The charts below show each queue in detail; red fill and the red marks along the time axis show shortfalls.</p>"#);
    heatmap(out, input, &series)?;
    legend(
        out,
        &[
            LegendKey::Area("var(--req)", "Required"),
            LegendKey::Line("var(--sched)", "Scheduled"),
            LegendKey::Area("var(--short)", "Shortfall"),
        ],
    )?;
    out.push_str(r#"<div class="charts">"#);
    for s in series {
        chart(out, input, s)?;
    }
    out.push_str("</div></section>");
    Ok(())
}

fn heatmap(out: &mut String, input: &ReportInput, series: &[&CoverageSeries]) -> fmt::Result {
    let tz = input.time_zone;
    const ROW: f64 = 22.0;
    let frame = Frame {
        width: 1280.0,
        height: 8.0 + ROW * series.len() as f64 + 44.0,
        left: 170.0,
        right: 1280.0 - 84.0,
        top: 8.0,
        bottom: 8.0 + ROW * series.len() as f64,
    };
    let xs = TimeScale::new(
        &input.horizon.start,
        &input.horizon.end,
        frame.left,
        frame.right,
    );
    let bucket = bucket_minutes((xs.t1 - xs.t0) / 60, input.interval_minutes, 192) * 60;
    let single = bucket == i64::from(input.interval_minutes) * 60;
    frame.open(
        out,
        "chart heatmap",
        "Over and under staffing by queue and time",
    )?;
    time_axis(out, tz, &xs, &frame, &format!("Local time ({})", tz.name()))?;
    write!(
        out,
        r#"<text class="colhead" x="{}" y="{}" text-anchor="end">short</text>"#,
        P(frame.width - 6.0),
        P(frame.bottom + 14.0)
    )?;
    for (row, s) in series.iter().enumerate() {
        let y = frame.top + row as f64 * ROW;
        write!(
            out,
            r#"<text class="rowhead" x="{}" y="{}" text-anchor="end"><title>{}</title>{}</text>"#,
            P(frame.left - 8.0),
            P(y + ROW / 2.0 + 4.0),
            Esc(&s.queue),
            Esc(&shortened(&s.queue, 22))
        )?;
        let mut short_intervals = 0;
        for (index, worst, shorts) in worst_per_bucket(&usable(input, s), &xs, bucket) {
            short_intervals += shorts;
            let start = xs.t0 + index * bucket;
            let (xa, xb) = (
                xs.x_secs(start).max(frame.left),
                xs.x_secs(start + bucket).min(frame.right),
            );
            if xb <= xa {
                continue;
            }
            let title = format!(
                "{}\n{}",
                s.queue,
                bucket_title(input, start, bucket, worst, shorts)
            );
            // Cells overlap by a hair so no background seams show between them.
            write!(
                out,
                r#"<rect class="{}" x="{}" y="{}" width="{}" height="{}"><title>{}</title></rect>"#,
                gap_class(worst),
                P(xa),
                P(y + 1.0),
                P(xb - xa + 0.3),
                P(ROW - 2.0),
                Esc(&title)
            )?;
        }
        write!(
            out,
            r#"<text class="count{}" x="{}" y="{}" text-anchor="end">{}</text>"#,
            if short_intervals > 0 { " bad" } else { "" },
            P(frame.width - 6.0),
            P(y + ROW / 2.0 + 4.0),
            thousands(short_intervals as f64, 0)
        )?;
    }
    out.push_str("</svg>");
    let cell = if single {
        format!("{} min", input.interval_minutes)
    } else if bucket % 3600 == 0 {
        format!("{} h", bucket / 3600)
    } else {
        format!("{} min", bucket / 60)
    };
    write!(
        out,
        r#"<p class="note">One cell = {cell}; the right column counts understaffed intervals per queue.</p>"#
    )?;
    out.push_str(r#"<div class="legend">"#);
    for (class, label) in GAP_CLASSES.iter().chain(std::iter::once(&NO_DEMAND)) {
        write!(
            out,
            r#"<span class="key"><svg class="sw" viewBox="0 0 14 14"><rect class="{class}" width="14" height="14"/></svg>{}</span>"#,
            Esc(label)
        )?;
    }
    out.push_str("</div>");
    Ok(())
}

fn chart(out: &mut String, input: &ReportInput, series: &CoverageSeries) -> fmt::Result {
    let tz = input.time_zone;
    let frame = Frame::small_multiple();
    let xs = TimeScale::new(
        &input.horizon.start,
        &input.horizon.end,
        frame.left,
        frame.right,
    );
    let step = i64::from(input.interval_minutes) * 60;
    let points = usable(input, series);
    let max = points
        .iter()
        .flat_map(|p| [p.required, p.scheduled])
        .fold(0.0, f64::max);
    let (top, ticks) = nice_ticks(max);
    let ys = ValueScale {
        v0: 0.0,
        v1: top,
        y0: frame.bottom,
        y1: frame.top,
    };

    let short: Vec<&&CoveragePoint> = points.iter().filter(|p| gap(p) < -1e-9).collect();
    let summary = match short.iter().min_by(|a, b| gap(a).total_cmp(&gap(b))) {
        Some(worst) => format!(
            "short in {} of {} intervals, worst {} agent{} at {}",
            short.len(),
            points.len(),
            compact(-gap(worst), 1),
            if gap(worst) == -1.0 { "" } else { "s" },
            day_time(tz, &worst.t)
        ),
        None => format!(
            "covered in all {} intervals, peak requirement {}",
            points.len(),
            compact(points.iter().map(|p| p.required).fold(0.0, f64::max), 1)
        ),
    };
    figure_start(out, &series.queue, &summary)?;
    frame.open(out, "chart", &format!("Coverage for {}", series.queue))?;
    value_axis(out, &ys, &ticks, &frame, "agents", |v| compact(v, 2))?;
    time_axis(out, tz, &xs, &frame, &format!("Local time ({})", tz.name()))?;

    // Step vertices: each interval contributes its left and right edge at its value.
    let steps = |value: fn(&CoveragePoint) -> f64| -> Vec<(f64, f64)> {
        let vertices: Vec<(f64, f64)> = points
            .iter()
            .flat_map(|p| {
                let y = ys.y(value(p));
                [
                    (xs.x(&p.t).max(frame.left), y),
                    (xs.x_secs(p.t.timestamp() + step).min(frame.right), y),
                ]
            })
            .collect();
        decimate(
            &vertices,
            frame.left,
            frame.right,
            frame.plot_width() as usize,
        )
    };
    let required = steps(|p| p.required);
    if let (Some(first), Some(last)) = (required.first(), required.last()) {
        let mut d = PathData::new();
        d.move_to(first.0, frame.bottom);
        for (x, y) in &required {
            d.line_to(*x, *y);
        }
        d.line_to(last.0, frame.bottom);
        d.close();
        write!(out, r#"<path class="req" d="{}"/>"#, d.finish())?;
    }
    let mut d = PathData::new();
    for p in &short {
        d.rect(
            xs.x(&p.t),
            ys.y(p.required),
            xs.x_secs(p.t.timestamp() + step),
            ys.y(p.scheduled),
        );
    }
    write!(out, r#"<path class="short" d="{}"/>"#, d.finish())?;
    let mut d = PathData::new();
    for (x, y) in steps(|p| p.scheduled) {
        d.line_to(x, y);
    }
    write!(out, r#"<path class="sched" d="{}"/>"#, d.finish())?;
    // A shortfall of a few agents for 15 minutes is under a pixel wide on a week's axis; a rug
    // of marks along the baseline keeps every short stretch visible.
    let mut rug = PathData::new();
    let mut stretch: Option<(i64, i64)> = None;
    let mark = |rug: &mut PathData, (from, to): (i64, i64)| {
        let (xa, xb) = (xs.x_secs(from), xs.x_secs(to));
        rug.rect(xa, frame.bottom - 5.0, xb.max(xa + 1.5), frame.bottom);
    };
    for p in &short {
        let (from, to) = (p.t.timestamp(), p.t.timestamp() + step);
        stretch = match stretch {
            Some((a, b)) if from <= b => Some((a, to.max(b))),
            Some(done) => {
                mark(&mut rug, done);
                Some((from, to))
            }
            None => Some((from, to)),
        };
    }
    if let Some(done) = stretch {
        mark(&mut rug, done);
    }
    if !rug.is_empty() {
        write!(out, r#"<path class="rug" d="{}"/>"#, rug.finish())?;
    }

    let bucket = bucket_minutes((xs.t1 - xs.t0) / 60, input.interval_minutes, 160) * 60;
    for (index, worst, shorts) in worst_per_bucket(&points, &xs, bucket) {
        let start = xs.t0 + index * bucket;
        let title = bucket_title(input, start, bucket, worst, shorts);
        hover_rect(
            out,
            xs.x_secs(start).max(frame.left),
            xs.x_secs(start + bucket).min(frame.right),
            frame.top,
            frame.bottom,
            &title,
        )?;
    }
    out.push_str("</svg>");
    figure_end(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_row_labels_are_cut_by_display_width() {
        assert_eq!(shortened("Chat English", 22), "Chat English");
        assert_eq!(
            shortened("A very long queue name indeed", 12),
            "A very long…"
        );
        assert_eq!(shortened("物流售后退货退款专线客服组", 12), "物流售后退…");
    }
}
