//! Staffing: how many agents each queue needs in each interval to meet its service target.
//!
//! Owns the queueing math ([`erlang`]) and the requirements file `requirements.csv`, the hand-off
//! from staffing to scheduling: one row per queue and interval with the forecast load, the agents
//! required before and after shrinkage, and the service expected at that staffing.

pub mod erlang;
pub mod requirements;

use std::io::Write;
use std::path::Path;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

/// One queue in one interval: the load and the agents it needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Requirement {
    pub queue: String,
    /// Interval start, RFC 3339 with the scenario zone's offset.
    pub start: DateTime<FixedOffset>,
    pub interval_minutes: u32,
    pub contacts: f64,
    pub aht_seconds: f64,
    /// Agents on the queue needed to meet the target (Erlang, or deadline work for deferred
    /// queues), before shrinkage.
    pub required_raw: u32,
    /// Agents to schedule: `ceil(required_raw / (1 - shrinkage))`.
    pub required: u32,
    pub service_level: f64,
    pub asa_seconds: f64,
    pub abandon_rate: f64,
    pub occupancy: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum RequirementsError {
    #[error(transparent)]
    File(#[from] crate::csv_rows::CsvRowsError),
    #[error("{file}: no requirement rows")]
    Empty { file: String },
}

/// Reads `requirements.csv`; the first malformed row is an error naming its line.
pub fn read_requirements(path: &Path) -> Result<Vec<Requirement>, RequirementsError> {
    let file = path.display().to_string();
    let rows: Vec<Requirement> = crate::csv_rows::read_rows(path, None)?
        .into_iter()
        .map(|(_, row)| row)
        .collect();
    if rows.is_empty() {
        return Err(RequirementsError::Empty { file });
    }
    Ok(rows)
}

/// Writes `requirements.csv`.
pub fn write_requirements(rows: &[Requirement], out: impl Write) -> std::io::Result<()> {
    crate::csv_rows::write_serialized(rows, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_round_trip() {
        let row = Requirement {
            queue: "zh-hotline".into(),
            start: DateTime::parse_from_rfc3339("2026-11-11T00:15:00+08:00").unwrap(),
            interval_minutes: 15,
            contacts: 120.5,
            aht_seconds: 300.0,
            required_raw: 44,
            required: 52,
            service_level: 0.91,
            asa_seconds: 6.2,
            abandon_rate: 0.01,
            occupancy: 0.76,
        };
        let mut buf = Vec::new();
        write_requirements(std::slice::from_ref(&row), &mut buf).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        std::fs::write(&p, &buf).unwrap();
        assert_eq!(read_requirements(&p).unwrap(), vec![row]);
    }

    #[test]
    fn bad_row_names_its_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.csv");
        std::fs::write(
            &p,
            "queue,start,interval_minutes,contacts,aht_seconds,required_raw,required,service_level,asa_seconds,abandon_rate,occupancy\n\
             q,2026-11-11T00:15:00+08:00,15,1,300,1,1,0.9,1,0,0.5\n\
             q,2026-11-11T00:30:00+08:00,15,1,300,x,1,0.9,1,0,0.5\n",
        )
        .unwrap();
        let err = read_requirements(&p).unwrap_err().to_string();
        assert!(err.contains(":3:"), "{err}");
    }
}
