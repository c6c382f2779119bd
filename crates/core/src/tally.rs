//! The one tally: what every service metric means, and the one fold from routing events into it.
//!
//! The daemon (`/v1/stats`, `/metrics`), the simulator (`simulate`, `plan`'s simulation) and the
//! report all count contacts here, so a word means the same number everywhere.
//!
//! # Definitions
//!
//! A contact is counted once, in the queue it **arrived** in (its entry point: a transfer or an
//! escalation moves it on but does not offer it again), against that queue's answer target `T`
//! and short-abandon threshold `S` (default 0: no short abandons).
//!
//! - **offered**: contacts that arrived.
//! - **answered**: offered contacts an agent accepted; only the first acceptance counts (a
//!   contact dropped and taken again is answered once). Its **wait** is accept time − arrival.
//! - **answered within target**: answered with wait ≤ `T`.
//! - **abandoned**: offered contacts that left before their first answer; its wait is abandon
//!   time − arrival. **Short abandons** are those with wait < `S`.
//! - **service level** = answered within target ÷ offered.
//! - **service level excluding short abandons** = answered within target ÷ (offered − short
//!   abandoned): the variant some centres contract on, named as such.
//! - **ASA** (average speed of answer) = Σ wait of answered ÷ answered.
//! - **mean wait** = Σ wait of answered and abandoned ÷ (answered + abandoned): every contact
//!   whose wait ended, abandoned ones included.
//! - **abandonment rate** = abandoned ÷ offered.
//! - **longest wait**: the longest wait that ended (a driver may fold in waits still running).
//! - **occupancy** = capacity-time in use ÷ capacity-time staffed (ready, busy or in wrap-up);
//!   [`occupancy`] is the one formula.
//!
//! A ratio with a zero denominator is `None`, never NaN.
//!
//! # The fold
//!
//! A driver keeps a [`WaitClock`] beside each contact it tracks (it already keeps the contact's
//! queue and arrival) and passes it every routing event about that contact; the clock says once,
//! and only once, when the contact's wait ended and how ([`WaitEnd`]). The driver adds that to
//! the [`Counts`] of whatever bucket it reports (a queue today, a queue × interval).

use serde::{Deserialize, Serialize};

use crate::routing::{EventKind, Millis, QueueFacts, QueueIx};

/// How a contact's wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WaitEnd {
    /// First accepted by an agent after waiting `wait` ms.
    Answered { wait: Millis },
    /// Left before any answer after waiting `wait` ms.
    Abandoned { wait: Millis },
}

/// Where a contact's wait stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WaitState {
    Waiting,
    Answered,
    Abandoned,
}

/// What the tally keeps of one contact: the queue it arrived in, when, and whether its wait has
/// ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WaitClock {
    pub queue: QueueIx,
    pub arrival: Millis,
    pub state: WaitState,
}

impl WaitClock {
    /// A contact that arrived in `queue` at `arrival` (to be counted as offered there).
    pub fn new(queue: QueueIx, arrival: Millis) -> WaitClock {
        WaitClock {
            queue,
            arrival,
            state: WaitState::Waiting,
        }
    }

    /// The end of the wait that `kind`, an event about this contact at `at`, marks: `Some` at
    /// most once per contact (its first acceptance, or its abandonment before any).
    pub fn observe(&mut self, kind: &EventKind, at: Millis) -> Option<WaitEnd> {
        if self.state != WaitState::Waiting {
            return None;
        }
        let wait = at.saturating_sub(self.arrival);
        match kind {
            EventKind::Accepted { .. } => {
                self.state = WaitState::Answered;
                Some(WaitEnd::Answered { wait })
            }
            EventKind::Abandoned { .. } => {
                self.state = WaitState::Abandoned;
                Some(WaitEnd::Abandoned { wait })
            }
            _ => None,
        }
    }

    pub fn answered(&self) -> bool {
        self.state == WaitState::Answered
    }
}

/// The counts of one bucket (a queue, a queue × interval, a whole centre), from which every
/// figure is derived by [`Counts::figures`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Counts {
    pub offered: u64,
    pub answered: u64,
    pub answered_within_target: u64,
    pub abandoned: u64,
    pub short_abandoned: u64,
    /// Σ wait of answered contacts, ms.
    pub answered_wait_ms: u64,
    /// Σ wait of abandoned contacts, ms.
    pub abandoned_wait_ms: u64,
    pub longest_wait_ms: Millis,
}

/// The thresholds a contact's wait is judged by: its arrival queue's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// The answer target `T`, ms.
    pub answer_target_ms: Millis,
    /// Abandons with a wait under this are short abandons, ms.
    pub short_abandon_ms: Millis,
}

impl QueueFacts {
    /// The thresholds this queue's waits are judged by.
    pub fn thresholds(&self) -> Thresholds {
        Thresholds {
            answer_target_ms: self.answer_target_ms,
            short_abandon_ms: self.short_abandon_ms,
        }
    }
}

impl Counts {
    /// One more contact offered.
    pub fn offer(&mut self) {
        self.offered += 1;
    }

    /// A wait that ended, judged by its arrival queue's thresholds.
    pub fn end(&mut self, end: WaitEnd, t: Thresholds) {
        match end {
            WaitEnd::Answered { wait } => {
                self.answered += 1;
                self.answered_within_target += u64::from(wait <= t.answer_target_ms);
                self.answered_wait_ms += wait;
                self.note_wait(wait);
            }
            WaitEnd::Abandoned { wait } => {
                self.abandoned += 1;
                self.short_abandoned += u64::from(wait < t.short_abandon_ms);
                self.abandoned_wait_ms += wait;
                self.note_wait(wait);
            }
        }
    }

    /// A wait seen without ending it (still waiting when the count closes): only the longest
    /// wait takes it in.
    pub fn note_wait(&mut self, wait: Millis) {
        self.longest_wait_ms = self.longest_wait_ms.max(wait);
    }

    /// Adds another bucket's counts (a queue's intervals, a centre's queues).
    pub fn add(&mut self, o: &Counts) {
        self.offered += o.offered;
        self.answered += o.answered;
        self.answered_within_target += o.answered_within_target;
        self.abandoned += o.abandoned;
        self.short_abandoned += o.short_abandoned;
        self.answered_wait_ms += o.answered_wait_ms;
        self.abandoned_wait_ms += o.abandoned_wait_ms;
        self.longest_wait_ms = self.longest_wait_ms.max(o.longest_wait_ms);
    }

    /// Every figure of the definitions, `None` where its denominator is zero.
    pub fn figures(&self) -> Figures {
        let ratio = |num: u64, den: u64| (den > 0).then(|| num as f64 / den as f64);
        let ended = self.answered + self.abandoned;
        Figures {
            service_level: ratio(self.answered_within_target, self.offered),
            service_level_excluding_short_abandons: ratio(
                self.answered_within_target,
                self.offered - self.short_abandoned.min(self.offered),
            ),
            asa_seconds: ratio(self.answered_wait_ms, self.answered).map(|ms| ms / 1000.0),
            mean_wait_seconds: ratio(self.answered_wait_ms + self.abandoned_wait_ms, ended)
                .map(|ms| ms / 1000.0),
            abandonment_rate: ratio(self.abandoned, self.offered),
            longest_wait_seconds: (ended > 0 || self.longest_wait_ms > 0)
                .then(|| self.longest_wait_ms as f64 / 1000.0),
        }
    }
}

/// The figures of one bucket, each as defined in the module doc.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Figures {
    pub service_level: Option<f64>,
    pub service_level_excluding_short_abandons: Option<f64>,
    pub asa_seconds: Option<f64>,
    pub mean_wait_seconds: Option<f64>,
    pub abandonment_rate: Option<f64>,
    pub longest_wait_seconds: Option<f64>,
}

/// Occupancy: capacity-time in use ÷ capacity-time staffed; `None` when nobody was staffed.
pub fn occupancy(busy: f64, staffed: f64) -> Option<f64> {
    (staffed > 0.0).then(|| (busy / staffed).clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routing::{AgentId, ContactId};

    const T: Thresholds = Thresholds {
        answer_target_ms: 20_000,
        short_abandon_ms: 5_000,
    };

    fn accepted() -> EventKind {
        EventKind::Accepted {
            contact: ContactId(1),
            agent: AgentId(1),
        }
    }

    fn abandoned() -> EventKind {
        EventKind::Abandoned {
            contact: ContactId(1),
        }
    }

    #[test]
    fn a_wait_ends_once_at_the_first_answer() {
        let mut c = WaitClock::new(QueueIx(0), 1_000);
        assert_eq!(
            c.observe(&abandoned(), 6_000),
            Some(WaitEnd::Abandoned { wait: 5_000 })
        );
        assert_eq!(c.observe(&accepted(), 7_000), None);
        assert!(!c.answered());
        let mut c = WaitClock::new(QueueIx(0), 1_000);
        assert_eq!(
            c.observe(&accepted(), 31_000),
            Some(WaitEnd::Answered { wait: 30_000 })
        );
        // Dropped, taken again, then the customer hangs up: answered once, never abandoned.
        assert_eq!(c.observe(&accepted(), 40_000), None);
        assert_eq!(c.observe(&abandoned(), 50_000), None);
        assert!(c.answered());
    }

    #[test]
    fn figures_follow_the_definitions() {
        let mut counts = Counts::default();
        // 10 offered: 6 answered (waits 0, 10, 20, 21, 40, 60 s), 3 abandoned (2, 4, 30 s), 1
        // still waiting at 90 s.
        for _ in 0..10 {
            counts.offer();
        }
        for s in [0, 10, 20, 21, 40, 60] {
            counts.end(WaitEnd::Answered { wait: s * 1000 }, T);
        }
        for s in [2, 4, 30] {
            counts.end(WaitEnd::Abandoned { wait: s * 1000 }, T);
        }
        counts.note_wait(90_000);
        let f = counts.figures();
        assert_eq!(f.service_level, Some(3.0 / 10.0));
        assert_eq!(f.service_level_excluding_short_abandons, Some(3.0 / 8.0));
        assert_eq!(f.asa_seconds, Some(151.0 / 6.0));
        assert_eq!(f.mean_wait_seconds, Some(187.0 / 9.0));
        assert_eq!(f.abandonment_rate, Some(0.3));
        assert_eq!(f.longest_wait_seconds, Some(90.0));

        let mut twice = counts;
        twice.add(&counts);
        assert_eq!(twice.offered, 20);
        assert_eq!(twice.figures().service_level, f.service_level);
        assert_eq!(twice.longest_wait_ms, 90_000);
    }

    #[test]
    fn empty_buckets_have_no_figures() {
        let f = Counts::default().figures();
        assert_eq!(
            (
                f.service_level,
                f.asa_seconds,
                f.mean_wait_seconds,
                f.abandonment_rate
            ),
            (None, None, None, None)
        );
        assert_eq!(occupancy(1.0, 0.0), None);
        assert_eq!(occupancy(3.0, 4.0), Some(0.75));
    }
}
