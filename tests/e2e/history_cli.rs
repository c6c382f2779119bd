//! `peakcrew history generate|import` through the real binary.

use std::path::Path;
use std::process::{Command, Output};

fn peakcrew() -> Command {
    Command::new(env!("CARGO_BIN_EXE_peakcrew"))
}

/// `peakcrew history import --interval 15m EXTRA... INPUT OUTPUT`.
fn import(input: &Path, output: &Path, extra: &[&str]) -> Output {
    peakcrew()
        .args(["history", "import", "--interval", "15m"])
        .args(extra)
        .arg(input)
        .arg(output)
        .output()
        .unwrap()
}

/// Asserts the run succeeded, showing its stderr if not.
#[track_caller]
fn succeeded(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/double11.toml");

#[test]
fn generator_is_deterministic_and_realistic() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.csv");
    let c = dir.path().join("c.csv");
    for (path, seed) in [(&a, "7"), (&b, "7"), (&c, "8")] {
        let out = peakcrew()
            .args([
                "history",
                "generate",
                "--scenario",
                SCENARIO,
                "--weeks",
                "3",
                "--seed",
                seed,
                "--out",
            ])
            .arg(path)
            .output()
            .unwrap();
        succeeded(&out);
    }
    let (a, b, c) = (
        std::fs::read(&a).unwrap(),
        std::fs::read(&b).unwrap(),
        std::fs::read(&c).unwrap(),
    );
    assert_eq!(a, b, "same seed, same bytes");
    assert_ne!(a, c, "another seed, other draws");

    // 3 weeks x 7 days x 96 intervals x 10 queues, plus the header.
    let text = String::from_utf8(a).unwrap();
    assert_eq!(text.lines().count(), 3 * 7 * 96 * 10 + 1);
    // The evening peak of a chat queue is well above its small hours.
    let hour_total = |hour: &str| -> f64 {
        text.lines()
            .filter(|l| l.contains(&format!("T{hour}:")) && l.contains(",zh-returns-chat,"))
            .map(|l| l.split(',').nth(2).unwrap().parse::<f64>().unwrap())
            .sum()
    };
    assert!(
        hour_total("21") > 5.0 * hour_total("04"),
        "evening {} vs night {}",
        hour_total("21"),
        hour_total("04")
    );
}

#[test]
fn import_aggregates_and_reports_problems_with_lines() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.csv");
    let output = dir.path().join("out.csv");
    std::fs::write(
        &input,
        "start,queue,contacts\n\
         2026-11-11T09:00:00+08:00,q,1\n\
         2026-11-11T09:05:00+08:00,q,2\n\
         2026-11-11T09:10:00+08:00,q,3\n\
         2026-11-11T09:10:00+08:00,q,3\n\
         2026-11-11T09:15:00+08:00,q,oops\n\
         2026-11-11T09:20:00+08:00,q,4\n",
    )
    .unwrap();
    // Malformed rows: refused by default, nothing written.
    let out = import(&input, &output, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line 6: contacts: expected a number, found `oops`"),
        "{err}"
    );
    assert!(!output.exists());

    let out = import(&input, &output, &["--skip-bad-rows", "--json"]);
    succeeded(&out);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["duplicates"][0]["line"], 5);
    assert_eq!(report["malformed"][0]["line"], 6);
    assert_eq!(report["source_interval_minutes"]["q"], 5);
    let written = std::fs::read_to_string(&output).unwrap();
    assert_eq!(
        written,
        "start,queue,contacts\n2026-11-11T09:00:00+08:00,q,6\n2026-11-11T09:15:00+08:00,q,4\n"
    );
}

#[test]
fn import_of_the_real_bank_data() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/reference/bank_calls_5min.csv"
    );
    if !Path::new(path).exists() {
        eprintln!("skipping: ../shared/reference is absent");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("bank15.csv");
    let out = import(Path::new(path), &output, &["--json"]);
    succeeded(&out);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["rows_read"], 27716);
    // 07:00-21:05 is 57 fifteen-minute intervals a day (the last one partial), 164 days.
    assert_eq!(report["rows_written"], 164 * 57);
    let missing: Vec<&str> = report["missing_days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    for day in [
        "2003-04-04",
        "2003-04-07",
        "2003-05-26",
        "2003-07-04",
        "2003-09-01",
        "2003-10-14",
    ] {
        assert!(
            missing.contains(&format!("bank {day}").as_str()),
            "{day} not reported in {missing:?}"
        );
    }
}

#[test]
fn import_of_a_spreadsheet_export_with_bom_crlf_and_quotes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("export.csv");
    let output = dir.path().join("out.csv");
    // As Excel saves "CSV UTF-8": a byte-order mark, CRLF, every field quoted, and a count
    // formatted with a thousands separator on line 5.
    std::fs::write(
        &input,
        "\u{feff}\"start\",\"queue\",\"contacts\",\"aht_seconds\"\r\n\
         \"2026-11-01T00:00:00+08:00\",\"zh-chat\",\"10\",\"300\"\r\n\
         \"2026-11-01T00:05:00+08:00\",\"zh-chat\",\"20\",\"360\"\r\n\
         \"2026-11-01T00:10:00+08:00\",\"zh-chat\",\"30\",\"\"\r\n\
         \"2026-11-01T00:15:00+08:00\",\"zh-chat\",\"1,204\",\"300\"\r\n\
         \"2026-11-01T00:20:00+08:00\",\"zh-chat\",\"4\",\"240\"\r\n\
         \r\n\
         \"2026-11-01T00:00:00+08:00\",\"en, vip\",\"2\",\"600\"\r\n\
         \"2026-11-01T00:05:00+08:00\",\"en, vip\",\"3\",\"600\"\r\n",
    )
    .unwrap();
    let out = import(&input, &output, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "1 malformed row(s) skipped:\n  line 5: contacts: expected a number, found `1,204` \
             (write numbers without thousands separators)"
        ),
        "{err}"
    );
    assert!(
        err.contains("export.csv: 1 malformed row(s), nothing written"),
        "{err}"
    );
    assert!(!output.exists());

    let out = import(&input, &output, &["--skip-bad-rows", "--json"]);
    succeeded(&out);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["rows_read"], 7);
    assert_eq!(report["rows_written"], 3);
    assert_eq!(report["malformed"].as_array().unwrap().len(), 1);
    assert_eq!(report["malformed"][0]["line"], 5);
    assert_eq!(report["source_interval_minutes"]["zh-chat"], 5);
    assert_eq!(report["source_interval_minutes"]["en, vip"], 5);
    assert!(report["duplicates"].as_array().unwrap().is_empty());
    // 00:00 sums 10 + 20 + 30 contacts, handle time weighted over the 30 that have one
    // ((10·300 + 20·360) / 30 = 340); 00:15 keeps the row after the refused one.
    let written = std::fs::read_to_string(&output).unwrap();
    assert_eq!(
        written,
        "start,queue,contacts,aht_seconds\n\
         2026-11-01T00:00:00+08:00,\"en, vip\",5,600.0\n\
         2026-11-01T00:00:00+08:00,zh-chat,60,340.0\n\
         2026-11-01T00:15:00+08:00,zh-chat,4,240.0\n"
    );

    // The written file reads back as it was: the quoted queue id keeps its comma.
    let again = dir.path().join("again.csv");
    succeeded(&import(&output, &again, &[]));
    assert_eq!(std::fs::read_to_string(&again).unwrap(), written);
}
