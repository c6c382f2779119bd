//! report.html in a real browser: renders a realistic sample report, loads it in headless
//! Chromium (Debian's `chromium` package), and checks that the charts render, the roster script
//! pages and filters, and the page logs no console error. Saves a screenshot and the page under
//! target/report-artifacts/ for a person to look at.
//!
//! Skips, with a printed message, only when /usr/bin/chromium is absent.

use std::path::{Path, PathBuf};
use std::process::Command;

use peakcrew_plan::report;

use peakcrew_plan::report::sample;

const CHROMIUM: &str = "/usr/bin/chromium";

/// Whether to run: skips (with a message) without Chromium, except in CI, which asks for the
/// browser tests with PEAKCREW_BROWSER_TESTS=1 and must not pass by skipping them.
fn chromium_available() -> bool {
    if Path::new(CHROMIUM).exists() {
        return true;
    }
    assert!(
        std::env::var("PEAKCREW_BROWSER_TESTS").as_deref() != Ok("1"),
        "PEAKCREW_BROWSER_TESTS=1 but {CHROMIUM} is not installed (scripts/install-deps installs it)"
    );
    println!("skipping the browser test: {CHROMIUM} is not installed (apt-get install chromium)");
    false
}

/// Drives the roster controls like a person would and reports what the page shows, as JSON in
/// `<pre id="probe">`.
const PROBE: &str = r#"
(function () {
  var out = { pageHeight: document.documentElement.scrollHeight };
  var visible = function () {
    return Array.prototype.filter.call(document.querySelectorAll('.gr'), function (r) { return !r.hidden; }).length;
  };
  var info = function () { return document.getElementById('gantt-info').textContent; };
  var view = document.getElementById('gantt-view');
  view.selectedIndex = 4;
  view.dispatchEvent(new Event('change'));
  out.dayOption = view.value;
  out.rowViewBox = document.querySelector('.gr svg.gt').getAttribute('viewBox');
  out.axesShown = Array.prototype.map.call(document.querySelectorAll('.gantt-axis > div'), function (d) { return !d.hidden; });
  document.getElementById('gantt-next').click();
  out.afterNext = info();
  var filter = document.getElementById('gantt-filter');
  filter.value = 'NIGHT';
  filter.dispatchEvent(new Event('input'));
  out.afterFilter = info();
  out.visibleAfterFilter = visible();
  filter.value = 'no such agent anywhere';
  filter.dispatchEvent(new Event('input'));
  out.visibleAfterNoMatch = visible();
  out.emptyShown = !document.getElementById('gantt-empty').hidden;
  out.narrowestChart = Math.min.apply(null, Array.prototype.map.call(document.querySelectorAll('svg.chart'), function (s) { return s.getBoundingClientRect().width; }));
  var lines = document.querySelectorAll('path.mean, path.sched, path.sl');
  out.lines = lines.length;
  out.emptyLines = Array.prototype.filter.call(lines, function (p) { return !(p.getTotalLength() > 0); }).length;
  var pre = document.createElement('pre');
  pre.id = 'probe';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
"#;

/// What one browser run gave: the page's DOM after its scripts ran (when dumped), and the
/// console messages the page logged.
struct BrowserRun {
    dom: String,
    console: Vec<String>,
}

fn chromium(profile: &Path, url: &str, extra: &[&str]) -> BrowserRun {
    let output = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("chromium runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "chromium failed ({}): {stderr}",
        output.status
    );
    // Console lines look like `[..:INFO:CONSOLE:1] "message", source: file:///... (1)`.
    let console = stderr
        .lines()
        .filter(|l| l.contains(":CONSOLE") || l.contains("Uncaught"))
        .map(str::to_string)
        .collect();
    BrowserRun {
        dom: String::from_utf8_lossy(&output.stdout).into_owned(),
        console,
    }
}

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/report-artifacts");
    std::fs::create_dir_all(&dir).expect("artifact directory");
    dir
}

/// Roster rows in a dumped DOM: how many, and the positions of those not hidden.
fn roster_rows(dom: &str) -> (usize, Vec<usize>) {
    let rows: Vec<&str> = dom.split(r#"<div class="gr" "#).skip(1).collect();
    let visible = rows
        .iter()
        .enumerate()
        .filter(|(_, r)| !r[..r.find('>').unwrap_or(r.len())].contains("hidden"))
        .map(|(i, _)| i)
        .collect();
    (rows.len(), visible)
}

/// `text` for a URL fragment: every byte outside A–Z, a–z, 0–9 percent-encoded.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn text_of<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom
        .find(&format!(r#"id="{id}">"#))
        .unwrap_or_else(|| panic!("#{id} in the DOM"))
        + id.len()
        + 6;
    &dom[start..start + dom[start..].find('<').unwrap_or(0)]
}

#[test]
fn report_renders_pages_and_filters_in_headless_chromium() {
    if !chromium_available() {
        return;
    }
    let input = sample::sample_input(sample::SampleSize::realistic(), 7);
    let html = report::render_html(&input);
    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("report.html");
    std::fs::write(&page, &html).expect("write report.html");
    std::fs::write(artifacts().join("report.html"), &html).expect("write artifact");
    let url = format!("file://{}", page.display());

    // 1. The DOM after the scripts ran: every chart is there and the roster shows page 1.
    let run = chromium(&dir.path().join("profile-dom"), &url, &["--dump-dom"]);
    assert!(
        run.console.is_empty(),
        "console messages: {:#?}",
        run.console
    );
    let svgs = run.dom.matches("<svg").count();
    assert_eq!(
        svgs,
        html.matches("<svg").count(),
        "every SVG survives parsing"
    );
    let queues = input.coverage.len();
    assert!(svgs >= 3 * queues + input.roster.len());
    assert_eq!(
        run.dom.matches(r#"<figure class="chart">"#).count(),
        3 * queues
    );
    let (rows, visible) = roster_rows(&run.dom);
    assert_eq!(rows, input.roster.len());
    assert_eq!(visible.len(), 50, "the script shows one page of 50 rows");
    assert_eq!(
        text_of(&run.dom, "gantt-info"),
        format!("Page 1 of 4 · agents 1–50 of {}", input.roster.len())
    );
    assert!(
        !run.dom.contains(r#"<div class="gantt-controls" hidden"#),
        "the script reveals the roster controls"
    );

    // 2. A link to #roster:TEXT opens the roster filtered: every word must match.
    let agent = &input.roster[37];
    let query = format!("{} {}", agent.agent, agent.shifts[0].skill);
    let filtered = chromium(
        &dir.path().join("profile-filter"),
        &format!("{url}#roster:{}", percent_encode(&query)),
        &["--dump-dom"],
    );
    assert!(filtered.console.is_empty(), "{:#?}", filtered.console);
    let (_, visible) = roster_rows(&filtered.dom);
    assert_eq!(visible, vec![37], "only {query:?} matches");
    assert!(text_of(&filtered.dom, "gantt-info")
        .starts_with("Page 1 of 1 · agents 1–1 of 1 (filtered from"));

    // 3. What a person does: pick a day, page forward, type a filter. A probe script appended
    //    after the report's own drives the controls and writes what the page then shows.
    let probed = dir.path().join("probed.html");
    std::fs::write(
        &probed,
        html.replace("</body>", &format!("<script>{PROBE}</script></body>")),
    )
    .expect("write probed page");
    let run = chromium(
        &dir.path().join("profile-probe"),
        &format!("file://{}", probed.display()),
        &["--dump-dom", "--window-size=1400,4000"],
    );
    assert!(run.console.is_empty(), "{:#?}", run.console);
    let probe = text_of(&run.dom, "probe");
    let probe: serde_json::Value = serde_json::from_str(probe).expect("probe JSON");
    let day_view = probe["dayOption"].as_str().unwrap();
    assert_eq!(
        probe["rowViewBox"].as_str().unwrap(),
        format!(
            "{} 0 {} 16",
            day_view.split(' ').next().unwrap(),
            day_view.split(' ').nth(1).unwrap()
        )
    );
    let axes_shown: Vec<bool> = serde_json::from_value(probe["axesShown"].clone()).unwrap();
    assert_eq!(axes_shown.iter().filter(|s| **s).count(), 1);
    assert!(axes_shown[4], "the chosen day's axis is the one shown");
    assert_eq!(probe["afterNext"], "Page 2 of 4 · agents 51–100 of 180");
    let night = input
        .roster
        .iter()
        .filter(|r| r.group.to_lowercase().contains("night"))
        .count();
    assert_eq!(probe["visibleAfterFilter"], night);
    assert_eq!(
        probe["afterFilter"],
        format!("Page 1 of 1 · agents 1–{night} of {night} (filtered from 180)")
    );
    assert_eq!(probe["visibleAfterNoMatch"], 0);
    assert_eq!(probe["emptyShown"], true);
    // Every chart got laid out at a readable size, and its lines have length.
    assert!(probe["narrowestChart"].as_f64().unwrap() > 500.0, "{probe}");
    assert_eq!(probe["emptyLines"], 0, "{probe}");
    assert_eq!(probe["lines"], 3 * queues as u64, "{probe}");

    // 4. A screenshot of the whole report for a person to look at: as tall as the page was
    //    at this width (the probe measured it, with the roster on one page of 50).
    let height = probe["pageHeight"]
        .as_u64()
        .unwrap_or(4000)
        .clamp(4000, 16_000);
    let shot = artifacts().join("report.png");
    let _ = std::fs::remove_file(&shot);
    let screenshot = chromium(
        &dir.path().join("profile-shot"),
        &url,
        &[
            &format!("--screenshot={}", shot.display()),
            &format!("--window-size=1400,{height}"),
            "--hide-scrollbars",
        ],
    );
    assert!(screenshot.console.is_empty(), "{:#?}", screenshot.console);
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    assert!(
        png.len() > 100_000,
        "a screenshot with content: {} bytes",
        png.len()
    );
    println!("screenshot: {}", shot.display());
}

/// The console check above would pass vacuously if Chromium stopped logging console messages;
/// this page with a broken script proves it still catches them.
#[test]
fn console_errors_are_caught() {
    if !chromium_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let page = dir.path().join("broken.html");
    std::fs::write(
        &page,
        "<!DOCTYPE html><html><body><script>notDefinedAnywhere();</script></body></html>",
    )
    .expect("write page");
    let run = chromium(
        &dir.path().join("profile"),
        &format!("file://{}", page.display()),
        &["--dump-dom"],
    );
    assert!(
        run.console
            .iter()
            .any(|l| l.contains("Uncaught ReferenceError")),
        "{:#?}",
        run.console
    );
}

/// The report `peakcrew plan` writes (not a sample): a small scenario planned end to end, the
/// page loaded in Chromium with no console message, every SVG surviving, every section with its
/// charts (the simulated service level included), and a screenshot kept as an artifact.
#[test]
fn the_plan_commands_report_renders_in_headless_chromium() {
    if !chromium_available() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let scenario = dir.path().join("small.toml");
    std::fs::write(&scenario, crate::common::SMALL_PLAN).expect("write scenario");
    let out_dir = dir.path().join("out");
    let out = crate::common::peakcrew(&[
        "plan",
        scenario.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--quiet",
        "--replications",
        "2",
    ]);
    assert!(
        out.status.success(),
        "plan failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = out_dir.join("report.html");
    let html = std::fs::read_to_string(&page).expect("report.html");
    std::fs::write(artifacts().join("plan-report.html"), &html).expect("write artifact");
    let url = format!("file://{}", page.display());

    let run = chromium(&dir.path().join("profile-dom"), &url, &["--dump-dom"]);
    assert!(
        run.console.is_empty(),
        "console messages: {:#?}",
        run.console
    );
    let svgs = run.dom.matches("<svg").count();
    assert_eq!(
        svgs,
        html.matches("<svg").count(),
        "every SVG survives parsing"
    );
    for section in [
        "kpis", "warnings", "forecast", "coverage", "service", "roster",
    ] {
        assert!(
            run.dom.contains(&format!(r#"<section id="{section}">"#)),
            "section {section} missing"
        );
    }
    // Two queues: forecast, coverage and service charts for each, all with drawn lines.
    assert_eq!(run.dom.matches(r#"<figure class="chart">"#).count(), 3 * 2);
    assert!(!run.dom.contains("No simulation data"));
    let (rows, visible) = roster_rows(&run.dom);
    assert!(rows > 0 && !visible.is_empty(), "the roster shows agents");

    let shot = artifacts().join("plan-report.png");
    let _ = std::fs::remove_file(&shot);
    let screenshot = chromium(
        &dir.path().join("profile-shot"),
        &url,
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1400,5000",
            "--hide-scrollbars",
        ],
    );
    assert!(screenshot.console.is_empty(), "{:#?}", screenshot.console);
    let png = std::fs::read(&shot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 100_000,
        "{} bytes",
        png.len()
    );
    println!("screenshot: {}", shot.display());
}
