//! The forecast section: per queue, observed contacts and the forecast with its 80% and 95%
//! prediction bands, calendar events shaded, on one time axis shared by all queues.

use std::collections::BTreeMap;
use std::fmt::{self, Write};

use super::input::{ForecastPoint, ForecastSeries, Instant, ReportInput};
use super::svg::{
    band_path, bucket_minutes, finite_runs, hover_rect, line_path, nice_ticks, time_axis,
    value_axis, Frame, TimeScale, ValueScale, P,
};
use super::text::{compact, day_time, span, thousands, Esc};
use super::{bucket_label, figure_end, figure_start, legend, LegendKey};

pub fn section(out: &mut String, input: &ReportInput) -> fmt::Result {
    out.push_str(r#"<section id="forecast"><h2>Forecast</h2>"#);
    let series: Vec<&ForecastSeries> = input
        .forecast
        .iter()
        .filter(|s| !s.history.is_empty() || !s.forecast.is_empty())
        .collect();
    let times = series.iter().flat_map(|s| {
        s.history
            .iter()
            .map(|p| p.t)
            .chain(s.forecast.iter().map(|p| p.t))
    });
    let (Some(first), Some(last)) = (times.clone().min(), times.max()) else {
        out.push_str(r#"<p class="nodata">No forecast data.</p></section>"#);
        return Ok(());
    };
    let end = last + chrono::Duration::minutes(i64::from(input.interval_minutes));
    write!(
        out,
        r#"<p class="lede">Contacts per {} min by queue: recent history, then the forecast with its 80% and 95% prediction intervals. Shaded windows are calendar events. Hover a chart for values.</p>"#,
        input.interval_minutes
    )?;
    legend(
        out,
        &[
            LegendKey::Line("var(--hist)", "History"),
            LegendKey::Line("var(--fc)", "Forecast (mean)"),
            LegendKey::Area("var(--fc-80)", "80% interval"),
            LegendKey::Area("var(--fc-95)", "95% interval"),
            LegendKey::Area("var(--event)", "Event"),
        ],
    )?;
    out.push_str(r#"<div class="charts">"#);
    for s in series {
        chart(out, input, s, &first, &end)?;
    }
    out.push_str("</div></section>");
    Ok(())
}

fn chart(
    out: &mut String,
    input: &ReportInput,
    series: &ForecastSeries,
    t0: &Instant,
    t1: &Instant,
) -> fmt::Result {
    let tz = input.time_zone;
    let frame = Frame::small_multiple();
    let xs = TimeScale::new(t0, t1, frame.left, frame.right);
    let max = series
        .history
        .iter()
        .map(|p| p.value)
        .chain(
            series
                .forecast
                .iter()
                .flat_map(|p| [p.mean, p.hi80, p.hi95]),
        )
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max);
    let (top, ticks) = nice_ticks(max);
    let ys = ValueScale {
        v0: 0.0,
        v1: top,
        y0: frame.bottom,
        y1: frame.top,
    };

    let finite_means = series.forecast.iter().filter(|p| p.mean.is_finite());
    let total: f64 = finite_means.clone().map(|p| p.mean).sum();
    let peak = finite_means.max_by(|a, b| a.mean.total_cmp(&b.mean));
    let summary = match peak {
        Some(p) => format!(
            "forecast {} contacts, peak {} at {}",
            thousands(total, 0),
            thousands(p.mean, 0),
            day_time(tz, &p.t)
        ),
        None => "history only, no forecast".to_string(),
    };
    figure_start(out, &series.queue, &summary)?;
    frame.open(out, "chart", &format!("Forecast for {}", series.queue))?;

    for event in &series.events {
        let (xa, xb) = (
            xs.x_clamped(&event.span.start),
            xs.x_clamped(&event.span.end),
        );
        if xb - xa < 0.5 {
            continue;
        }
        write!(
            out,
            r#"<g class="event"><title>{}: {}</title><rect x="{}" y="{}" width="{}" height="{}"/>"#,
            Esc(&event.name),
            Esc(&span(tz, &event.span)),
            P(xa),
            P(frame.top),
            P(xb - xa),
            P(frame.bottom - frame.top)
        )?;
        if xb - xa > 24.0 {
            write!(
                out,
                r#"<text x="{}" y="{}">{}</text>"#,
                P(xa + 3.0),
                P(frame.top + 11.0),
                Esc(&event.name)
            )?;
        }
        out.push_str("</g>");
    }

    let unit = format!("contacts / {} min", input.interval_minutes);
    value_axis(out, &ys, &ticks, &frame, &unit, |v| compact(v, 2))?;
    time_axis(out, tz, &xs, &frame, &format!("Local time ({})", tz.name()))?;

    let band = |lo: fn(&ForecastPoint) -> f64, hi: fn(&ForecastPoint) -> f64| {
        let points: Vec<(f64, f64, f64)> = series
            .forecast
            .iter()
            .map(|p| (xs.x(&p.t), ys.y(lo(p)), ys.y(hi(p))))
            .collect();
        band_path(&points, frame.left, frame.right)
    };
    write!(
        out,
        r#"<path class="b95" d="{}"/><path class="b80" d="{}"/>"#,
        band(|p| p.lo95, |p| p.hi95),
        band(|p| p.lo80, |p| p.hi80)
    )?;
    let history = finite_runs(series.history.iter().map(|p| (xs.x(&p.t), ys.y(p.value))));
    let mean = finite_runs(series.forecast.iter().map(|p| (xs.x(&p.t), ys.y(p.mean))));
    write!(
        out,
        r#"<path class="hist" d="{}"/><path class="mean" d="{}"/>"#,
        line_path(&history, frame.left, frame.right),
        line_path(&mean, frame.left, frame.right)
    )?;
    if let (Some(_), Some(first)) = (series.history.first(), series.forecast.first()) {
        let x = xs.x(&first.t);
        write!(
            out,
            r#"<line class="origin" x1="{x}" x2="{x}" y1="{}" y2="{}"/>"#,
            P(frame.top),
            P(frame.bottom),
            x = P(x)
        )?;
    }
    hover(out, input, series, &xs, &frame)?;
    out.push_str("</svg>");
    figure_end(out)
}

/// One tooltip per time bucket: the bucket's history peak and forecast peak with its bands.
fn hover(
    out: &mut String,
    input: &ReportInput,
    series: &ForecastSeries,
    xs: &TimeScale,
    frame: &Frame,
) -> fmt::Result {
    let tz = input.time_zone;
    let bucket = bucket_minutes((xs.t1 - xs.t0) / 60, input.interval_minutes, 160) * 60;
    let single = bucket == i64::from(input.interval_minutes) * 60;
    #[derive(Default)]
    struct Peaks<'a> {
        history: Option<(&'a Instant, f64)>,
        forecast: Option<&'a ForecastPoint>,
    }
    let mut buckets: BTreeMap<i64, Peaks> = BTreeMap::new();
    for p in series.history.iter().filter(|p| p.value.is_finite()) {
        let slot = buckets
            .entry((p.t.timestamp() - xs.t0).div_euclid(bucket))
            .or_default();
        if slot.history.is_none_or(|(_, v)| p.value > v) {
            slot.history = Some((&p.t, p.value));
        }
    }
    for p in series.forecast.iter().filter(|p| p.mean.is_finite()) {
        let slot = buckets
            .entry((p.t.timestamp() - xs.t0).div_euclid(bucket))
            .or_default();
        if slot.forecast.is_none_or(|q| p.mean > q.mean) {
            slot.forecast = Some(p);
        }
    }
    for (index, peaks) in buckets {
        let start = xs.t0 + index * bucket;
        let mut title = bucket_label(tz, start, bucket, single);
        // The hover areas lie over the event shading, so they name the event themselves.
        for event in &series.events {
            let (from, to) = (event.span.start.timestamp(), event.span.end.timestamp());
            if from < start + bucket && to > start {
                let _ = write!(title, " · {}", event.name);
            }
        }
        let at = |t: &Instant| {
            if single {
                String::new()
            } else {
                format!(" at {}", super::text::clock(tz, t))
            }
        };
        if let Some((t, v)) = peaks.history {
            let what = if single { "observed" } else { "observed peak" };
            let _ = write!(title, "\n{what} {}{}", thousands(v, 0), at(t));
        }
        if let Some(p) = peaks.forecast {
            let what = if single { "forecast" } else { "forecast peak" };
            let _ = write!(
                title,
                "\n{what} {}{} (80%: {}–{}, 95%: {}–{})",
                thousands(p.mean, 0),
                at(&p.t),
                thousands(p.lo80, 0),
                thousands(p.hi80, 0),
                thousands(p.lo95, 0),
                thousands(p.hi95, 0)
            );
        }
        hover_rect(
            out,
            xs.x_secs(start).max(frame.left),
            xs.x_secs(start + bucket).min(frame.right),
            frame.top,
            frame.bottom,
            &title,
        )?;
    }
    Ok(())
}
