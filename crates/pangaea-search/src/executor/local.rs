//! [`LocalExecutor`]: `pangaea worker` child processes on this machine.
//!
//! N worker threads take jobs from a bounded queue; each writes the request file, runs
//! `PROGRAM worker --request R --result O` with its stderr in a file, and waits with a time
//! limit. Over the limit, the child is killed and the evaluation is `failed` with reason
//! "time limit". A child that exits without a readable result (a crash) is retried once; the
//! second failure is `failed` with the tail of its stderr. On Linux the children die with their
//! worker thread (`PR_SET_PDEATHSIG`), so a coordinator killed with SIGKILL leaves no orphans.
//! Each child runs in a process group of its own, so a Ctrl-C at the terminal reaches only the
//! coordinator, which decides (through its [`CancelToken`](super::CancelToken)) to stop them:
//! a worker killed by the terminal's SIGINT would otherwise look like a crash. Each child gets
//! its share of the cores (`PANGAEA_THREADS`, `RAYON_NUM_THREADS`: cores / workers), so N
//! workers do not each start a thread per core.

use pangaea_wire::JsonFile;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pangaea_wire::{EvalResult, Status};

use super::{tail, Executor, Job, Outcome, TAIL_BYTES};
use crate::error::SearchError;

/// Runs evaluations as `pangaea worker` child processes.
pub struct LocalExecutor {
    workers: usize,
    jobs: Option<SyncSender<Job>>,
    outcomes: Receiver<Outcome>,
    cancel: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for LocalExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalExecutor")
            .field("workers", &self.workers)
            .finish()
    }
}

#[derive(Clone)]
struct WorkerSetup {
    program: PathBuf,
    work_dir: PathBuf,
    time_limit: Duration,
    cancel: Arc<AtomicBool>,
    /// CPU threads each worker's training may use: its share of the machine's cores.
    threads: usize,
}

impl LocalExecutor {
    /// Starts `workers` worker threads running `program` (the `pangaea` binary: the CLI passes
    /// `std::env::current_exe()`), with request/result files under `work_dir` (created).
    pub fn new(
        program: &Path,
        workers: usize,
        time_limit: Duration,
        work_dir: &Path,
    ) -> Result<LocalExecutor, SearchError> {
        if workers == 0 {
            return Err(SearchError::Executor(
                "the local executor needs at least one worker".to_owned(),
            ));
        }
        std::fs::create_dir_all(work_dir).map_err(|source| SearchError::Io {
            path: work_dir.to_owned(),
            doing: "create the work directory",
            source,
        })?;
        let (job_tx, job_rx) = mpsc::sync_channel::<Job>(workers);
        let job_rx = Arc::new(Mutex::new(job_rx));
        let (out_tx, out_rx) = mpsc::channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let setup = WorkerSetup {
            program: program.to_owned(),
            work_dir: work_dir.to_owned(),
            time_limit,
            cancel: cancel.clone(),
            threads: (cores / workers).max(1),
        };
        let threads = (0..workers)
            .map(|_| {
                let job_rx = job_rx.clone();
                let out_tx = out_tx.clone();
                let setup = setup.clone();
                std::thread::spawn(move || loop {
                    let job = match job_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = job else { return };
                    if setup.cancel.load(Ordering::SeqCst) {
                        continue;
                    }
                    if let Some(outcome) = run_job(&setup, job) {
                        if out_tx.send(outcome).is_err() {
                            return;
                        }
                    }
                })
            })
            .collect();
        Ok(LocalExecutor {
            workers,
            jobs: Some(job_tx),
            outcomes: out_rx,
            cancel,
            threads,
        })
    }
}

impl Executor for LocalExecutor {
    fn capacity(&self) -> usize {
        2 * self.workers
    }

    fn submit(&mut self, job: Job) -> Result<(), SearchError> {
        let sender = self
            .jobs
            .as_ref()
            .ok_or_else(|| SearchError::Executor("the local executor was stopped".to_owned()))?;
        sender
            .send(job)
            .map_err(|_| SearchError::Executor("every local worker thread has stopped".to_owned()))
    }

    fn collect(&mut self, timeout: Duration) -> Result<Vec<Outcome>, SearchError> {
        let mut out = Vec::new();
        match self.outcomes.recv_timeout(timeout) {
            Ok(o) => out.push(o),
            Err(RecvTimeoutError::Timeout) => return Ok(out),
            Err(RecvTimeoutError::Disconnected) => {
                return Err(SearchError::Executor(
                    "every local worker thread has stopped".to_owned(),
                ))
            }
        }
        out.extend(self.outcomes.try_iter());
        Ok(out)
    }

    fn abandon(&mut self) {
        self.stop();
    }
}

impl LocalExecutor {
    fn stop(&mut self) {
        self.cancel.store(true, Ordering::SeqCst);
        self.jobs = None;
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for LocalExecutor {
    fn drop(&mut self) {
        self.stop();
    }
}

enum Attempt {
    Done(Box<EvalResult>),
    Crashed(String),
    TimeLimit,
    Cancelled,
}

/// Runs one job with one retry after a crash; `None` when cancelled.
fn run_job(setup: &WorkerSetup, job: Job) -> Option<Outcome> {
    let start = Instant::now();
    let mut attempts = 0;
    let result = loop {
        attempts += 1;
        match attempt(setup, &job) {
            Attempt::Done(result) => break *result,
            Attempt::Cancelled => return None,
            Attempt::TimeLimit => {
                break EvalResult::not_run(
                    job.request.label.clone(),
                    &job.request.activation,
                    Status::Failed,
                    format!(
                        "time limit ({} s) exceeded; the worker was killed",
                        setup.time_limit.as_secs_f64()
                    ),
                )
            }
            Attempt::Crashed(last_crash) => {
                if attempts >= 2 {
                    break EvalResult::not_run(
                        job.request.label.clone(),
                        &job.request.activation,
                        Status::Failed,
                        format!("worker crashed twice; last: {last_crash}"),
                    );
                }
            }
        }
    };
    Some(Outcome {
        id: job.id,
        result,
        wall_seconds: start.elapsed().as_secs_f64(),
        attempts,
    })
}

fn attempt(setup: &WorkerSetup, job: &Job) -> Attempt {
    let stem = setup.work_dir.join(format!("eval-{}", job.id));
    let request_path = stem.with_extension("request.json");
    let result_path = stem.with_extension("result.json");
    let stderr_path = stem.with_extension("stderr.txt");
    let _ = std::fs::remove_file(&result_path);
    if let Err(e) = job.request.write(&request_path) {
        return Attempt::Crashed(format!("could not write the request: {e}"));
    }
    let stderr = match std::fs::File::create(&stderr_path) {
        Ok(f) => f,
        Err(e) => {
            return Attempt::Crashed(format!("could not create `{}`: {e}", stderr_path.display()))
        }
    };
    let mut command = Command::new(&setup.program);
    command
        .arg("worker")
        .arg("--request")
        .arg(&request_path)
        .arg("--result")
        .arg(&result_path)
        .env("PANGAEA_THREADS", setup.threads.to_string())
        .env("RAYON_NUM_THREADS", setup.threads.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr);
    die_with_parent(&mut command);
    let mut child = match command.spawn() {
        Ok(c) => c,
        Err(e) => {
            return Attempt::Crashed(format!(
                "could not start `{}`: {e}",
                setup.program.display()
            ))
        }
    };
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => {
                kill(&mut child);
                return Attempt::Crashed(format!("could not wait for the worker: {e}"));
            }
        }
        if setup.cancel.load(Ordering::SeqCst) {
            kill(&mut child);
            return Attempt::Cancelled;
        }
        if started.elapsed() > setup.time_limit {
            kill(&mut child);
            cleanup(&[&request_path, &result_path, &stderr_path]);
            return Attempt::TimeLimit;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let outcome = match (status.success(), EvalResult::read(&result_path)) {
        (true, Ok(result)) => Attempt::Done(Box::new(result)),
        // Killed while the search was being stopped: not a crash of the evaluation.
        _ if setup.cancel.load(Ordering::SeqCst) => Attempt::Cancelled,
        (_, read) => {
            let tail = tail(&stderr_path, TAIL_BYTES);
            let why = match read {
                Ok(_) => format!("worker exited with {status}"),
                Err(e) => format!("worker exited with {status} and no readable result ({e})"),
            };
            Attempt::Crashed(format!("{why}; stderr tail: {tail}"))
        }
    };
    cleanup(&[&request_path, &result_path, &stderr_path]);
    outcome
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

fn cleanup(paths: &[&Path]) {
    for p in paths {
        let _ = std::fs::remove_file(p);
    }
}

/// Makes the child die with its worker thread (Linux), and puts it in a process group of its
/// own (Unix) so that the terminal's Ctrl-C does not reach it.
#[cfg(unix)]
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    command.process_group(0);
    #[cfg(target_os = "linux")]
    // SAFETY: prctl is async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

#[cfg(not(unix))]
fn die_with_parent(_command: &mut Command) {}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use crate::executor::{BatchEnd, CancelToken, CollectOutcomes};
    use pangaea_wire::EvalRequest;
    use std::os::unix::fs::PermissionsExt;

    /// A fake `pangaea` written as a shell script: behaves according to the activation text.
    fn fake_program(dir: &Path) -> PathBuf {
        let path = dir.join("fake-pangaea");
        let ok = EvalResult::not_run(None, "tanh(x)", Status::Ok, String::new()).to_json();
        let script = format!(
            "#!/bin/sh\n\
             # args: worker --request R --result O\n\
             req=\"$3\"; out=\"$5\"\n\
             if grep -q sleep \"$req\"; then sleep 30; fi\n\
             if grep -q crash \"$req\"; then echo \"boom: crashed on purpose\" >&2; exit 101; fi\n\
             cat > \"$out\" <<'JSON'\n{ok}\nJSON\n"
        );
        std::fs::write(&path, script).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn job(id: i64, activation: &str) -> Job {
        Job {
            id,
            request: EvalRequest {
                activation: activation.to_owned(),
                ..EvalRequest::default()
            },
        }
    }

    #[test]
    fn time_limit_crash_retry_and_success() {
        let dir = tempfile::tempdir().unwrap();
        let program = fake_program(dir.path());
        let mut ex = LocalExecutor::new(
            &program,
            2,
            Duration::from_millis(700),
            &dir.path().join("w"),
        )
        .unwrap();
        let mut observer = CollectOutcomes::default();
        let end = ex
            .run_batch(
                vec![job(1, "tanh(x)"), job(2, "sleep(x)"), job(3, "crash(x)")],
                &mut observer,
                &CancelToken::new(),
            )
            .unwrap();
        assert_eq!(end, BatchEnd::Completed);
        let mut got = observer.0;
        got.sort_by_key(|o| o.id);
        assert_eq!(got[0].result.status, Status::Ok);
        assert_eq!(got[0].attempts, 1);
        assert_eq!(got[1].result.status, Status::Failed);
        assert!(got[1]
            .result
            .reason
            .as_deref()
            .unwrap()
            .contains("time limit"));
        assert_eq!(got[2].result.status, Status::Failed);
        assert_eq!(got[2].attempts, 2);
        let reason = got[2].result.reason.as_deref().unwrap();
        assert!(reason.contains("boom: crashed on purpose"), "{reason}");
    }

    #[test]
    fn a_raised_token_stops_the_batch_and_kills_the_workers() {
        let dir = tempfile::tempdir().unwrap();
        let program = fake_program(dir.path());
        let mut ex =
            LocalExecutor::new(&program, 2, Duration::from_secs(60), &dir.path().join("w"))
                .unwrap();
        let cancel = CancelToken::new();
        let raiser = cancel.clone();
        let started = Instant::now();
        let timer = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            raiser.cancel();
        });
        let mut observer = CollectOutcomes::default();
        let end = ex
            .run_batch(
                vec![job(1, "sleep(x)"), job(2, "sleep(x)"), job(3, "sleep(x)")],
                &mut observer,
                &cancel,
            )
            .unwrap();
        timer.join().unwrap();
        assert_eq!(end, BatchEnd::Stopped);
        assert!(observer.0.is_empty(), "{:?}", observer.0);
        // The sleeping workers (30 s) were killed, not waited for.
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
