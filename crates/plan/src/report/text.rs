//! Text in the page: HTML escaping and the number and local-time formats every section uses.

use std::fmt;

use chrono::{DateTime, NaiveTime, TimeZone};
use chrono_tz::Tz;

use super::input::{Instant, TimeSpan};

/// Text escaped for HTML and XML, fit for element content and quoted attribute values alike.
/// Everything from the input goes through this: agent and queue names may hold `<`, `&` or quotes.
pub struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some(i) = rest.find(['&', '<', '>', '"', '\'']) {
            f.write_str(&rest[..i])?;
            f.write_str(match rest.as_bytes()[i] {
                b'&' => "&amp;",
                b'<' => "&lt;",
                b'>' => "&gt;",
                b'"' => "&quot;",
                _ => "&#39;",
            })?;
            rest = &rest[i + 1..];
        }
        f.write_str(rest)
    }
}

/// `value` with `decimals` decimals and thousands separators: `1234567.8` → `1,234,567.8`.
pub fn thousands(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return "–".to_string();
    }
    let plain = format!("{:.*}", decimals, value.abs());
    let (int, frac) = match plain.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (plain.as_str(), None),
    };
    let mut out = String::with_capacity(plain.len() + int.len() / 3 + 1);
    // "-0" after rounding is just "0".
    if value < 0.0 && plain.bytes().any(|b| matches!(b, b'1'..=b'9')) {
        out.push('-');
    }
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(frac) = frac {
        out.push('.');
        out.push_str(frac);
    }
    out
}

/// A fraction as a percentage: `0.8234` → `82.3%`.
pub fn percent(fraction: f64, decimals: usize) -> String {
    if !fraction.is_finite() {
        return "–".to_string();
    }
    format!("{}%", thousands(fraction * 100.0, decimals))
}

/// A number for an axis or tooltip: whole numbers plain, others with up to `decimals` decimals
/// and no trailing zeros.
pub fn compact(value: f64, decimals: usize) -> String {
    let s = thousands(value, decimals);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// An instant on the report's local clock.
pub fn local(tz: Tz, t: &Instant) -> DateTime<Tz> {
    tz.from_utc_datetime(&t.naive_utc())
}

/// `Mon 11-11 10:15`: enough to place an interval within a horizon of weeks.
pub fn day_time(tz: Tz, t: &Instant) -> String {
    local(tz, t).format("%a %m-%d %H:%M").to_string()
}

/// `10:15`.
pub fn clock(tz: Tz, t: &Instant) -> String {
    local(tz, t).format("%H:%M").to_string()
}

/// A span written as briefly as is unambiguous: `Mon 11-11 10:00–12:30` within a local day,
/// `Mon 11-11 22:00 – Tue 11-12 06:00` across days. An end at local midnight reads `24:00`.
pub fn span(tz: Tz, span: &TimeSpan) -> String {
    let start = local(tz, &span.start);
    let end = local(tz, &span.end);
    let first = start.format("%a %m-%d %H:%M");
    if start.date_naive() == end.date_naive() {
        format!("{first}–{}", end.format("%H:%M"))
    } else if end.time() == NaiveTime::MIN
        && end.date_naive().pred_opt() == Some(start.date_naive())
    {
        format!("{first}–24:00")
    } else {
        format!("{first} – {}", end.format("%a %m-%d %H:%M"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Instant {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    #[test]
    fn escapes_markup_and_quotes_and_keeps_cjk() {
        let s = Esc(r#"<b>"Tom" & 'Jerry'</b> 客服"#).to_string();
        assert_eq!(
            s,
            "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt; 客服"
        );
        assert_eq!(Esc("plain").to_string(), "plain");
    }

    #[test]
    fn thousands_groups_digits_and_rounds() {
        assert_eq!(thousands(1234567.849, 1), "1,234,567.8");
        assert_eq!(thousands(999.0, 0), "999");
        assert_eq!(thousands(1000.0, 0), "1,000");
        assert_eq!(thousands(-12345.0, 0), "-12,345");
        assert_eq!(thousands(-0.04, 1), "0.0");
        assert_eq!(thousands(f64::NAN, 1), "–");
        assert_eq!(percent(0.8234, 1), "82.3%");
        assert_eq!(compact(2.50, 2), "2.5");
        assert_eq!(compact(1200.0, 2), "1,200");
    }

    #[test]
    fn spans_read_in_local_time() {
        let tz: Tz = "Asia/Shanghai".parse().unwrap();
        let within = TimeSpan {
            start: at("2024-11-11T02:00:00Z"),
            end: at("2024-11-11T04:30:00Z"),
        };
        assert_eq!(span(tz, &within), "Mon 11-11 10:00–12:30");
        let to_midnight = TimeSpan {
            start: at("2024-11-11T12:00:00+08:00"),
            end: at("2024-11-12T00:00:00+08:00"),
        };
        assert_eq!(span(tz, &to_midnight), "Mon 11-11 12:00–24:00");
        let across = TimeSpan {
            start: at("2024-11-11T22:00:00+08:00"),
            end: at("2024-11-12T06:00:00+08:00"),
        };
        assert_eq!(span(tz, &across), "Mon 11-11 22:00 – Tue 11-12 06:00");
    }
}
