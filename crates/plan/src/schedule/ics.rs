//! One iCalendar file (RFC 5545) per agent with its shifts.
//!
//! Lines end in CRLF and are folded at 75 octets (never inside a UTF-8 character); text values
//! escape backslash, semicolon, comma and newline; times are UTC (`...Z`), so no VTIMEZONE is
//! needed. Every event has a UID (agent and start, stable across runs) and a DTSTAMP. DTSTAMP is
//! the instant the calendar was produced; to keep output byte-for-byte reproducible it is taken
//! from the roster's inputs — the start of the plan horizon — rather than the wall clock.

use chrono::{DateTime, Utc};

use super::roster::Assignment;

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends a content line, folded so no physical line exceeds 75 octets (§3.1).
fn line(out: &mut String, content: &str) {
    let mut width = 0;
    for c in content.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

/// The calendar of one agent. `shifts` are that agent's assignments; `produced` is the DTSTAMP.
pub fn calendar(
    agent: &str,
    name: &str,
    shifts: &[&Assignment],
    produced: DateTime<Utc>,
) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(&mut out, "PRODID:-//peakcrew//roster//EN");
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(
        &mut out,
        &format!(
            "X-WR-CALNAME:{}",
            escape(&format!("{name} ({agent}) shifts"))
        ),
    );
    for s in shifts {
        let start = s.start.with_timezone(&Utc);
        let end = s.end.with_timezone(&Utc);
        line(&mut out, "BEGIN:VEVENT");
        line(
            &mut out,
            &format!("UID:{}-{}@peakcrew", escape(agent), stamp(start)),
        );
        line(&mut out, &format!("DTSTAMP:{}", stamp(produced)));
        line(&mut out, &format!("DTSTART:{}", stamp(start)));
        line(&mut out, &format!("DTEND:{}", stamp(end)));
        line(
            &mut out,
            &format!(
                "SUMMARY:{}",
                escape(&format!(
                    "{} shift, {} ({})",
                    s.template, s.primary_skill, s.group
                ))
            ),
        );
        let breaks: Vec<String> = s
            .breaks
            .iter()
            .map(|b| {
                format!(
                    "{} {}–{}",
                    b.name,
                    b.start.format("%H:%M"),
                    b.end.format("%H:%M")
                )
            })
            .collect();
        let description = format!(
            "Shift {}–{} (local time), group {}, primary skill {}.\nBreaks: {}",
            s.start.format("%Y-%m-%d %H:%M"),
            s.end.format("%H:%M"),
            s.group,
            s.primary_skill,
            if breaks.is_empty() {
                "none".to_string()
            } else {
                breaks.join(", ")
            }
        );
        line(&mut out, &format!("DESCRIPTION:{}", escape(&description)));
        line(&mut out, "TRANSP:OPAQUE");
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_long_lines_on_character_boundaries() {
        let mut out = String::new();
        let long = format!("SUMMARY:{}", "王".repeat(40));
        line(&mut out, &long);
        for physical in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(physical.len() <= 75, "{} octets", physical.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("{long}\r\n"));
    }

    #[test]
    fn escapes_text() {
        assert_eq!(escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }
}
