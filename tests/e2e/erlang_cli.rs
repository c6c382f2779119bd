//! `peakcrew erlang` through the real binary, against published reference values
//! (../shared/reference/README.md: pyworkforce and Callcenter-Simulator vectors).

use std::process::Command;

fn erlang(args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_peakcrew"))
        .arg("--json")
        .arg("erlang")
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out.status.code().unwrap_or(-1), json, stderr)
}

fn close(v: &serde_json::Value, key: &str, want: f64, tol: f64) {
    let got = v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"));
    assert!((got - want).abs() <= tol, "{key}: {got} vs {want}");
}

#[test]
fn erlang_c_sizing_and_reverse() {
    let base = [
        "--rate-per-hour",
        "200",
        "--aht-seconds",
        "180",
        "--answer-seconds",
        "20",
    ];
    let (code, v, err) =
        erlang(&[&base[..], &["--target", "0.8", "--max-occupancy", "0.85"]].concat());
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["agents"], 14);
    close(&v, "service_level", 0.88835, 5e-5);
    close(&v, "p_wait", 0.17413, 5e-5);
    close(&v, "occupancy", 0.71429, 5e-5);
    close(&v, "asa_seconds", 7.836, 5e-4);
    assert_eq!(v["p_abandon"], 0.0);

    // The published 0.7949 for 13 agents is at 0.33 min = 19.8 s (pyworkforce's test passes
    // minutes); at exactly 20 s the textbook formula gives 0.795595.
    let (_, v, _) = erlang(&[
        "--rate-per-hour",
        "200",
        "--aht-seconds",
        "180",
        "--answer-seconds",
        "19.8",
        "--agents",
        "13",
    ]);
    close(&v, "service_level", 0.7949, 5e-5);
    let (_, v, _) = erlang(&[&base[..], &["--agents", "13"]].concat());
    close(&v, "service_level", 0.795595, 5e-7);

    let (_, v, _) = erlang(&[
        "--rate-per-hour",
        "210",
        "--aht-seconds",
        "180",
        "--answer-seconds",
        "20",
        "--agents",
        "13",
    ]);
    close(&v, "asa_seconds", 26.56, 5e-3);
    close(&v, "p_wait", 0.3688, 5e-5);
}

#[test]
fn erlang_a_with_patience() {
    let (code, v, err) = erlang(&[
        "--rate-per-hour",
        "200",
        "--aht-seconds",
        "180",
        "--answer-seconds",
        "20",
        "--agents",
        "14",
        "--patience-seconds",
        "300",
    ]);
    assert_eq!(code, 0, "{err}");
    close(&v, "p_wait", 0.14526, 5e-6);
    close(&v, "p_abandon", 0.013984, 5e-7);
    close(&v, "occupancy", 0.704297, 5e-7);
    // The published 4.1951 s is the mean wait of all arrivals (θ·P(abandon)); ASA counts the
    // answered ones only (checked against a second formulation in the erlang unit tests and
    // against the simulator in sim_validation).
    close(&v, "mean_wait_seconds", 4.1951, 5e-5);
    close(&v, "asa_seconds", 3.87848, 5e-5);
    close(&v, "service_level", 0.916792, 5e-7);
}

#[test]
fn bad_input_is_named() {
    let (code, _, err) = erlang(&[
        "--rate-per-hour",
        "200",
        "--aht-seconds",
        "0",
        "--answer-seconds",
        "20",
        "--target",
        "0.8",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("aht_seconds"), "{err}");
    let (code, _, err) = erlang(&[
        "--rate-per-hour",
        "200",
        "--aht-seconds",
        "180",
        "--answer-seconds",
        "20",
        "--target",
        "1.5",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("1.5"), "{err}");
    let (code, _, err) = erlang(&[
        "--rate-per-hour",
        "200",
        "--aht-seconds",
        "180",
        "--answer-seconds",
        "-3",
        "--target",
        "0.8",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("answer_seconds"), "{err}");
    assert!(!err.contains("panicked"));
}
