//! The two tables a director reads first: the KPIs against their targets, and the warnings that
//! say where the plan falls short and why.

use std::fmt::{self, Write};

use chrono_tz::Tz;

use super::input::{Kpi, KpiFormat, ReportInput, Severity, Status, TargetDirection, Warning};
use super::text::{percent, span, thousands, Esc};

/// Warnings listed before the rest fold into a "show more" box.
const WARNINGS_SHOWN: usize = 15;
/// Warnings listed at most: past this a list is a data dump, and the page says how many it left
/// out (the glue is expected to merge neighbouring intervals into one warning first).
const WARNINGS_LISTED: usize = 300;

/// A KPI value written in its format.
pub fn kpi_value(format: &KpiFormat, value: f64) -> String {
    match format {
        KpiFormat::Percent => percent(value, 1),
        KpiFormat::Count => thousands(value, 0),
        KpiFormat::Hours => format!("{} h", thousands(value, 1)),
        KpiFormat::Seconds => format!("{} s", thousands(value, 1)),
        KpiFormat::Money { currency } => format!("{currency} {}", thousands(value, 0)),
        KpiFormat::Number { decimals, unit } => {
            let number = thousands(value, usize::from(*decimals));
            match unit {
                Some(unit) => format!("{number} {unit}"),
                None => number,
            }
        }
    }
}

fn status_label(status: Status) -> (&'static str, &'static str) {
    match status {
        Status::Ok => ("ok", "On target"),
        Status::Warn => ("warn", "Watch"),
        Status::Bad => ("bad", "Off target"),
    }
}

/// The KPI table. Each row carries its exact value in `data-value` (as summary.json holds it),
/// so scripts and tests read the numbers without parsing their display format.
pub fn kpi_section(out: &mut String, kpis: &[Kpi]) -> fmt::Result {
    out.push_str(r#"<section id="kpis"><h2>Key figures</h2>"#);
    if kpis.is_empty() {
        out.push_str(r#"<p class="nodata">No KPI data.</p></section>"#);
        return Ok(());
    }
    out.push_str(
        r#"<table class="kpi"><thead><tr><th>Measure</th><th class="num">Value</th><th class="num">Target</th><th>Status</th><th>Note</th></tr></thead><tbody>"#,
    );
    for kpi in kpis {
        let (class, label) = status_label(kpi.status);
        let target = match &kpi.target {
            Some(t) => {
                let sign = match t.direction {
                    TargetDirection::AtLeast => "≥",
                    TargetDirection::AtMost => "≤",
                };
                format!("{sign} {}", kpi_value(&kpi.format, t.value))
            }
            None => "–".to_string(),
        };
        write!(
            out,
            r#"<tr class="{class}" data-kpi="{}" data-value="{}"><td>{}</td><td class="num value">{}</td><td class="num">{}</td><td><span class="pill {class}">{label}</span></td><td class="note">{}</td></tr>"#,
            Esc(&kpi.name),
            kpi.value,
            Esc(&kpi.name),
            Esc(&kpi_value(&kpi.format, kpi.value)),
            Esc(&target),
            Esc(kpi.note.as_deref().unwrap_or("")),
        )?;
    }
    out.push_str("</tbody></table></section>");
    Ok(())
}

fn severity_label(severity: Severity) -> (&'static str, &'static str) {
    match severity {
        Severity::Critical => ("bad", "Critical"),
        Severity::Warning => ("warn", "Warning"),
        Severity::Info => ("info", "Info"),
    }
}

fn warning_row(out: &mut String, tz: Tz, warning: &Warning) -> fmt::Result {
    let (class, label) = severity_label(warning.severity);
    let place = match (&warning.queue, &warning.span) {
        (Some(q), Some(s)) => format!("{q} · {}", span(tz, s)),
        (Some(q), None) => q.clone(),
        (None, Some(s)) => span(tz, s),
        (None, None) => "Whole plan".to_string(),
    };
    write!(
        out,
        r#"<tr><td><span class="pill {class}">{label}</span></td><td class="where">{}</td><td>{}</td></tr>"#,
        Esc(&place),
        Esc(&warning.message)
    )
}

pub fn warning_section(out: &mut String, input: &ReportInput) -> fmt::Result {
    out.push_str(r#"<section id="warnings"><h2>Warnings</h2>"#);
    if input.warnings.is_empty() {
        out.push_str(r#"<p class="nodata">No warnings: the plan meets every rule and target it was checked against.</p></section>"#);
        return Ok(());
    }
    let mut sorted: Vec<&Warning> = input.warnings.iter().collect();
    // Most severe first; the glue's order (by time, by queue) is kept within a severity.
    sorted.sort_by_key(|w| std::cmp::Reverse(w.severity));
    let count = |s: Severity| sorted.iter().filter(|w| w.severity == s).count();
    let counted =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    write!(
        out,
        r#"<p class="lede">{}, {}, {}.</p>"#,
        counted(count(Severity::Critical), "critical", "critical"),
        counted(count(Severity::Warning), "warning", "warnings"),
        counted(count(Severity::Info), "note", "notes")
    )?;
    let head = r#"<table class="warnings"><thead><tr><th>Severity</th><th>Where</th><th>Why</th></tr></thead><tbody>"#;
    out.push_str(head);
    for warning in sorted.iter().take(WARNINGS_SHOWN) {
        warning_row(out, input.time_zone, warning)?;
    }
    out.push_str("</tbody></table>");
    if sorted.len() > WARNINGS_SHOWN {
        write!(
            out,
            "<details><summary>Show {} more</summary>",
            sorted.len() - WARNINGS_SHOWN
        )?;
        out.push_str(head);
        for warning in sorted.iter().take(WARNINGS_LISTED).skip(WARNINGS_SHOWN) {
            warning_row(out, input.time_zone, warning)?;
        }
        out.push_str("</tbody></table>");
        if sorted.len() > WARNINGS_LISTED {
            write!(
                out,
                r#"<p class="note">{} more, less severe warnings are not listed.</p>"#,
                thousands((sorted.len() - WARNINGS_LISTED) as f64, 0)
            )?;
        }
        out.push_str("</details>");
    }
    out.push_str("</section>");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kpi_values_are_written_in_their_format() {
        assert_eq!(kpi_value(&KpiFormat::Percent, 0.8234), "82.3%");
        assert_eq!(kpi_value(&KpiFormat::Count, 1234.0), "1,234");
        assert_eq!(kpi_value(&KpiFormat::Hours, 12345.67), "12,345.7 h");
        assert_eq!(kpi_value(&KpiFormat::Seconds, 18.26), "18.3 s");
        assert_eq!(
            kpi_value(
                &KpiFormat::Money {
                    currency: "¥".into()
                },
                1234567.4
            ),
            "¥ 1,234,567"
        );
        assert_eq!(
            kpi_value(
                &KpiFormat::Number {
                    decimals: 2,
                    unit: Some("agents".into())
                },
                2.346
            ),
            "2.35 agents"
        );
    }
}
