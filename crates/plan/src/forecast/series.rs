//! One queue's history laid on a local-day × slot grid, the shape every estimator here reads.
//!
//! Rows come from [`crate::history::aggregate`], already at the modelling interval. A slot is the
//! local wall-clock minute of day divided by the interval, read in each row's own UTC offset, so
//! a DST change day keeps the local grid. Invariants: `days[i]` is the date `first + i`; a day is
//! `None` when the queue has no row at all that date (a missing or closed day); inside a day
//! that has rows, a slot without a row counts as zero contacts, because exports commonly omit
//! empty intervals (the bank reference file has no rows outside opening hours), and `present`
//! remembers which slots had rows so evaluation scores only what was observed.

use std::collections::BTreeMap;

use chrono::{Datelike, Duration, NaiveDate};

use crate::history::HistoryRow;

/// One local date of one queue.
#[derive(Debug, Clone)]
pub(crate) struct Day {
    pub contacts: Vec<f64>,
    /// Sum of handle time × contacts per slot, and the contacts it was measured on.
    pub aht_sum: Vec<f64>,
    pub aht_weight: Vec<f64>,
    pub present: Vec<bool>,
    pub total: f64,
}

impl Day {
    fn empty(slots: usize) -> Day {
        Day {
            contacts: vec![0.0; slots],
            aht_sum: vec![0.0; slots],
            aht_weight: vec![0.0; slots],
            present: vec![false; slots],
            total: 0.0,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct QueueSeries {
    pub queue: String,
    pub slots: usize,
    pub first: NaiveDate,
    pub days: Vec<Option<Day>>,
}

impl QueueSeries {
    /// Builds the grid from one queue's rows at `interval_minutes`. On a DST fall-back day the
    /// repeated local hour lands in the same slots, so its contacts add up there (the day total
    /// stays right; the profile of that one day carries a bump).
    pub fn from_rows<'a>(
        queue: &str,
        rows: impl IntoIterator<Item = &'a HistoryRow>,
        interval_minutes: u32,
    ) -> Option<QueueSeries> {
        let slots = (24 * 60 / interval_minutes) as usize;
        let mut by_date: BTreeMap<NaiveDate, Day> = BTreeMap::new();
        // Rows come in time order: fill one day at a time and file it when the date changes.
        let mut current: Option<(NaiveDate, Day)> = None;
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
        let mut current_day = i64::MIN;
        for r in rows {
            // Local wall-clock seconds since 1970, split into a day and a second of the day
            // with integer arithmetic (this runs once per history row).
            let local = r.start.timestamp() + r.start.offset().local_minus_utc() as i64;
            let (day_number, second) = (local.div_euclid(86_400), local.rem_euclid(86_400));
            let slot = (second / 60) as usize / interval_minutes as usize;
            if day_number != current_day {
                current_day = day_number;
                let date = epoch + Duration::days(day_number);
                if let Some((d, day)) = current.take() {
                    by_date.insert(d, day);
                }
                let day = by_date.remove(&date).unwrap_or_else(|| Day::empty(slots));
                current = Some((date, day));
            }
            let Some((_, day)) = current.as_mut() else {
                continue;
            };
            day.contacts[slot] += r.contacts;
            day.present[slot] = true;
            day.total += r.contacts;
            if let Some(a) = r.aht_seconds {
                if r.contacts > 0.0 {
                    day.aht_sum[slot] += a * r.contacts;
                    day.aht_weight[slot] += r.contacts;
                }
            }
        }
        if let Some((d, day)) = current.take() {
            by_date.insert(d, day);
        }
        let first = *by_date.keys().next()?;
        let last = *by_date.keys().next_back()?;
        let mut days: Vec<Option<Day>> = (0..=(last - first).num_days()).map(|_| None).collect();
        for (date, day) in by_date {
            days[(date - first).num_days() as usize] = Some(day);
        }
        Some(QueueSeries {
            queue: queue.to_string(),
            slots,
            first,
            days,
        })
    }

    pub fn date(&self, index: usize) -> NaiveDate {
        self.first + Duration::days(index as i64)
    }

    pub fn last_date(&self) -> NaiveDate {
        self.date(self.days.len().saturating_sub(1))
    }

    pub fn index(&self, date: NaiveDate) -> Option<usize> {
        let i = (date - self.first).num_days();
        (i >= 0 && (i as usize) < self.days.len()).then_some(i as usize)
    }

    pub fn day(&self, date: NaiveDate) -> Option<&Day> {
        self.index(date).and_then(|i| self.days[i].as_ref())
    }

    /// Dates that have data, in order.
    pub fn data_dates(&self) -> Vec<NaiveDate> {
        (0..self.days.len())
            .filter(|&i| self.days[i].is_some())
            .map(|i| self.date(i))
            .collect()
    }

    /// The same series with every date from `date` on dropped; `None` if nothing is left.
    pub fn before(&self, date: NaiveDate) -> Option<QueueSeries> {
        let keep = (date - self.first)
            .num_days()
            .clamp(0, self.days.len() as i64) as usize;
        let mut days: Vec<Option<Day>> = self.days[..keep].to_vec();
        while matches!(days.last(), Some(None)) {
            days.pop();
        }
        days.iter().any(Option::is_some).then(|| QueueSeries {
            queue: self.queue.clone(),
            slots: self.slots,
            first: self.first,
            days,
        })
    }
}

/// Day of week, Monday = 0.
pub(crate) fn dow(date: NaiveDate) -> usize {
    date.weekday().num_days_from_monday() as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn row(start: &str, contacts: f64) -> HistoryRow {
        HistoryRow {
            start: DateTime::parse_from_rfc3339(start).unwrap(),
            queue: "q".into(),
            contacts,
            aht_seconds: Some(100.0),
            line: 0,
        }
    }

    #[test]
    fn lays_rows_on_local_slots_and_leaves_missing_days_empty() {
        let rows = [
            row("2026-03-02T09:00:00-05:00", 4.0),
            row("2026-03-02T09:15:00-05:00", 6.0),
            row("2026-03-04T23:45:00-05:00", 1.0),
        ];
        let s = QueueSeries::from_rows("q", &rows, 15).unwrap();
        assert_eq!(s.days.len(), 3);
        assert!(s.days[1].is_none());
        let d = s.days[0].as_ref().unwrap();
        assert_eq!(d.contacts[36], 4.0);
        assert_eq!(d.contacts[37], 6.0);
        assert_eq!(d.total, 10.0);
        assert!(!d.present[38]);
        assert_eq!(s.days[2].as_ref().unwrap().contacts[95], 1.0);
        let cut = s.before(s.date(2)).unwrap();
        assert_eq!(cut.days.len(), 1, "trailing empty days are trimmed");
    }
}
