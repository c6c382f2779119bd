//! `peakcrew validate` on broken copies of the bundled scenario: every error class is reported
//! with its exact line and column, and all errors of a file come out in one run.

use std::path::PathBuf;
use std::process::Command;

fn bundled() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/scenarios/double11.toml"
    ))
    .unwrap()
}

/// Replaces the first occurrence of `from` (which must exist) with `to`.
fn edit(text: &str, from: &str, to: &str) -> String {
    assert!(
        text.contains(from),
        "fixture text `{from}` not in the scenario"
    );
    text.replacen(from, to, 1)
}

/// 1-based line and column of the first occurrence of `needle` (plus `skip` bytes).
fn place(text: &str, needle: &str, skip: usize) -> (usize, usize) {
    let offset = text.find(needle).expect("needle present") + skip;
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = offset - before.rfind('\n').map_or(0, |n| n + 1) + 1;
    (line, col)
}

struct Run {
    code: i32,
    stderr: String,
    stdout: String,
    file: String,
}

fn validate(text: &str, json: bool) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("broken.toml");
    std::fs::write(&path, text).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_peakcrew"));
    cmd.arg("validate").arg(&path);
    if json {
        cmd.arg("--json");
    }
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        file: path.display().to_string(),
    }
}

fn expect_error(text: &str, needle: &str, skip: usize, field: &str, message_part: &str) {
    let run = validate(text, false);
    assert_eq!(run.code, 1, "validate must fail: {}", run.stderr);
    let (line, col) = place(text, needle, skip);
    let prefix = format!("{}:{line}:{col}: {field}: ", run.file);
    let hit = run.stderr.lines().find(|l| l.starts_with(&prefix));
    let Some(hit) = hit else {
        panic!("no error starting `{prefix}` in:\n{}", run.stderr);
    };
    assert!(hit.contains(message_part), "`{hit}` lacks `{message_part}`");
}

#[test]
fn the_bundled_scenario_is_valid() {
    let run = validate(&bundled(), true);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["queues"], 10);
    assert!(v["headcount"].as_u64().unwrap() >= 600);
}

#[test]
fn syntax_error_has_its_place() {
    let text = edit(&bundled(), "days = 7", "days = = 7");
    let run = validate(&text, false);
    assert_eq!(run.code, 1);
    let (line, _) = place(&text, "days = = 7", 0);
    assert!(
        run.stderr.contains(&format!("{}:{line}:", run.file)),
        "{}",
        run.stderr
    );
}

#[test]
fn fraction_out_of_range() {
    let text = edit(
        &bundled(),
        "fraction = 0.90, answer_seconds = 20",
        "fraction = 1.5, answer_seconds = 20",
    );
    expect_error(
        &text,
        "fraction = 1.5",
        0,
        "queues[4].sla.fraction",
        "expected a fraction between 0 and 1, found 1.5",
    );
}

#[test]
fn unknown_key_in_a_queue() {
    let text = edit(
        &bundled(),
        "aht_seconds = 420\n",
        "aht_seconds = 420\npatience = 3\n",
    );
    expect_error(
        &text,
        "patience = 3",
        0,
        "queues[0].patience",
        "unknown key",
    );
}

#[test]
fn unknown_top_level_key() {
    let text = edit(
        &bundled(),
        "interval_minutes = 15\n",
        "interval_minutes = 15\nintervals = 4\n",
    );
    expect_error(&text, "intervals = 4", 0, "intervals", "unknown key");
}

#[test]
fn wrong_type() {
    let text = edit(
        &bundled(),
        "aht_seconds = 300\n",
        "aht_seconds = \"five minutes\"\n",
    );
    expect_error(
        &text,
        "\"five minutes\"",
        0,
        "queues[4].aht_seconds",
        "invalid type",
    );
}

#[test]
fn missing_required_field() {
    let text = edit(&bundled(), "channel = \"phone\"\n", "");
    expect_error(
        &text,
        "[[queues]]\nid = \"zh-hotline\"",
        0,
        "queues[4].channel",
        "missing required field",
    );
}

#[test]
fn unknown_skill_and_language_references() {
    let text = edit(
        &bundled(),
        "skill = \"presales\"\nlanguage = \"zh\"",
        "skill = \"pre-sales\"\nlanguage = \"zh\"",
    );
    expect_error(
        &text,
        "skill = \"pre-sales\"",
        0,
        "queues[0].skill",
        "unknown skill `pre-sales`",
    );
    let text = edit(
        &bundled(),
        "languages = [\"zh\", \"ja\"]",
        "languages = [\"zh\", \"jp\"]",
    );
    expect_error(
        &text,
        "\"jp\"",
        0,
        "groups[6].languages[1]",
        "unknown language `jp`",
    );
}

#[test]
fn event_outside_the_calendar() {
    let text = edit(&bundled(), "date = 2026-06-18", "date = 2027-06-18");
    expect_error(
        &text,
        "date = 2027-06-18",
        0,
        "events[2].date",
        "outside the calendar",
    );
}

#[test]
fn duplicate_ids() {
    let text = edit(
        &bundled(),
        "id = \"zh-aftersales-chat\"",
        "id = \"zh-presales-chat\"",
    );
    let needle = "id = \"zh-presales-chat\"\nname = \"After-sales chat\"";
    expect_error(
        &text,
        needle,
        0,
        "queues[1].id",
        "duplicate id `zh-presales-chat`",
    );
}

#[test]
fn ids_outside_the_rule() {
    // `/` is the core's: a queue's escalation twin is `<queue>/escalated`.
    let text = edit(&bundled(), "id = \"zh-hotline\"", "id = \"zh/hotline\"");
    expect_error(
        &text,
        "id = \"zh/hotline\"",
        0,
        "queues[4].id",
        "expected an id of 1 to 64 characters from A-Z a-z 0-9 - _ . :, found `zh/hotline` with '/' in it",
    );
    let text = edit(&bundled(), "id = \"ja\"", "id = \"日本語\"");
    expect_error(
        &text,
        "id = \"日本語\"",
        0,
        "languages[2].id",
        "with '日' in it",
    );
}

#[test]
fn bad_time_zone_and_break_window() {
    let text = edit(&bundled(), "Asia/Shanghai", "Asia/Beijing");
    expect_error(&text, "time_zone", 0, "time_zone", "IANA time zone");
    let text = edit(
        &bundled(),
        "earliest_after_start_minutes = 180, latest_after_start_minutes = 300",
        "earliest_after_start_minutes = 180, latest_after_start_minutes = 480",
    );
    expect_error(
        &text,
        "latest_after_start_minutes = 480",
        0,
        "shifts.templates[3].breaks[0].latest_after_start_minutes",
        "must end inside",
    );
}

#[test]
fn phone_queue_with_concurrency() {
    let text = edit(
        &bundled(),
        "channel = \"phone\"\n",
        "channel = \"phone\"\nconcurrency = 2\n",
    );
    expect_error(
        &text,
        "concurrency = 2",
        0,
        "queues[4].concurrency",
        "only chat and social",
    );
}

#[test]
fn every_error_is_reported_in_one_run() {
    let mut text = edit(
        &bundled(),
        "fraction = 0.90, answer_seconds = 20",
        "fraction = 1.5, answer_seconds = 20",
    );
    text = edit(
        &text,
        "aht_seconds = 420\n",
        "aht_seconds = 420\npatience = 3\n",
    );
    text = edit(&text, "date = 2026-06-18", "date = 2027-06-18");
    text = edit(&text, "headcount = 90", "headcount = -90");
    let run = validate(&text, true);
    assert_eq!(run.code, 1);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let fields: Vec<&str> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    for want in [
        "queues[0].patience",
        "queues[4].sla.fraction",
        "groups[1].headcount",
        "events[2].date",
    ] {
        assert!(fields.contains(&want), "{want} missing from {fields:?}");
    }
    // File order.
    let lines: Vec<u64> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
}

#[test]
fn unreadable_file_is_a_clear_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_peakcrew"))
        .args(["validate", "/nonexistent/x.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/x.toml: cannot read file"));
}

#[test]
fn unbuilt_stage_says_so_and_fails() {
    let out = Command::new(env!("CARGO_BIN_EXE_peakcrew"))
        .args(["serve", "--check-config"])
        .output()
        .unwrap();
    if out.status.success() {
        return; // the daemon has been built; nothing to check here
    }
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}
