//! The service-level section: per queue, the simulated share served within the threshold per
//! interval with its confidence band, against the target line; the area below the target is
//! tinted so a dip reads as bad at a glance. Intervals without contacts leave a gap.

use std::fmt::{self, Write};

use super::input::{ReportInput, ServicePoint, ServiceSeries};
use super::svg::{
    band_path, bucket_minutes, finite_runs, hover_rect, line_path, time_axis, value_axis, Frame,
    TimeScale, ValueScale, P,
};
use super::text::{clock, day_time, percent};
use super::{bucket_label, figure_end, figure_start, legend, LegendKey};

/// The bottom of the share axis and its ticks: the axis starts a little below the lowest share
/// drawn (or the target), on a round step, so that a week of 85–95% does not sit squeezed at
/// the top of a 0–100% axis.
fn share_ticks(lowest: f64) -> (f64, Vec<f64>) {
    let lowest = (lowest - 0.05).clamp(0.0, 1.0);
    let step = if lowest >= 0.7 {
        0.05
    } else if lowest >= 0.4 {
        0.1
    } else {
        0.25
    };
    let floor = ((lowest / step + 1e-9).floor() * step).max(0.0);
    let count = ((1.0 - floor) / step).round() as usize;
    (
        floor,
        (0..=count).map(|i| floor + i as f64 * step).collect(),
    )
}

/// Points inside the horizon, the chart's time axis.
fn in_horizon<'a>(input: &ReportInput, series: &'a ServiceSeries) -> Vec<&'a ServicePoint> {
    let h = &input.horizon;
    series
        .points
        .iter()
        .filter(|p| p.t >= h.start && p.t < h.end)
        .collect()
}

fn level(p: &ServicePoint) -> Option<f64> {
    p.service_level.filter(|v| v.is_finite())
}

pub fn section(out: &mut String, input: &ReportInput) -> fmt::Result {
    out.push_str(r#"<section id="service"><h2>Simulated service level</h2>"#);
    let series: Vec<&ServiceSeries> = input
        .service
        .iter()
        .filter(|s| in_horizon(input, s).iter().any(|p| level(p).is_some()))
        .collect();
    if series.is_empty() {
        out.push_str(r#"<p class="nodata">No simulation data.</p></section>"#);
        return Ok(());
    }
    out.push_str(r#"<p class="lede">Share of contacts served within each queue's promise, per interval, from replaying the roster through the router. The band is the confidence interval across replications; the dashed line is the target and the tinted area below it is a miss. Gaps are intervals without contacts.</p>"#);
    legend(
        out,
        &[
            LegendKey::Line("var(--sl)", "Service level"),
            LegendKey::Area("var(--sl-ci)", "Confidence interval"),
            LegendKey::Dash("var(--target)", "Target"),
        ],
    )?;
    out.push_str(r#"<div class="charts">"#);
    for s in series {
        chart(out, input, s)?;
    }
    out.push_str("</div></section>");
    Ok(())
}

fn chart(out: &mut String, input: &ReportInput, series: &ServiceSeries) -> fmt::Result {
    let tz = input.time_zone;
    let frame = Frame::small_multiple();
    let xs = TimeScale::new(
        &input.horizon.start,
        &input.horizon.end,
        frame.left,
        frame.right,
    );
    let points = in_horizon(input, series);
    let lowest_drawn = points
        .iter()
        .flat_map(|p| [level(p), p.ci_low])
        .flatten()
        .filter(|v| v.is_finite())
        .fold(series.target, f64::min);
    let (floor, ticks) = share_ticks(lowest_drawn);
    let ys = ValueScale {
        v0: floor,
        v1: 1.0,
        y0: frame.bottom,
        y1: frame.top,
    };
    let measured: Vec<(&ServicePoint, f64)> = points
        .iter()
        .filter_map(|&p| level(p).map(|v| (p, v)))
        .collect();
    let below = measured.iter().filter(|(_, v)| *v < series.target).count();
    let lowest = measured.iter().min_by(|a, b| a.1.total_cmp(&b.1));
    let mut summary = format!(
        "target {} {}; below in {} of {} intervals",
        percent(series.target, 0),
        series.measure,
        below,
        measured.len()
    );
    if let Some((p, v)) = lowest.filter(|(_, v)| *v < series.target) {
        let _ = write!(
            summary,
            ", lowest {} at {}",
            percent(*v, 1),
            day_time(tz, &p.t)
        );
    }
    figure_start(out, &series.queue, &summary)?;
    frame.open(out, "chart", &format!("Service level for {}", series.queue))?;

    let target_y = ys.y(series.target.clamp(floor, 1.0));
    write!(
        out,
        r#"<rect class="below" x="{}" y="{}" width="{}" height="{}"/>"#,
        P(frame.left),
        P(target_y),
        P(frame.plot_width()),
        P(frame.bottom - target_y)
    )?;
    value_axis(out, &ys, &ticks, &frame, "service level", |v| percent(v, 0))?;
    time_axis(out, tz, &xs, &frame, &format!("Local time ({})", tz.name()))?;

    let step = i64::from(input.interval_minutes) * 60;
    // Points sit at the middle of their interval: a share belongs to the whole interval.
    let mid = |p: &ServicePoint| xs.x_secs(p.t.timestamp() + step / 2);
    let band: Vec<(f64, f64, f64)> = points
        .iter()
        .map(|p| match (p.ci_low, p.ci_high) {
            (Some(lo), Some(hi)) => (
                mid(p),
                ys.y(lo.clamp(floor, 1.0)),
                ys.y(hi.clamp(floor, 1.0)),
            ),
            _ => (mid(p), f64::NAN, f64::NAN),
        })
        .collect();
    let line = finite_runs(points.iter().map(|p| {
        (
            mid(p),
            level(p).map_or(f64::NAN, |v| ys.y(v.clamp(floor, 1.0))),
        )
    }));
    write!(
        out,
        r#"<path class="ci" d="{}"/><path class="sl" d="{}"/>"#,
        band_path(&band, frame.left, frame.right),
        line_path(&line, frame.left, frame.right)
    )?;
    // A run of one point draws nothing as a line; mark isolated measurements with a dot.
    for run in line.iter().filter(|r| r.len() == 1) {
        write!(
            out,
            r#"<circle class="dot" cx="{}" cy="{}" r="1.8"/>"#,
            P(run[0].0),
            P(run[0].1)
        )?;
    }
    write!(
        out,
        r#"<line class="target" x1="{}" x2="{}" y1="{y}" y2="{y}"/>"#,
        P(frame.left),
        P(frame.right),
        y = P(target_y)
    )?;

    let bucket = bucket_minutes((xs.t1 - xs.t0) / 60, input.interval_minutes, 160) * 60;
    let single = bucket == step;
    let mut slots: Vec<(i64, &ServicePoint, f64, usize)> = Vec::new();
    for (p, v) in &measured {
        let index = (p.t.timestamp() - xs.t0).div_euclid(bucket);
        let miss = usize::from(*v < series.target);
        match slots.last_mut() {
            Some((i, worst, worst_v, misses)) if *i == index => {
                *misses += miss;
                if v < worst_v {
                    *worst = p;
                    *worst_v = *v;
                }
            }
            _ => slots.push((index, p, *v, miss)),
        }
    }
    for (index, worst, v, misses) in slots {
        let start = xs.t0 + index * bucket;
        let mut title = bucket_label(tz, start, bucket, single);
        let ci = match (worst.ci_low, worst.ci_high) {
            (Some(lo), Some(hi)) => format!(" (CI {}–{})", percent(lo, 1), percent(hi, 1)),
            _ => String::new(),
        };
        if single {
            let _ = write!(title, "\nservice level {}{ci}", percent(v, 1));
        } else {
            let _ = write!(
                title,
                "\nlowest {}{ci} at {}\n{misses} intervals below target",
                percent(v, 1),
                clock(tz, &worst.t)
            );
        }
        let _ = write!(title, "\ntarget {}", percent(series.target, 0));
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
    fn share_axis_starts_just_below_what_is_drawn() {
        let (floor, ticks) = share_ticks(0.78);
        assert!((floor - 0.7).abs() < 1e-9, "{floor}");
        assert_eq!(ticks.len(), 7);
        assert!((ticks[6] - 1.0).abs() < 1e-9);
        let (floor, ticks) = share_ticks(0.52);
        assert!((floor - 0.4).abs() < 1e-9, "{floor}");
        assert_eq!(ticks.len(), 7);
        assert_eq!(share_ticks(0.1), (0.0, vec![0.0, 0.25, 0.5, 0.75, 1.0]));
        assert_eq!(share_ticks(-3.0).0, 0.0);
    }
}
