//! Turning the plan's break counts into explicit breaks for each shift.
//!
//! The plan only says how many agents of a group start break `k` at each time (Bechtold–Jacobs'
//! implicit model). Here those breaks are handed to the shifts by earliest deadline first: walk
//! the break times in order and give each break to the waiting shift whose window closes first.
//! Because all windows of one template are the same offsets from the start, a shift that starts
//! later opens and closes its window later (no extraordinary overlap), so "closes first" is
//! simply "started first", and EDF succeeds exactly when the forward/backward constraints of the
//! plan hold. A failure here is therefore a bug, reported rather than papered over.

use std::collections::VecDeque;

/// Shifts waiting for one break rule: their window `[earliest, latest]` (break start times) and
/// how many agents work them, in start order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Demand {
    pub earliest: i64,
    pub latest: i64,
    pub count: u32,
}

/// Assigns `breaks` (time, count) to `demands`, returning for each demand its break start times
/// in increasing order (one per agent), or the first break time that cannot be placed.
pub fn assign_edf(demands: &[Demand], breaks: &[(i64, u32)]) -> Result<Vec<Vec<i64>>, String> {
    let mut out: Vec<Vec<i64>> = demands.iter().map(|_| Vec::new()).collect();
    let mut next = 0;
    let mut waiting: VecDeque<usize> = VecDeque::new();
    let mut sorted: Vec<(i64, u32)> = breaks.iter().copied().filter(|b| b.1 > 0).collect();
    sorted.sort_unstable();
    for (time, count) in sorted {
        while next < demands.len() && demands[next].earliest <= time {
            if demands[next].count > 0 {
                waiting.push_back(next);
            }
            next += 1;
        }
        for _ in 0..count {
            let Some(&d) = waiting.front() else {
                return Err(format!(
                    "a break at minute {time} has no shift whose window holds it"
                ));
            };
            if demands[d].latest < time {
                return Err(format!(
                    "a shift's break window closed at minute {} before a break was free",
                    demands[d].latest
                ));
            }
            out[d].push(time);
            if out[d].len() as u32 == demands[d].count {
                waiting.pop_front();
            }
        }
    }
    if let Some(d) = (0..demands.len()).find(|&d| out[d].len() as u32 != demands[d].count) {
        return Err(format!(
            "{} of {} agents starting their break window at minute {} got no break",
            demands[d].count - out[d].len() as u32,
            demands[d].count,
            demands[d].earliest
        ));
    }
    Ok(out)
}

/// Whether break counts satisfy Bechtold and Jacobs' conditions for these demands: as many
/// breaks as agents, the first `j` shifts' breaks all fit before shift `j`'s window closes
/// (forward), and the last shifts' breaks fit after their windows open (backward).
#[cfg(test)]
pub fn bechtold_jacobs_feasible(demands: &[Demand], breaks: &[(i64, u32)]) -> bool {
    let total_demand: u32 = demands.iter().map(|d| d.count).sum();
    let total_breaks: u32 = breaks.iter().map(|b| b.1).sum();
    if total_demand != total_breaks {
        return false;
    }
    let mut before = 0;
    for (j, d) in demands.iter().enumerate() {
        before += d.count;
        let early: u32 = breaks.iter().filter(|b| b.0 <= d.latest).map(|b| b.1).sum();
        let late: u32 = breaks
            .iter()
            .filter(|b| b.0 >= d.earliest)
            .map(|b| b.1)
            .sum();
        let after: u32 = demands[j..].iter().map(|d| d.count).sum();
        if early < before || late < after {
            return false;
        }
    }
    // Breaks outside every window cannot be placed.
    breaks
        .iter()
        .all(|b| b.1 == 0 || demands.iter().any(|d| d.earliest <= b.0 && b.0 <= d.latest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn assigns_in_start_order() {
        let demands = [
            Demand {
                earliest: 0,
                latest: 2,
                count: 2,
            },
            Demand {
                earliest: 1,
                latest: 3,
                count: 1,
            },
        ];
        let got = assign_edf(&demands, &[(1, 1), (2, 1), (3, 1)]).unwrap();
        assert_eq!(got, vec![vec![1, 2], vec![3]]);
    }

    #[test]
    fn reports_a_missed_window() {
        let demands = [Demand {
            earliest: 0,
            latest: 1,
            count: 2,
        }];
        assert!(assign_edf(&demands, &[(0, 1), (2, 1)]).is_err());
    }

    /// EDF succeeds exactly when the forward/backward conditions the plan imposes hold.
    #[test]
    fn edf_agrees_with_the_implicit_conditions_on_random_instances() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let mut feasible = 0;
        for _ in 0..3000 {
            let n = rng.random_range(1..5);
            let width = rng.random_range(0..4);
            let mut start = 0;
            let demands: Vec<Demand> = (0..n)
                .map(|_| {
                    start += rng.random_range(0..3);
                    Demand {
                        earliest: start,
                        latest: start + width,
                        count: rng.random_range(0..3),
                    }
                })
                .collect();
            let horizon = start + width + 2;
            let total: u32 = demands.iter().map(|d| d.count).sum();
            let mut breaks: Vec<(i64, u32)> = (0..=horizon).map(|t| (t, 0)).collect();
            for _ in 0..total {
                let t = rng.random_range(0..=horizon) as usize;
                breaks[t].1 += 1;
            }
            let expect = bechtold_jacobs_feasible(&demands, &breaks);
            let got = assign_edf(&demands, &breaks);
            assert_eq!(got.is_ok(), expect, "{demands:?} {breaks:?}");
            if let Ok(assigned) = got {
                feasible += 1;
                for (d, times) in demands.iter().zip(&assigned) {
                    assert_eq!(times.len() as u32, d.count);
                    assert!(times.iter().all(|&t| d.earliest <= t && t <= d.latest));
                }
            }
        }
        assert!(
            feasible > 300,
            "the random instances should include feasible ones"
        );
    }
}
