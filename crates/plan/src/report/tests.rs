//! Tests of the whole page: structure, escaping, empty input, KPI values, size and determinism.

use chrono::{DateTime, FixedOffset};

use super::sample::{sample_input, SampleSize};
use super::*;

/// Elements HTML closes by itself.
const VOID: [&str; 4] = ["meta", "input", "br", "hr"];

/// Checks that every tag is closed in order and returns how often each element occurs.
/// Script and style bodies are skipped (they hold `<` and `>` of their own).
fn check_tags(html: &str) -> Result<std::collections::BTreeMap<String, usize>, String> {
    let mut counts = std::collections::BTreeMap::new();
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        rest = &rest[open..];
        if rest.starts_with("<!") {
            let end = rest.find('>').ok_or("unterminated declaration")?;
            rest = &rest[end + 1..];
            continue;
        }
        let end = rest.find('>').ok_or("unterminated tag")?;
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
            continue;
        }
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        if name.is_empty() {
            return Err(format!("stray `<` before {:?}", &tag[..tag.len().min(30)]));
        }
        *counts.entry(name.clone()).or_insert(0) += 1;
        if tag.ends_with('/') || VOID.contains(&name.as_str()) {
            continue;
        }
        if name == "script" || name == "style" {
            let close = format!("</{name}>");
            let end = rest.find(&close).ok_or(format!("unclosed <{name}>"))?;
            rest = &rest[end + close.len()..];
            continue;
        }
        stack.push(name);
    }
    if stack.is_empty() {
        Ok(counts)
    } else {
        Err(format!("unclosed: {stack:?}"))
    }
}

fn empty_input() -> ReportInput {
    let start = DateTime::parse_from_rfc3339("2024-11-08T00:00:00+08:00").unwrap();
    ReportInput {
        title: "Empty plan".into(),
        scenario_name: "nothing".into(),
        horizon: TimeSpan {
            start,
            end: start + chrono::Duration::days(1),
        },
        time_zone: chrono_tz::Asia::Shanghai,
        interval_minutes: 15,
        kpis: vec![],
        warnings: vec![],
        forecast: vec![],
        coverage: vec![],
        roster: vec![],
        service: vec![],
    }
}

#[test]
fn realistic_report_is_well_formed_with_one_svg_per_chart_and_row() {
    let input = sample_input(SampleSize::realistic(), 7);
    let html = render_html(&input);
    let counts = check_tags(&html).unwrap();
    let queues = input.coverage.len();
    // Views of the roster: the whole horizon plus one per local day.
    let views = 1 + 7;
    let heatmap_swatches = 8;
    let expected = queues // forecast
        + 1 + heatmap_swatches + queues // heatmap, its legend, coverage charts
        + queues // service
        + views + 1 + input.roster.len(); // roster axes, grid, rows
    assert_eq!(counts["svg"], expected);
    assert_eq!(counts["section"], 6);
    assert_eq!(counts["script"], 1);
    assert_eq!(counts["figure"], 3 * queues);
    assert!(html.starts_with("<!DOCTYPE html>"));
}

#[test]
fn names_with_markup_quotes_and_cjk_are_escaped() {
    let mut input = sample_input(SampleSize::realistic(), 7);
    input.roster[0].agent = r#"</svg><script>alert("x")</script> 王'伟"#.into();
    input.kpis[0].name = "Cost < budget & \"paid\"".into();
    let html = render_html(&input);
    check_tags(&html).unwrap();
    assert!(!html.contains("<script>alert"));
    assert!(
        html.contains("&lt;/svg&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; 王&#39;伟")
    );
    assert!(html.contains("Cost &lt; budget &amp; &quot;paid&quot;"));
    assert!(html.contains("VIP &lt;Gold&gt; &quot;Priority&quot;"));
    assert!(!html.contains("<Gold>"));
    // Search keys are lower-cased and escaped too.
    assert!(html.contains(r#"data-k="&lt;/svg&gt;&lt;script&gt;alert(&quot;x&quot;)"#));
}

#[test]
fn empty_input_renders_every_section_with_no_data() {
    let html = render_html(&empty_input());
    let counts = check_tags(&html).unwrap();
    assert_eq!(counts.get("svg"), None);
    for text in [
        "No KPI data.",
        "No warnings",
        "No forecast data.",
        "No coverage data.",
        "No simulation data.",
        "No roster data.",
    ] {
        assert!(html.contains(text), "missing {text:?}");
    }
    assert!(
        html.contains("Fri 11-08 00:00 – Sat 11-09 00:00 (1 day)")
            || html.contains("Fri 11-08 00:00–24:00 (1 day)")
    );
}

#[test]
fn series_without_points_count_as_no_data() {
    let mut input = empty_input();
    input.coverage.push(CoverageSeries {
        queue: "idle".into(),
        points: vec![],
    });
    input.service.push(ServiceSeries {
        queue: "idle".into(),
        target: 0.8,
        measure: "answered within 20 s".into(),
        points: vec![ServicePoint {
            t: input.horizon.start,
            service_level: None,
            ci_low: None,
            ci_high: None,
        }],
    });
    let html = render_html(&input);
    assert!(html.contains("No coverage data."));
    assert!(html.contains("No simulation data."));
}

#[test]
fn kpi_values_targets_and_statuses_appear_as_given() {
    let input = sample_input(SampleSize::realistic(), 7);
    let html = render_html(&input);
    for kpi in &input.kpis {
        let value = kpi_value(&kpi.format, kpi.value);
        assert!(
            html.contains(&format!(
                r#"<td class="num value">{}</td>"#,
                text::Esc(&value)
            )),
            "{value}"
        );
    }
    assert!(html.contains("87.3%"));
    assert!(html.contains("≥ 80.0%"));
    assert!(html.contains("≤ 5.0%"));
    assert!(html.contains(r#"<span class="pill bad">Off target</span>"#));
    assert!(html.contains(r#"<span class="pill warn">Watch</span>"#));
    // The KPI table comes before the warnings, which come before the charts.
    let kpis = html.find(r#"id="kpis""#).unwrap();
    let warnings = html.find(r#"id="warnings""#).unwrap();
    let forecast = html.find(r#"id="forecast""#).unwrap();
    assert!(kpis < warnings && warnings < forecast);
}

#[test]
fn warnings_say_where_and_fold_beyond_the_first_ones() {
    let input = sample_input(SampleSize::realistic(), 7);
    assert!(
        input.warnings.len() > 15,
        "the sample should have many warnings"
    );
    let html = render_html(&input);
    let critical = input
        .warnings
        .iter()
        .find(|w| w.severity == Severity::Critical)
        .unwrap();
    let place = format!(
        "{} · {}",
        critical.queue.as_deref().unwrap(),
        text::span(input.time_zone, critical.span.as_ref().unwrap())
    );
    assert!(html.contains(&text::Esc(&place).to_string()), "{place}");
    assert!(html.contains(&format!("Show {} more", input.warnings.len() - 15)));
    // Critical first: the first row of the table is critical.
    let first_row = html.find(r#"<table class="warnings">"#).unwrap();
    assert!(
        html[first_row..].find("Critical").unwrap()
            < html[first_row..]
                .find("Warning</span>")
                .unwrap_or(usize::MAX)
    );
}

#[test]
fn page_loads_nothing_from_outside() {
    let html = render_html(&sample_input(SampleSize::realistic(), 7));
    for needle in [
        "http://", "https://", " src=", "<link", "@import", "url(", "<img",
    ] {
        assert!(!html.contains(needle), "found {needle:?}");
    }
}

#[test]
fn same_input_same_bytes() {
    let a = render_html(&sample_input(SampleSize::realistic(), 7));
    let b = render_html(&sample_input(SampleSize::realistic(), 7));
    assert_eq!(a, b);
}

#[test]
fn offsets_of_the_input_do_not_change_the_page() {
    // The same instants written in UTC render exactly as when written in +08:00.
    let input = sample_input(SampleSize::realistic(), 3);
    let utc = FixedOffset::east_opt(0).unwrap();
    let mut shifted: ReportInput =
        serde_json::from_str(&serde_json::to_string(&input).unwrap()).unwrap();
    for s in &mut shifted.coverage {
        for p in &mut s.points {
            p.t = p.t.with_timezone(&utc);
        }
    }
    for row in &mut shifted.roster {
        for shift in &mut row.shifts {
            shift.start = shift.start.with_timezone(&utc);
            shift.end = shift.end.with_timezone(&utc);
        }
    }
    assert_eq!(render_html(&input), render_html(&shifted));
    let html = render_html(&input);
    assert!(html.contains(">Fri 11-08<"), "local day tick");
    assert!(html.contains("Local time (Asia/Shanghai)"));
}

#[test]
fn missing_values_leave_gaps_not_nan() {
    let mut input = sample_input(SampleSize::realistic(), 7);
    input.forecast[0].history[5].value = f64::NAN;
    input.forecast[0].forecast[3].hi95 = f64::INFINITY;
    input.coverage[0].points[2].required = f64::NAN;
    input.service[0].points[4].service_level = Some(f64::NAN);
    let html = render_html(&input);
    check_tags(&html).unwrap();
    for bad in ["NaN", "inf\"", "inf ", "infinity", "Infinity"] {
        assert!(!html.contains(bad), "found {bad:?}");
    }
}

#[test]
fn week_of_ten_queues_and_700_agents_stays_small() {
    let input = sample_input(SampleSize::large(), 11);
    let html = render_html(&input);
    check_tags(&html).unwrap();
    let shifts: usize = input.roster.iter().map(|r| r.shifts.len()).sum();
    println!(
        "large report: {} bytes for {} queues × {} intervals, {} agents, {} shifts",
        html.len(),
        input.coverage.len(),
        input.coverage[0].points.len(),
        input.roster.len(),
        shifts
    );
    assert!(html.len() < 3_000_000, "{} bytes", html.len());
    // Lines are reduced to the plot's pixel columns: no chart path carries more than
    // 4 vertices per column (584 columns) plus its gaps.
    let longest_path = html
        .split(" d=\"")
        .skip(1)
        .map(|rest| {
            rest[..rest.find('"').unwrap()]
                .matches(['L', 'M', 'H', 'V'])
                .count()
        })
        .max()
        .unwrap();
    assert!(longest_path <= 4 * 600, "{longest_path}");
}

#[test]
fn a_dst_change_inside_the_horizon_keeps_local_days() {
    // Berlin leaves summer time at 03:00 on Sunday 2024-10-27: that local day has 25 hours.
    let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap();
    let start = at("2024-10-26T00:00:00+02:00");
    let end = at("2024-10-29T00:00:00+01:00");
    let mut input = empty_input();
    input.time_zone = chrono_tz::Europe::Berlin;
    input.horizon = TimeSpan { start, end };
    let intervals = (end - start).num_minutes() / 15;
    assert_eq!(intervals, 73 * 4);
    input.coverage.push(CoverageSeries {
        queue: "Telefon".into(),
        points: (0..intervals)
            .map(|k| CoveragePoint {
                t: start + chrono::Duration::minutes(15 * k),
                required: 4.0,
                scheduled: if k == 100 { 3.0 } else { 4.0 },
            })
            .collect(),
    });
    input.roster.push(GanttRow {
        agent: "Anna".into(),
        group: "Nacht".into(),
        shifts: vec![GanttShift {
            start: at("2024-10-27T01:00:00+02:00"),
            end: at("2024-10-27T09:00:00+01:00"),
            skill: "phone_de".into(),
            breaks: vec![],
        }],
    });
    let html = render_html(&input);
    check_tags(&html).unwrap();
    // The 27th starts 24 of 73 hours in and lasts 25 of them: 328.8 and 342.5 of 1000 units.
    assert!(
        html.contains(r#"<option value="328.8 342.5">Sun 2024-10-27</option>"#),
        "day view of the DST day"
    );
    assert!(html.contains(">Sun 10-27<") && html.contains(">Mon 10-28<"));
    // 01:00 summer time to 09:00 winter time is nine hours, not eight.
    assert!(html.contains("Sun 10-27 01:00–09:00 · phone_de\n9 h"));
    assert!(html.contains("short in 1 of 292 intervals, worst 1 agent at Sun 10-27 01:00"));
}

#[test]
fn points_outside_the_horizon_are_left_out() {
    let mut input = sample_input(SampleSize::realistic(), 7);
    let after = input.horizon.end + chrono::Duration::hours(6);
    input.coverage[0].points.push(CoveragePoint {
        t: after,
        required: 999.0,
        scheduled: 0.0,
    });
    input.service[0].points.push(ServicePoint {
        t: after,
        service_level: Some(0.01),
        ci_low: None,
        ci_high: None,
    });
    let html = render_html(&input);
    assert!(!html.contains("required 999"));
    assert!(!html.contains("lowest 1.0%"));
    assert_eq!(
        html.matches("of 672 intervals").count(),
        2 * input.coverage.len()
    );
}

#[test]
fn degenerate_inputs_render_without_panicking() {
    let mut input = sample_input(SampleSize::realistic(), 7);
    input.interval_minutes = 0;
    std::mem::swap(&mut input.horizon.start, &mut input.horizon.end);
    input.roster[0].shifts[0].end = input.roster[0].shifts[0].start - chrono::Duration::hours(1);
    input.forecast[0].forecast.clear();
    input.service[0].target = 7.0;
    check_tags(&render_html(&input)).unwrap();
}
