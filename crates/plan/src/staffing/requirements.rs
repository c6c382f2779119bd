//! Agents required per queue and interval, from forecast workload and each queue's promise.
//!
//! **Real-time queues** (phone, chat, in-person, and social when it has a service-level target)
//! are sized by Erlang: Erlang A when the scenario gives the customers' mean patience (abandons
//! count as not answered, so the target is met among *all* arrivals), Erlang C otherwise. The
//! minimal staffing meeting the target (service level within T, ASA or abandonment cap) is found
//! under the queue's maximum-occupancy cap; then shrinkage is applied:
//! `required = ceil(required_raw / (1 − shrinkage))`.
//!
//! **Chat concurrency.** An agent holding up to k chats is modelled as k parallel servers. Chats
//! handled side by side each take longer than one handled alone, because the agent's attention is
//! shared: the wall-clock duration of a chat at concurrency k is `AHT × s(k)` with
//! `s(k) = 1 + stretch × (k − 1)` (the scenario's `staffing.chat_stretch`, 0.25 by default: a chat
//! at three at once lasts 1.5× its focused handle time, so three concurrent chats give
//! 3 / 1.5 = 2× the throughput of one at a time rather than 3×). Here AHT is the *focused* handle
//! time per chat the forecast carries. Erlang sizes `n_v` virtual servers for arrival rate λ and
//! service time `AHT × s(k)`; agents = `ceil(n_v / k)`. Occupancy is reported per server slot.
//!
//! **Deferred queues** (an SLA `deadline`, e.g. email within 24 h) are not Erlang queues: work
//! waits in a backlog that is carried from interval to interval. Each interval's arriving work
//! (contacts × AHT) is spread evenly over the D intervals of its deadline window, so
//! `required_raw[t] = Σ_{i = t−D+1..t} work[i] / D / (interval length × max occupancy)`: the
//! moving average of the workload over the deadline. Processing at that rate finishes every
//! contact within its deadline (each interval's share is done inside its window) with the least
//! peak staffing among schedules that treat all work alike, and the backlog
//! `Σ arrived − Σ processed` is carried forward. Work that arrived in the D intervals before the
//! forecast starts is taken to be like the forecast's first day (the history is not at hand
//! here). Reported service level is the share finished within the deadline (1 by construction)
//! and ASA the mean delay under this spreading, `D × interval / 2`.

use std::collections::BTreeMap;

use super::erlang::{self, ErlangError, Load, Sizer, Target};
use super::Requirement;
use crate::scenario::Scenario;
use chrono::{DateTime, FixedOffset};
use peakcrew_core::model::{chat_stretch, Queue, SlaTarget};

/// Workload of one queue in one interval: the part of a forecast row staffing needs.
#[derive(Debug, Clone, PartialEq)]
pub struct IntervalLoad {
    pub queue: String,
    pub start: DateTime<FixedOffset>,
    pub interval_minutes: u32,
    pub contacts: f64,
    pub aht_seconds: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum StaffingError {
    #[error("queue `{queue}`: not in the scenario")]
    UnknownQueue { queue: String },
    #[error("queue `{queue}`, interval {start}: {source}")]
    Erlang {
        queue: String,
        start: String,
        #[source]
        source: ErlangError,
    },
    #[error("queue `{queue}`, interval {start}: {message}")]
    BadLoad {
        queue: String,
        start: String,
        message: String,
    },
}

impl From<&crate::forecast::ForecastRow> for IntervalLoad {
    fn from(r: &crate::forecast::ForecastRow) -> Self {
        IntervalLoad {
            queue: r.queue.clone(),
            start: r.start,
            interval_minutes: r.interval_minutes,
            contacts: r.contacts,
            aht_seconds: r.aht_seconds,
        }
    }
}

/// Sizes every queue in every interval of `loads`.
pub fn requirements(
    scenario: &Scenario,
    loads: &[IntervalLoad],
) -> Result<Vec<Requirement>, StaffingError> {
    let mut by_queue: BTreeMap<&str, Vec<&IntervalLoad>> = BTreeMap::new();
    for l in loads {
        by_queue.entry(l.queue.as_str()).or_default().push(l);
    }
    let mut out = Vec::with_capacity(loads.len());
    for (queue_id, mut rows) in by_queue {
        let queue = scenario
            .queue(queue_id)
            .ok_or_else(|| StaffingError::UnknownQueue {
                queue: queue_id.to_string(),
            })?;
        rows.sort_by_key(|r| r.start);
        for r in &rows {
            check_load(r)?;
        }
        if queue.sla.is_deferred() {
            out.extend(deferred(scenario, queue, &rows)?);
        } else {
            // In time order, so that each interval's answer warm-starts the next one's search.
            let mut sizer = Sizer::new();
            for r in rows {
                out.push(size_real_time(scenario, queue, r, &mut sizer)?);
            }
        }
    }
    out.sort_by(|a, b| a.start.cmp(&b.start).then_with(|| a.queue.cmp(&b.queue)));
    Ok(out)
}

fn check_load(r: &IntervalLoad) -> Result<(), StaffingError> {
    let bad = |message: String| {
        Err(StaffingError::BadLoad {
            queue: r.queue.clone(),
            start: r.start.to_rfc3339(),
            message,
        })
    };
    if !r.contacts.is_finite() || r.contacts < 0.0 {
        return bad(format!(
            "contacts: expected 0 or more, found {}",
            r.contacts
        ));
    }
    if r.contacts > 0.0 && !(r.aht_seconds.is_finite() && r.aht_seconds > 0.0) {
        return bad(format!(
            "aht_seconds: expected a positive handle time, found {}",
            r.aht_seconds
        ));
    }
    if r.interval_minutes == 0 {
        return bad("interval_minutes: expected a positive length".into());
    }
    Ok(())
}

/// Erlang sizing of one real-time queue interval.
pub fn real_time(
    scenario: &Scenario,
    queue: &Queue,
    r: &IntervalLoad,
) -> Result<Requirement, StaffingError> {
    size_real_time(scenario, queue, r, &mut Sizer::new())
}

/// [`real_time`] with the queue's sizer (the same result, found faster after a similar load).
fn size_real_time(
    scenario: &Scenario,
    queue: &Queue,
    r: &IntervalLoad,
    sizer: &mut Sizer,
) -> Result<Requirement, StaffingError> {
    let k = queue.concurrency.max(1);
    let stretch = chat_stretch(k, scenario.staffing.chat_stretch);
    let load = Load {
        rate_per_hour: r.contacts * 60.0 / r.interval_minutes as f64,
        // AHT may be 0 only where there are no contacts; Erlang wants a positive time.
        aht_seconds: if r.contacts > 0.0 {
            r.aht_seconds * stretch
        } else {
            queue.aht_seconds * stretch
        },
    };
    let (target, answer) = match queue.sla {
        SlaTarget::ServiceLevel {
            fraction,
            answer_seconds,
        } => (
            Target::ServiceLevel {
                fraction,
                answer_seconds,
            },
            answer_seconds,
        ),
        SlaTarget::Asa { seconds } => (Target::Asa { seconds }, seconds),
        SlaTarget::AbandonCap {
            fraction,
            answer_seconds,
        } => (Target::AbandonCap { fraction }, answer_seconds),
        SlaTarget::Deadline { .. } => unreachable!("deferred queues are sized by `deferred`"),
    };
    let erlang_err = |source| StaffingError::Erlang {
        queue: queue.id.clone(),
        start: r.start.to_rfc3339(),
        source,
    };
    let m = sizer
        .required_agents(
            &load,
            &target,
            answer,
            scenario.max_occupancy_of(queue),
            queue.patience_seconds,
        )
        .map_err(erlang_err)?;
    let raw = m.agents.div_ceil(k);
    let required =
        erlang::apply_shrinkage(raw, scenario.shrinkage_of(queue)).map_err(erlang_err)?;
    Ok(Requirement {
        queue: queue.id.clone(),
        start: r.start,
        interval_minutes: r.interval_minutes,
        contacts: r.contacts,
        aht_seconds: r.aht_seconds,
        required_raw: raw,
        required,
        service_level: m.service_level,
        // A staffing that meets a target is stable and answers someone, so its ASA is finite.
        asa_seconds: m.asa_seconds.ok_or_else(|| StaffingError::BadLoad {
            queue: queue.id.clone(),
            start: r.start.to_rfc3339(),
            message: "no finite staffing meets the target".into(),
        })?,
        abandon_rate: m.p_abandon,
        occupancy: m.occupancy,
    })
}

/// Deadline sizing of one deferred queue over consecutive intervals (see the module doc).
fn deferred(
    scenario: &Scenario,
    queue: &Queue,
    rows: &[&IntervalLoad],
) -> Result<Vec<Requirement>, StaffingError> {
    let SlaTarget::Deadline { hours } = queue.sla else {
        unreachable!("only deadline queues are deferred")
    };
    let Some(first) = rows.first() else {
        return Ok(Vec::new());
    };
    let minutes = first.interval_minutes as f64;
    let window = ((hours * 60.0 / minutes).round() as usize).max(1);
    let occupancy = scenario.max_occupancy_of(queue);
    let shrinkage = scenario.shrinkage_of(queue);
    // Agent-intervals of work arriving in each interval.
    let work: Vec<f64> = rows
        .iter()
        .map(|r| r.contacts * r.aht_seconds / (minutes * 60.0))
        .collect();
    // Work from before the forecast: assume the first day repeats (see the module doc).
    let per_day = ((24.0 * 60.0 / minutes).round() as usize).clamp(1, work.len());
    let prior = |back: usize| -> f64 {
        let idx = (per_day - (back % per_day)) % per_day;
        work[idx]
    };
    let mut sum: f64 = (1..=window).map(prior).sum();
    let mut out = Vec::with_capacity(rows.len());
    for (t, r) in rows.iter().enumerate() {
        sum += work[t];
        if t >= window {
            sum -= work[t - window];
        } else {
            sum -= prior(window - t);
        }
        let processing = (sum / window as f64).max(0.0);
        let raw_f = processing / occupancy;
        let raw = (raw_f * (1.0 - 1e-12)).ceil() as u32;
        let required =
            erlang::apply_shrinkage(raw, shrinkage).map_err(|source| StaffingError::Erlang {
                queue: queue.id.clone(),
                start: r.start.to_rfc3339(),
                source,
            })?;
        out.push(Requirement {
            queue: queue.id.clone(),
            start: r.start,
            interval_minutes: r.interval_minutes,
            contacts: r.contacts,
            aht_seconds: r.aht_seconds,
            required_raw: raw,
            required,
            service_level: 1.0,
            asa_seconds: window as f64 * minutes * 60.0 / 2.0,
            abandon_rate: 0.0,
            occupancy: if raw > 0 {
                processing / raw as f64
            } else {
                0.0
            },
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn scenario() -> Scenario {
        Scenario::load(Path::new(concat!(
            concat!(env!("CARGO_MANIFEST_DIR"), "/../.."),
            "/scenarios/double11.toml"
        )))
        .unwrap()
    }

    fn load(queue: &str, minute: u32, contacts: f64, aht: f64) -> IntervalLoad {
        let start = DateTime::parse_from_rfc3339("2026-11-11T00:00:00+08:00").unwrap()
            + chrono::Duration::minutes(minute as i64);
        IntervalLoad {
            queue: queue.into(),
            start,
            interval_minutes: 15,
            contacts,
            aht_seconds: aht,
        }
    }

    #[test]
    fn hotline_matches_erlang_a_and_applies_shrinkage() {
        let s = scenario();
        // 50 calls in 15 minutes = 200/h, AHT 180 s, 20 s target at 90%, patience 120 s.
        let r = &requirements(&s, &[load("zh-hotline", 0, 50.0, 180.0)]).unwrap()[0];
        let m = erlang::required_agents(
            &Load {
                rate_per_hour: 200.0,
                aht_seconds: 180.0,
            },
            &Target::ServiceLevel {
                fraction: 0.9,
                answer_seconds: 20.0,
            },
            20.0,
            0.88,
            Some(120.0),
        )
        .unwrap();
        assert_eq!(r.required_raw, m.agents);
        assert!(r.service_level >= 0.9);
        assert_eq!(r.required, (m.agents as f64 / 0.85).ceil() as u32);
    }

    #[test]
    fn chat_concurrency_divides_servers_after_stretch() {
        let s = scenario();
        let chat = s.queue("zh-presales-chat").unwrap();
        let r = real_time(&s, chat, &load("zh-presales-chat", 0, 300.0, 420.0)).unwrap();
        let stretched = Load {
            rate_per_hour: 1200.0,
            aht_seconds: 420.0 * 1.5,
        };
        let servers = erlang::required_agents(
            &stretched,
            &Target::ServiceLevel {
                fraction: 0.85,
                answer_seconds: 90.0,
            },
            90.0,
            0.88,
            Some(240.0),
        )
        .unwrap()
        .agents;
        assert_eq!(r.required_raw, servers.div_ceil(3));
        // Three chats at once need far fewer agents than one at a time, but not a third.
        let single = servers as f64 / 1.5;
        assert!((r.required_raw as f64) < single && (r.required_raw as f64) > single / 3.0);
    }

    #[test]
    fn deferred_work_is_levelled_over_the_deadline() {
        let s = scenario();
        // Email: 24 h deadline. One day of 96 intervals, 40 mails an interval, 480 s each:
        // work = 40 x 480 / 900 = 21.33 agent-intervals every interval; at 0.88 occupancy
        // that needs ceil(24.24) = 25 agents, all day, before shrinkage.
        let loads: Vec<IntervalLoad> = (0..96)
            .map(|i| load("zh-email", i * 15, 40.0, 480.0))
            .collect();
        let reqs = requirements(&s, &loads).unwrap();
        assert!(reqs.iter().all(|r| r.required_raw == 25), "{:?}", reqs[0]);
        assert!(reqs.iter().all(|r| r.service_level == 1.0));
        // A burst in one interval of the second day raises the requirement evenly over the
        // next 24 h and no longer.
        let mut bursty: Vec<IntervalLoad> = (0..192)
            .map(|i| load("zh-email", i * 15, 40.0, 480.0))
            .collect();
        bursty[106].contacts = 40.0 + 96.0 * 10.0;
        let reqs = requirements(&s, &bursty).unwrap();
        assert_eq!(reqs[105].required_raw, 25);
        // +960 mails x 480 s spread over 96 intervals = +5.33 agent-intervals each.
        assert!(
            reqs[106..192].iter().all(|r| r.required_raw == 31),
            "{}",
            reqs[106].required_raw
        );
    }

    #[test]
    fn bad_loads_name_queue_and_interval() {
        let s = scenario();
        let err = requirements(&s, &[load("zh-hotline", 15, 10.0, 0.0)])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("zh-hotline")
                && err.contains("2026-11-11T00:15:00+08:00")
                && err.contains("aht_seconds"),
            "{err}"
        );
        let err = requirements(&s, &[load("nope", 0, 1.0, 100.0)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("`nope`"), "{err}");
        let err = requirements(&s, &[load("zh-hotline", 0, -1.0, 100.0)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("contacts"), "{err}");
    }

    #[test]
    fn zero_volume_needs_no_agents() {
        let s = scenario();
        let r = &requirements(&s, &[load("ja-chat", 0, 0.0, 0.0)]).unwrap()[0];
        assert_eq!((r.required_raw, r.required), (0, 0));
    }

    #[test]
    fn warm_started_rows_equal_cold_sizing() {
        // A week of generated history for every queue of the bundled scenario, sized by
        // `requirements` (each queue's sizer warm-started from the interval before) and row by
        // row by the cold `erlang::required_agents`: the same numbers, bit for bit.
        let s = scenario();
        let loads: Vec<IntervalLoad> = crate::history::generate(&s, 1, 7)
            .into_iter()
            .map(|h| IntervalLoad {
                aht_seconds: h.aht_seconds.unwrap(),
                queue: h.queue,
                start: h.start,
                interval_minutes: 15,
                contacts: h.contacts,
            })
            .collect();
        let reqs = requirements(&s, &loads).unwrap();
        assert_eq!(reqs.len(), loads.len());
        let mut sized = 0;
        for r in &reqs {
            let queue = s.queue(&r.queue).unwrap();
            let (
                Some(patience),
                SlaTarget::ServiceLevel {
                    fraction,
                    answer_seconds,
                },
            ) = (queue.patience_seconds, queue.sla)
            else {
                continue;
            };
            let stretch = chat_stretch(queue.concurrency, s.staffing.chat_stretch);
            let aht = if r.contacts > 0.0 {
                r.aht_seconds
            } else {
                queue.aht_seconds
            };
            let m = erlang::required_agents(
                &Load {
                    rate_per_hour: r.contacts * 4.0,
                    aht_seconds: aht * stretch,
                },
                &Target::ServiceLevel {
                    fraction,
                    answer_seconds,
                },
                answer_seconds,
                s.max_occupancy_of(queue),
                Some(patience),
            )
            .unwrap();
            let want = (
                m.agents.div_ceil(queue.concurrency),
                m.service_level.to_bits(),
                m.asa_seconds.unwrap().to_bits(),
                m.p_abandon.to_bits(),
                m.occupancy.to_bits(),
            );
            let got = (
                r.required_raw,
                r.service_level.to_bits(),
                r.asa_seconds.to_bits(),
                r.abandon_rate.to_bits(),
                r.occupancy.to_bits(),
            );
            assert_eq!(got, want, "{} at {}", r.queue, r.start);
            sized += 1;
        }
        assert_eq!(
            sized,
            7 * 7 * 96,
            "the 7 Erlang queues, 7 days of 96 intervals"
        );
    }

    #[test]
    fn required_never_falls_as_load_rises() {
        let s = scenario();
        let mut last = 0;
        for c in 0..200 {
            let r = &requirements(&s, &[load("zh-hotline", 0, c as f64 * 2.0, 300.0)]).unwrap()[0];
            assert!(r.required >= last, "load {c}: {} < {last}", r.required);
            last = r.required;
        }
    }
}
