//! A realistic, seeded sample report for tests only: a Double-11 week in Asia/Shanghai with an
//! evening-heavy e-commerce intraday shape, a midnight launch spike on 11-11, staffing that falls
//! short at the peak, and a roster of agents on day and night shifts with breaks.
//!
//! Names deliberately carry markup characters, quotes and CJK so every test exercises escaping.
//! The unit tests use it as `super::sample`, the browser test (tests/e2e/report_browser.rs) as
//! `peakcrew_plan::report::sample`.

use chrono::{DateTime, Duration, FixedOffset, TimeZone};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::report::{
    CoveragePoint, CoverageSeries, EventWindow, ForecastPoint, ForecastSeries, GanttRow,
    GanttShift, HistoryPoint, Kpi, KpiFormat, KpiTarget, ReportInput, ServicePoint, ServiceSeries,
    Severity, Status, TargetDirection, TimeSpan, Warning,
};

/// How big a sample to build.
#[derive(Debug, Clone, Copy)]
pub struct SampleSize {
    pub days: u32,
    pub history_days: u32,
    pub queues: usize,
    pub agents: usize,
    pub interval_minutes: u32,
}

impl SampleSize {
    /// What the browser test shows: a week, six queues, 180 agents.
    pub fn realistic() -> Self {
        SampleSize {
            days: 7,
            history_days: 14,
            queues: 6,
            agents: 180,
            interval_minutes: 15,
        }
    }

    /// The size the report must stay reasonable at: a week of 96 intervals, 10 queues, 700 agents.
    pub fn large() -> Self {
        SampleSize {
            days: 7,
            history_days: 28,
            queues: 10,
            agents: 700,
            interval_minutes: 15,
        }
    }
}

struct QueueSpec {
    name: &'static str,
    skill: &'static str,
    /// Contacts per interval at the daily peak of an ordinary day.
    peak: f64,
    aht_seconds: f64,
    target: f64,
    measure: &'static str,
}

const QUEUES: [QueueSpec; 10] = [
    QueueSpec {
        name: "Chat 中文 (pre-sales)",
        skill: "chat_zh",
        peak: 420.0,
        aht_seconds: 240.0,
        target: 0.8,
        measure: "first answered within 90 s",
    },
    QueueSpec {
        name: "Phone 中文",
        skill: "phone_zh",
        peak: 260.0,
        aht_seconds: 300.0,
        target: 0.8,
        measure: "answered within 20 s",
    },
    QueueSpec {
        name: "Returns & Refunds",
        skill: "returns",
        peak: 150.0,
        aht_seconds: 360.0,
        target: 0.8,
        measure: "answered within 20 s",
    },
    QueueSpec {
        name: "Chat English",
        skill: "chat_en",
        peak: 60.0,
        aht_seconds: 270.0,
        target: 0.8,
        measure: "first answered within 90 s",
    },
    QueueSpec {
        name: "VIP <Gold> \"Priority\"",
        skill: "vip",
        peak: 30.0,
        aht_seconds: 420.0,
        target: 0.9,
        measure: "answered within 20 s",
    },
    QueueSpec {
        name: "Logistics 物流",
        skill: "logistics",
        peak: 110.0,
        aht_seconds: 330.0,
        target: 0.8,
        measure: "answered within 20 s",
    },
    QueueSpec {
        name: "Merchant support",
        skill: "merchant",
        peak: 45.0,
        aht_seconds: 480.0,
        target: 0.8,
        measure: "answered within 20 s",
    },
    QueueSpec {
        name: "Social 微博/微信",
        skill: "social",
        peak: 80.0,
        aht_seconds: 200.0,
        target: 0.8,
        measure: "first answered within 90 s",
    },
    QueueSpec {
        name: "Phone English",
        skill: "phone_en",
        peak: 25.0,
        aht_seconds: 330.0,
        target: 0.8,
        measure: "answered within 20 s",
    },
    QueueSpec {
        name: "Payments 支付",
        skill: "payments",
        peak: 70.0,
        aht_seconds: 390.0,
        target: 0.8,
        measure: "answered within 20 s",
    },
];

const GROUPS: [&str; 6] = [
    "Hangzhou 杭州 A",
    "Hangzhou 杭州 B",
    "Chengdu 成都",
    "Bilingual",
    "Night <owl> team",
    "Outsourced & Co",
];

const SURNAMES: [&str; 12] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "Zhou", "Wu", "O'Neil", "Sun",
];
const GIVEN: [&str; 10] = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "Lei",
    "Yan",
    "\"Jay\"",
    "Min <Lead>",
    "Jun & Li",
];

fn shanghai() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}

fn at(day: i64, minutes: i64) -> DateTime<FixedOffset> {
    let start = shanghai()
        .with_ymd_and_hms(2024, 11, 8, 0, 0, 0)
        .single()
        .expect("a fixed offset has no gaps");
    start + Duration::days(day) + Duration::minutes(minutes)
}

/// Expected contacts per interval of `queue` at local day `day` (0 = 2024-11-08), minute `m`:
/// a late-morning and an evening hump, quieter weekends, and the Double-11 launch at midnight.
fn expected(spec: &QueueSpec, day: i64, m: i64, interval_minutes: u32) -> f64 {
    let h = m as f64 / 60.0;
    let hump = |centre: f64, width: f64| (-((h - centre) / width).powi(2)).exp();
    let shape = 0.04 + 0.75 * hump(10.5, 2.2) + 0.6 * hump(14.5, 2.0) + 1.0 * hump(21.0, 1.8);
    let date = at(day, 0);
    let weekday = chrono::Datelike::weekday(&date).num_days_from_monday();
    let week = if weekday >= 5 { 0.85 } else { 1.0 };
    // Double-11 is day 3 (Monday 2024-11-11); its launch spike sits at 00:00–02:00.
    let event = match day {
        2 if h >= 20.0 => 1.6 + (h - 20.0) * 0.3,
        3 if h < 2.0 => 6.0 - h * 1.5,
        3 => 2.4,
        4 => 1.5,
        _ => 1.0,
    };
    // The launch at 00:00 on 11-11 brings a burst of its own, fading over two hours.
    let launch = if day == 3 && h < 2.0 {
        1.3 * (1.0 - h / 2.0)
    } else {
        0.0
    };
    spec.peak * (shape * week * event + launch) * f64::from(interval_minutes) / 15.0
}

/// Builds a sample report of the given size, the same for the same seed.
pub fn sample_input(size: SampleSize, seed: u64) -> ReportInput {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let interval = i64::from(size.interval_minutes);
    let per_day = 1440 / interval;
    let queues = &QUEUES[..size.queues.min(QUEUES.len())];
    let horizon = TimeSpan {
        start: at(0, 0),
        end: at(i64::from(size.days), 0),
    };
    let double11 = EventWindow {
        name: "Double-11 双十一".to_string(),
        span: TimeSpan {
            start: at(2, 20 * 60),
            end: at(5, 0),
        },
    };

    let mut forecast = Vec::new();
    let mut coverage = Vec::new();
    let mut service = Vec::new();
    let mut warnings = Vec::new();
    let mut short_intervals = 0usize;
    for spec in queues {
        let history = (-i64::from(size.history_days) * per_day..0)
            .map(|i| {
                let (day, m) = (i.div_euclid(per_day), i.rem_euclid(per_day) * interval);
                // Last year's Double-11 pattern is not in a two-week history; ordinary days only.
                let mean = expected(spec, day.rem_euclid(7) + 7, m, size.interval_minutes);
                let noise: f64 = rng.random_range(-1.0..1.0) * mean.sqrt() * 1.5;
                HistoryPoint {
                    t: at(day, m),
                    value: (mean + noise).max(0.0).round(),
                }
            })
            .collect();
        let mut points = Vec::new();
        let mut cover = Vec::new();
        let mut levels = Vec::new();
        let mut short_run: Option<(DateTime<FixedOffset>, DateTime<FixedOffset>, f64)> = None;
        for i in 0..i64::from(size.days) * per_day {
            let (day, m) = (i / per_day, (i % per_day) * interval);
            let t = at(day, m);
            let mean = expected(spec, day, m, size.interval_minutes);
            let spread = mean.sqrt() * (1.0 + 0.1 * day as f64) + 0.08 * mean;
            points.push(ForecastPoint {
                t,
                mean,
                lo80: (mean - 1.28 * spread).max(0.0),
                hi80: mean + 1.28 * spread,
                lo95: (mean - 1.96 * spread).max(0.0),
                hi95: mean + 1.96 * spread,
            });
            let load = mean * spec.aht_seconds / (interval as f64 * 60.0);
            let required = if load < 0.05 {
                1.0
            } else {
                (load + 1.6 * load.sqrt() + 1.0).ceil()
            };
            // The roster tracks the requirement closely but lags at the Double-11 launch.
            let launch = day == 3 && m < 120;
            let scheduled = if launch {
                (required * rng.random_range(0.62..0.85)).round()
            } else if rng.random_bool(0.03) {
                required - 1.0
            } else {
                required + f64::from(rng.random_range(0u8..=3))
            };
            cover.push(CoveragePoint {
                t,
                required,
                scheduled,
            });
            let gap = scheduled - required;
            if gap < 0.0 {
                short_intervals += 1;
                let worst = short_run.map_or(0.0, |(_, _, w)| w);
                let relative = -gap / required;
                short_run = Some((
                    short_run.map_or(t, |(s, _, _)| s),
                    t + Duration::minutes(interval),
                    worst.max(relative),
                ));
            } else if let Some((start, end, worst)) = short_run.take() {
                warnings.push(Warning {
                    severity: if worst >= 0.2 {
                        Severity::Critical
                    } else {
                        Severity::Warning
                    },
                    queue: Some(spec.name.to_string()),
                    span: Some(TimeSpan { start, end }),
                    message: format!(
                        "Understaffed by up to {:.0}% of the requirement; no agent with skill `{}` is free to add in these intervals.",
                        worst * 100.0,
                        spec.skill
                    ),
                });
            }
            let service_level = if mean < 0.3 {
                None
            } else {
                let base = spec.target + 0.08 + 0.1 * gap.min(0.0) / required.max(1.0) * 4.0;
                Some((base + rng.random_range(-0.05..0.05)).clamp(0.0, 1.0))
            };
            let half_width = 0.02 + 0.25 / (mean.max(1.0)).sqrt();
            levels.push(ServicePoint {
                t,
                service_level,
                ci_low: service_level.map(|v| (v - half_width).max(0.0)),
                ci_high: service_level.map(|v| (v + half_width).min(1.0)),
            });
        }
        forecast.push(ForecastSeries {
            queue: spec.name.to_string(),
            history,
            forecast: points,
            events: vec![double11.clone()],
        });
        coverage.push(CoverageSeries {
            queue: spec.name.to_string(),
            points: cover,
        });
        service.push(ServiceSeries {
            queue: spec.name.to_string(),
            target: spec.target,
            measure: spec.measure.to_string(),
            points: levels,
        });
    }
    warnings.push(Warning {
        severity: Severity::Info,
        queue: None,
        span: None,
        message: "Shift rule `max 6 consecutive days` was relaxed for the Night <owl> team to cover the launch.".to_string(),
    });

    let mut roster = Vec::new();
    let mut paid_minutes = 0i64;
    for a in 0..size.agents {
        let group = GROUPS[a % GROUPS.len()];
        let night = group.starts_with("Night");
        let name = format!(
            "{}{} {:03}",
            SURNAMES[a % SURNAMES.len()],
            GIVEN[(a / SURNAMES.len()) % GIVEN.len()],
            a
        );
        let primary = &queues[a % queues.len()];
        let secondary = &queues[(a * 7 + 3) % queues.len()];
        let days_off = rng.random_range(0..7i64);
        let mut shifts = Vec::new();
        for day in 0..i64::from(size.days) {
            if day % 7 == days_off || (day + 3) % 7 == days_off {
                continue;
            }
            let start_minute = if night {
                22 * 60
            } else {
                6 * 60 + rng.random_range(0..20i64) * 30
            };
            let start = at(day, start_minute);
            let end = start + Duration::minutes(9 * 60);
            let skill = if rng.random_bool(0.8) {
                primary
            } else {
                secondary
            };
            let breaks = [(120, 15), (240, 30), (390, 15)]
                .iter()
                .map(|&(offset, length)| TimeSpan {
                    start: start + Duration::minutes(offset),
                    end: start + Duration::minutes(offset + length),
                })
                .collect();
            paid_minutes += 8 * 60;
            shifts.push(GanttShift {
                start,
                end,
                skill: skill.skill.to_string(),
                breaks,
            });
        }
        roster.push(GanttRow {
            agent: name,
            group: group.to_string(),
            shifts,
        });
    }

    let paid_hours = paid_minutes as f64 / 60.0;
    let kpi = |name: &str,
               value: f64,
               format: KpiFormat,
               target: Option<(f64, TargetDirection)>,
               status: Status,
               note: &str| Kpi {
        name: name.to_string(),
        value,
        format,
        target: target.map(|(value, direction)| KpiTarget { value, direction }),
        status,
        note: (!note.is_empty()).then(|| note.to_string()),
    };
    let kpis = vec![
        kpi(
            "Paid hours",
            paid_hours,
            KpiFormat::Hours,
            None,
            Status::Ok,
            "breaks paid, lunch unpaid",
        ),
        kpi(
            "Labor cost",
            paid_hours * 46.5,
            KpiFormat::Money {
                currency: "¥".to_string(),
            },
            Some((2_000_000.0, TargetDirection::AtMost)),
            Status::Ok,
            "¥46.50 per paid hour",
        ),
        kpi(
            "Chats first answered within 90 s",
            0.873,
            KpiFormat::Percent,
            Some((0.8, TargetDirection::AtLeast)),
            Status::Ok,
            "30 replications, 95% CI ±0.9 pt",
        ),
        kpi(
            "Calls answered within 20 s",
            0.764,
            KpiFormat::Percent,
            Some((0.8, TargetDirection::AtLeast)),
            Status::Warn,
            "misses at the 11-11 00:00 launch",
        ),
        kpi(
            "Abandonment",
            0.061,
            KpiFormat::Percent,
            Some((0.05, TargetDirection::AtMost)),
            Status::Bad,
            "",
        ),
        kpi(
            "Occupancy",
            0.842,
            KpiFormat::Percent,
            Some((0.88, TargetDirection::AtMost)),
            Status::Ok,
            "",
        ),
        kpi(
            "Understaffed intervals",
            short_intervals as f64,
            KpiFormat::Count,
            Some((0.0, TargetDirection::AtMost)),
            if short_intervals > 0 {
                Status::Bad
            } else {
                Status::Ok
            },
            "queue-intervals with fewer agents than required",
        ),
    ];

    ReportInput {
        title: "Double-11 staffing plan".to_string(),
        scenario_name: "double11 <peak> & \"launch\"".to_string(),
        horizon,
        time_zone: chrono_tz::Asia::Shanghai,
        interval_minutes: size.interval_minutes,
        kpis,
        warnings,
        forecast,
        coverage,
        roster,
        service,
    }
}
