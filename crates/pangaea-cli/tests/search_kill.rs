//! `pangaea search` killed with SIGKILL at random moments and resumed each time reaches the
//! final population of an uninterrupted run (ARCHITECTURE.md, "pangaea-search": the store). Uses the hidden
//! `--fake-fitness` flag (no training) so that the search is fast, with a cheaper rung,
//! re-evaluation and the pre-screen on, so that kills also land while promotions, extra runs and
//! screened plans are made.

use std::process::{Command, Stdio};
use std::time::Instant;

use pangaea_search::Store;

mod common;
use common::summary;

const SEARCH: [&str; 22] = [
    "--fake-fitness",
    "--seed",
    "3",
    "--population-size",
    "16",
    "--children",
    "8",
    "--versions",
    "3",
    "--generations",
    "40",
    "--workers=3",
    "--reevaluate-top",
    "3",
    "--reevaluate-runs",
    "2",
    "--screen-skip",
    "0.25",
    "--rung",
    "dataset.limit_train=1000",
    "--promote-fraction",
    "0.5",
];

fn pangaea() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pangaea"));
    c.stdout(Stdio::null()).stderr(Stdio::null());
    c
}

/// A small xorshift generator: the kill moments are random, and the seed is printed.
struct XorShift(u64);

impl XorShift {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[test]
fn killed_and_resumed_searches_reach_the_uninterrupted_population() {
    let dir = tempfile::tempdir().unwrap();
    let reference = dir.path().join("reference.db");
    // The time the binary takes to start (long when it loads libtorch): kills are timed after
    // it, or a kill could never land after the store exists.
    let start = Instant::now();
    assert!(pangaea().arg("--version").status().unwrap().success());
    let startup = start.elapsed();
    let start = Instant::now();
    let status = pangaea()
        .arg("search")
        .arg("--store")
        .arg(&reference)
        .args(SEARCH)
        .status()
        .unwrap();
    assert!(status.success());
    let full = start.elapsed();
    let expected = summary(&reference);
    assert_eq!(expected.population.len(), 16);

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("kill moments seed: {seed}; uninterrupted run: {full:?}, start-up {startup:?}");
    let mut rng = XorShift(seed);
    // Kill at random moments, resuming each time, until the search completes; repeat with a
    // fresh store until at least 5 kills have landed in total. Every store must end equal to
    // the uninterrupted one.
    let mut kills = 0;
    let mut stores = 0;
    let mut path = dir.path().join("run0.db");
    while kills < 5 {
        assert!(
            stores < 20,
            "only {kills} kills landed in {stores} searches"
        );
        path = dir.path().join(format!("run{stores}.db"));
        stores += 1;
        loop {
            let mut command = pangaea();
            command.arg("search");
            if path.exists() {
                command.arg("--resume").arg(&path).arg("--workers=2");
            } else {
                command.arg("--store").arg(&path).args(SEARCH);
            }
            let mut child = command.spawn().unwrap();
            let work = full.saturating_sub(startup);
            std::thread::sleep(startup + work.mul_f64(0.02 + 0.3 * rng.next_f64()));
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
                kills += 1;
            } else {
                let status = child.wait().unwrap();
                assert!(status.success(), "{status}");
                break;
            }
        }
        assert_eq!(
            summary(&path),
            expected,
            "after {kills} kills (seed {seed})"
        );
    }
    let store = Store::open_read_only(&path).unwrap();
    assert!(store.evaluations().unwrap().iter().all(|e| e.is_finished()));
    // The event log sits next to the store and records the resumes.
    let log = std::fs::read_to_string(path.with_extension("events.jsonl")).unwrap();
    let resumed = log
        .lines()
        .filter(|l| l.contains("\"search_started\"") && l.contains("\"resumed\":true"))
        .count();
    assert!(resumed >= 1, "{resumed}");
}
