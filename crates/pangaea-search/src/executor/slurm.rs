//! [`SlurmExecutor`]: evaluations as Slurm array tasks over a shared run directory.
//!
//! A batch of evaluations goes out as ONE `sbatch --array=0-(n−1)%max_jobs` job whose generated
//! script (`RUN_DIR/batches/bB.sh`) maps `SLURM_ARRAY_TASK_ID` to an evaluation id and runs
//! `pangaea worker --request RUN_DIR/requests/eval-ID.json --result RUN_DIR/results/bB_T.json`
//! (the worker writes atomically), then writes the worker's exit code to `bB_T.exit`. The task's
//! log (stdout and stderr) is `RUN_DIR/logs/bB_T.log`.
//!
//! Every task is recorded in the store's `slurm_jobs` ledger *before* `sbatch` runs (under a job
//! name unique to the run directory and batch), and its array job id once `sbatch` answers. The
//! coordinator polls `squeue --states=all` every `poll_seconds`; a task that has left `squeue`
//! is looked up with `sacct` when accounting answers, and otherwise judged from its files: the
//! exit file, the result file, and Slurm's "CANCELLED … DUE TO TIME LIMIT" line in its log. A
//! task that ends without a readable result (non-zero exit, NODE_FAIL, TIMEOUT, OUT_OF_MEMORY,
//! PREEMPTED, a job that vanished, a missing or unreadable result file) is submitted again, up
//! to `max_retries` times, then its evaluation is a `failed` result whose reason names the
//! Slurm state and holds the tail of the task's log. A missing result is never a fitness.
//!
//! `--resume` adopts the tasks the ledger says were submitted and not collected (it waits for
//! them or reads their results) and submits only evaluations that have no live task, so a
//! coordinator killed at any instant never causes a duplicate job. SIGINT (Ctrl-C) cancels the
//! executor's tasks with `scancel`, marks them `cancelled` in the ledger (they do not count as
//! attempts), and stops the search as interrupted; a second SIGINT exits at once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use pangaea_train::{EvalRequest, EvalResult, Status};

use super::{Executor, Job, Outcome};
use crate::config::SlurmConfig;
use crate::error::SearchError;
use crate::store::{SlurmJobRecord, SlurmJobState, SlurmTaskEnd, Store};

/// Bytes of a failed task's log kept in the failure reason.
const LOG_TAIL: usize = 2_000;

/// How long `squeue` may fail in a row before the executor gives up.
const SQUEUE_OUTAGE: Duration = Duration::from_secs(600);

/// Slurm states after which a task runs no more.
const TERMINAL: [&str; 9] = [
    "COMPLETED",
    "FAILED",
    "TIMEOUT",
    "NODE_FAIL",
    "OUT_OF_MEMORY",
    "PREEMPTED",
    "CANCELLED",
    "BOOT_FAIL",
    "DEADLINE",
];

/// Set by the SIGINT handler.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_sigint(_: libc::c_int) {
    if INTERRUPTED.swap(true, Ordering::SeqCst) {
        // SAFETY: _exit is async-signal-safe.
        unsafe { libc::_exit(130) }
    }
}

/// One attempt being watched.
#[derive(Debug, Clone)]
struct Tracked {
    batch: i64,
    task: i64,
    attempt: u32,
    job_id: Option<String>,
    job_name: String,
    /// Unix time of the evaluation's first attempt.
    first_submitted: f64,
    /// When the task was first seen finished without a readable result (shared file systems
    /// may show a renamed file late).
    no_result_since: Option<Instant>,
}

/// How a finished task ended, as far as Slurm and the run directory tell.
#[derive(Debug, Clone, PartialEq)]
enum Ending {
    /// The result, read.
    Result(Box<EvalResult>),
    /// Finished without one: the Slurm state and the details.
    Failure { state: String, detail: String },
}

/// Runs evaluations as Slurm array tasks.
pub struct SlurmExecutor {
    config: SlurmConfig,
    program: PathBuf,
    run_dir: PathBuf,
    store: Store,
    token: String,
    user: String,
    sacct: Option<bool>,
    ledger: HashMap<i64, Vec<SlurmJobRecord>>,
    requests: HashMap<i64, EvalRequest>,
    /// Evaluations to submit at the next flush: (id, attempt, unix time of the first attempt).
    queued: Vec<(i64, u32, f64)>,
    tasks: HashMap<i64, Tracked>,
    ready: Vec<Outcome>,
    /// The (batch, task) whose files hold each ready result, to remove once stored.
    collected: HashMap<i64, (i64, i64)>,
    last_poll: Option<Instant>,
    squeue_failing_since: Option<Instant>,
    interrupted: bool,
}

impl std::fmt::Debug for SlurmExecutor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlurmExecutor")
            .field("run_dir", &self.run_dir)
            .field("outstanding", &self.tasks.len())
            .finish()
    }
}

fn io<'a>(path: &'a Path, doing: &'static str) -> impl FnOnce(std::io::Error) -> SearchError + 'a {
    move |source| SearchError::Io {
        path: path.to_owned(),
        doing,
        source,
    }
}

impl SlurmExecutor {
    /// An executor for the search stored at `store` (the executor keeps its job ledger there,
    /// through a connection of its own), submitting `program worker …` tasks (the CLI passes
    /// `std::env::current_exe()`; `config.program` overrides it). Creates the run directory
    /// and installs the SIGINT handler that cancels the jobs.
    pub fn new(
        program: &Path,
        config: &SlurmConfig,
        store: &Path,
    ) -> Result<SlurmExecutor, SearchError> {
        config.check()?;
        let run_dir = config
            .run_dir
            .clone()
            .unwrap_or_else(|| store.with_extension("slurm"));
        for sub in ["requests", "results", "logs", "batches"] {
            let dir = run_dir.join(sub);
            std::fs::create_dir_all(&dir).map_err(io(&dir, "create the run directory"))?;
        }
        let run_dir = run_dir
            .canonicalize()
            .map_err(io(&run_dir, "resolve the run directory"))?;
        let ledger_store = Store::open(store)?;
        let mut ledger: HashMap<i64, Vec<SlurmJobRecord>> = HashMap::new();
        for record in ledger_store.slurm_jobs()? {
            ledger.entry(record.evaluation).or_default().push(record);
        }
        // SAFETY: the handler only touches an atomic and calls _exit.
        unsafe {
            libc::signal(
                libc::SIGINT,
                on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t,
            );
        }
        // SAFETY: getuid cannot fail.
        let user = unsafe { libc::getuid() }.to_string();
        Ok(SlurmExecutor {
            program: config.program.clone().unwrap_or_else(|| program.to_owned()),
            token: run_token(&run_dir),
            config: config.clone(),
            run_dir,
            store: ledger_store,
            user,
            sacct: None,
            ledger,
            requests: HashMap::new(),
            queued: Vec::new(),
            tasks: HashMap::new(),
            ready: Vec::new(),
            collected: HashMap::new(),
            last_poll: None,
            squeue_failing_since: None,
            interrupted: false,
        })
    }

    /// The run directory (absolute).
    pub fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    fn request_path(&self, id: i64) -> PathBuf {
        self.run_dir
            .join("requests")
            .join(format!("eval-{id}.json"))
    }

    fn task_file(&self, batch: i64, task: i64, dir: &str, ext: &str) -> PathBuf {
        self.run_dir
            .join(dir)
            .join(format!("b{batch}_{task}.{ext}"))
    }

    fn failed_result(&self, id: i64, reason: String) -> EvalResult {
        let (label, activation) = self
            .requests
            .get(&id)
            .map(|r| (r.label.clone(), r.activation.clone()))
            .unwrap_or_default();
        EvalResult::not_run(label, &activation, Status::Failed, reason)
    }

    /// Decides what to do with an evaluation handed to `submit`: adopt its live task, hand out
    /// a result already collected, give up after its recorded failures, or queue an attempt.
    fn take(&mut self, id: i64) -> Result<(), SearchError> {
        let records = self.ledger.remove(&id).unwrap_or_default();
        let failures = records
            .iter()
            .filter(|r| r.state == SlurmJobState::Failed)
            .count() as u32;
        let first = records.first().map_or_else(unix_now, |r| r.submitted_at);
        let Some(last) = records.last() else {
            self.queued.push((id, 1, first));
            return Ok(());
        };
        let tracked = Tracked {
            batch: last.batch,
            task: last.task,
            attempt: last.attempt,
            job_id: last.job_id.clone(),
            job_name: last.job_name.clone(),
            first_submitted: first,
            no_result_since: None,
        };
        match last.state {
            SlurmJobState::Submitting | SlurmJobState::Submitted => {
                self.tasks.insert(id, tracked);
            }
            SlurmJobState::Done => {
                // Collected, but the search did not store it before the coordinator died.
                let path = self.task_file(last.batch, last.task, "results", "json");
                match EvalResult::read(&path) {
                    Ok(result) => {
                        self.collected.insert(id, (last.batch, last.task));
                        self.ready.push(Outcome {
                            id,
                            result,
                            wall_seconds: unix_now() - first,
                            attempts: last.attempt,
                        })
                    }
                    Err(_) => self.queued.push((id, last.attempt + 1, first)),
                }
            }
            SlurmJobState::Failed if failures > self.config.max_retries => {
                let reason = last.reason.clone().unwrap_or_default();
                let result = self.failed_result(id, reason);
                self.ready.push(Outcome {
                    id,
                    result,
                    wall_seconds: unix_now() - first,
                    attempts: last.attempt,
                });
            }
            SlurmJobState::Failed | SlurmJobState::Cancelled => {
                self.queued.push((id, failures + 1, first));
            }
        }
        Ok(())
    }

    /// Submits everything queued as one array job.
    fn flush(&mut self) -> Result<(), SearchError> {
        if self.queued.is_empty() {
            return Ok(());
        }
        let queued = std::mem::take(&mut self.queued);
        for (id, _, _) in &queued {
            let path = self.request_path(*id);
            let request = self
                .requests
                .get(id)
                .ok_or_else(|| SearchError::Executor(format!("no request for evaluation {id}")))?;
            request.write(&path).map_err(|e| {
                SearchError::Executor(format!("could not write `{}`: {e}", path.display()))
            })?;
        }
        let batch = self.store.next_slurm_batch()?;
        let job_name = format!("pangaea-{}-b{batch}", self.token);
        let ids: Vec<i64> = queued.iter().map(|q| q.0).collect();
        let script_path = self.run_dir.join("batches").join(format!("b{batch}.sh"));
        let script = batch_script(
            &self.run_dir,
            &self.program,
            batch,
            &ids,
            &self.config.setup,
        );
        std::fs::write(&script_path, script).map_err(io(&script_path, "write the batch script"))?;
        let tasks: Vec<(i64, u32)> = queued.iter().map(|q| (q.0, q.1)).collect();
        self.store.insert_slurm_batch(batch, &job_name, &tasks)?;
        let args = sbatch_args(
            &self.config,
            &self.run_dir,
            &job_name,
            batch,
            ids.len(),
            &script_path,
        );
        let job_id = match sbatch(&args) {
            Ok(id) => id,
            Err(message) => {
                let rows: Vec<_> = (0..ids.len() as i64)
                    .map(|t| {
                        end(
                            batch,
                            t,
                            SlurmJobState::Cancelled,
                            None,
                            Some(message.clone()),
                        )
                    })
                    .collect();
                self.store.finish_slurm_tasks(&rows)?;
                return Err(SearchError::Executor(message));
            }
        };
        self.store.set_slurm_job_id(batch, &job_id)?;
        for (task, (id, attempt, first)) in queued.into_iter().enumerate() {
            self.tasks.insert(
                id,
                Tracked {
                    batch,
                    task: task as i64,
                    attempt,
                    job_id: Some(job_id.clone()),
                    job_name: job_name.clone(),
                    first_submitted: first,
                    no_result_since: None,
                },
            );
        }
        Ok(())
    }

    /// One look at the cluster: finished tasks become outcomes or retries.
    fn poll(&mut self) -> Result<(), SearchError> {
        self.last_poll = Some(Instant::now());
        if self.tasks.is_empty() {
            return Ok(());
        }
        let queue = match squeue(&self.user) {
            Ok(q) => {
                self.squeue_failing_since = None;
                q
            }
            Err(message) => {
                let since = *self.squeue_failing_since.get_or_insert_with(Instant::now);
                if since.elapsed() > SQUEUE_OUTAGE {
                    return Err(SearchError::Executor(format!(
                        "squeue has failed for {} s: {message}",
                        SQUEUE_OUTAGE.as_secs()
                    )));
                }
                return Ok(());
            }
        };
        let grace = Duration::from_secs_f64(2.0 * self.config.poll_seconds + 2.0);
        let mut ids: Vec<i64> = self.tasks.keys().copied().collect();
        ids.sort_unstable();
        let mut rows = Vec::new();
        for id in ids {
            let mut t = self.tasks[&id].clone();
            if t.job_id.is_none() {
                // Recorded, but the coordinator died before sbatch answered: find it by name.
                match queue.iter().find(|e| e.name == t.job_name) {
                    Some(entry) => {
                        let job = entry.id.split('_').next().unwrap_or_default().to_owned();
                        self.store.set_slurm_job_id(t.batch, &job)?;
                        t.job_id = Some(job);
                    }
                    None if !self.task_file(t.batch, t.task, "results", "exit").exists() => {
                        // Never reached the cluster: submit it (not a failed attempt).
                        rows.push(end(
                            t.batch,
                            t.task,
                            SlurmJobState::Cancelled,
                            None,
                            Some("never reached the cluster (coordinator died)".to_owned()),
                        ));
                        self.tasks.remove(&id);
                        self.queued.push((id, t.attempt, t.first_submitted));
                        continue;
                    }
                    None => {}
                }
            }
            let slurm_id = t.slurm_id();
            let state = slurm_id
                .as_ref()
                .and_then(|s| queue.iter().find(|e| &e.id == s))
                .map(|e| e.state.clone());
            let state = match state {
                Some(s) if !TERMINAL.contains(&s.as_str()) => {
                    self.tasks.insert(id, t);
                    continue;
                }
                Some(s) => Some(s),
                None => match &slurm_id {
                    Some(s) => self.sacct_state(s),
                    None => None,
                },
            };
            if state.as_deref().is_some_and(|s| !TERMINAL.contains(&s)) {
                self.tasks.insert(id, t);
                continue;
            }
            match self.judge(&t, state.as_deref()) {
                Ending::Result(result) => {
                    rows.push(end(t.batch, t.task, SlurmJobState::Done, state, None));
                    self.tasks.remove(&id);
                    self.collected.insert(id, (t.batch, t.task));
                    self.ready.push(Outcome {
                        id,
                        result: *result,
                        wall_seconds: unix_now() - t.first_submitted,
                        attempts: t.attempt,
                    });
                }
                Ending::Failure { state: s, detail } => {
                    let missing_result = s == "COMPLETED";
                    if missing_result && t.no_result_since.is_none_or(|at| at.elapsed() < grace) {
                        t.no_result_since.get_or_insert_with(Instant::now);
                        self.tasks.insert(id, t);
                        continue;
                    }
                    let log = self.task_file(t.batch, t.task, "logs", "log");
                    let reason = format!(
                        "slurm task {} (attempt {}) ended {s}: {detail}; log `{}` tail: {}",
                        t.slurm_id().unwrap_or_else(|| t.job_name.clone()),
                        t.attempt,
                        log.display(),
                        log_tail(&log)
                    );
                    rows.push(end(
                        t.batch,
                        t.task,
                        SlurmJobState::Failed,
                        Some(s),
                        Some(reason.clone()),
                    ));
                    self.tasks.remove(&id);
                    if t.attempt <= self.config.max_retries {
                        self.queued.push((id, t.attempt + 1, t.first_submitted));
                    } else {
                        let result = self.failed_result(
                            id,
                            format!("failed after {} attempts; last: {reason}", t.attempt),
                        );
                        self.ready.push(Outcome {
                            id,
                            result,
                            wall_seconds: unix_now() - t.first_submitted,
                            attempts: t.attempt,
                        });
                    }
                }
            }
        }
        if !rows.is_empty() {
            self.store.finish_slurm_tasks(&rows)?;
        }
        Ok(())
    }

    /// The state `sacct` knows for a task that left `squeue`; `None` when accounting is off or
    /// does not know it.
    fn sacct_state(&mut self, slurm_id: &str) -> Option<String> {
        if self.sacct == Some(false) {
            return None;
        }
        let job = slurm_id.split('_').next().unwrap_or(slurm_id);
        let out = Command::new("sacct")
            .args(["--noheader", "--parsable2", "--allocations"])
            .args(["--format=JobID,State", "--jobs", job])
            .output();
        match out {
            Ok(out) if out.status.success() => {
                self.sacct = Some(true);
                parse_sacct(&String::from_utf8_lossy(&out.stdout), slurm_id)
            }
            _ => {
                self.sacct = Some(false);
                None
            }
        }
    }

    /// How a task that is no longer running ended; `state` is Slurm's word, when known.
    fn judge(&self, t: &Tracked, state: Option<&str>) -> Ending {
        let result_path = self.task_file(t.batch, t.task, "results", "json");
        let exit_path = self.task_file(t.batch, t.task, "results", "exit");
        let exit = std::fs::read_to_string(&exit_path)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok());
        let log_state = classify_log(&log_tail(&self.task_file(t.batch, t.task, "logs", "log")));
        let state = match (state, exit, log_state) {
            (Some(s), _, _) => s.to_owned(),
            (None, Some(0), _) => "COMPLETED".to_owned(),
            (None, Some(_), _) => "FAILED".to_owned(),
            (None, None, Some(s)) => s.to_owned(),
            (None, None, None) => "VANISHED".to_owned(),
        };
        if state != "COMPLETED" || exit.is_some_and(|c| c != 0) {
            let state = if state == "COMPLETED" {
                "FAILED".to_owned()
            } else {
                state
            };
            let detail = match exit {
                Some(code) => format!("the worker exited with status {code}"),
                None if state == "VANISHED" => {
                    "the job left the queue without a trace (no accounting, no exit file)"
                        .to_owned()
                }
                None => "the worker did not finish".to_owned(),
            };
            return Ending::Failure { state, detail };
        }
        match EvalResult::read(&result_path) {
            Ok(result) => Ending::Result(Box::new(result)),
            Err(e) => Ending::Failure {
                state: "COMPLETED".to_owned(),
                detail: format!("no readable result file `{}` ({e})", result_path.display()),
            },
        }
    }

    /// Cancels every task of this executor (`scancel`) and records them as cancelled.
    fn cancel_all(&mut self) -> Result<(), SearchError> {
        let mut targets = Vec::new();
        let mut rows = Vec::new();
        for t in self.tasks.values() {
            match t.slurm_id() {
                Some(s) => targets.push(s),
                None => targets.push(format!("--name={}", t.job_name)),
            }
            rows.push(end(
                t.batch,
                t.task,
                SlurmJobState::Cancelled,
                Some("CANCELLED".to_owned()),
                Some("cancelled by the coordinator (interrupted)".to_owned()),
            ));
        }
        if !targets.is_empty() {
            let _ = Command::new("scancel").args(&targets).output();
        }
        self.store.finish_slurm_tasks(&rows)?;
        self.tasks.clear();
        self.queued.clear();
        Ok(())
    }

    /// Removes the files of a stored evaluation's finished task.
    fn cleanup(&self, id: i64, batch: i64, task: i64) {
        for path in [
            self.request_path(id),
            self.task_file(batch, task, "results", "json"),
            self.task_file(batch, task, "results", "exit"),
            self.task_file(batch, task, "logs", "log"),
        ] {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Tracked {
    fn slurm_id(&self) -> Option<String> {
        self.job_id.as_ref().map(|j| format!("{j}_{}", self.task))
    }
}

impl Executor for SlurmExecutor {
    fn capacity(&self) -> usize {
        self.config.max_jobs
    }

    /// Queues the job; it goes out with the others queued at the next `collect`. A job whose
    /// evaluation already has a live task in the ledger (after `--resume`) is adopted instead.
    fn submit(&mut self, job: Job) -> Result<(), SearchError> {
        self.requests.insert(job.id, job.request);
        self.take(job.id)
    }

    fn collect(&mut self, timeout: Duration) -> Result<Vec<Outcome>, SearchError> {
        self.flush()?;
        let deadline = Instant::now() + timeout;
        let poll = Duration::from_secs_f64(self.config.poll_seconds);
        loop {
            if INTERRUPTED.load(Ordering::SeqCst) {
                self.interrupted = true;
                self.cancel_all()?;
                return Err(SearchError::Executor(
                    "interrupted: the Slurm jobs were cancelled".to_owned(),
                ));
            }
            if !self.ready.is_empty() {
                return Ok(std::mem::take(&mut self.ready));
            }
            if self.tasks.is_empty() && self.queued.is_empty() {
                return Ok(Vec::new());
            }
            if self.last_poll.is_none_or(|at| at.elapsed() >= poll) {
                self.poll()?;
                self.flush()?;
                continue;
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(Vec::new());
            }
            std::thread::sleep((deadline - now).min(Duration::from_millis(100)));
        }
    }

    /// Sends the whole batch as one array job (adopting the evaluations that already have a
    /// live task), then hands out outcomes as tasks finish; retries go out as further arrays.
    fn run_batch(
        &mut self,
        jobs: Vec<Job>,
        on_submit: &mut dyn FnMut(&Job) -> Result<(), SearchError>,
        on_outcome: &mut dyn FnMut(Outcome) -> Result<bool, SearchError>,
    ) -> Result<bool, SearchError> {
        for job in jobs {
            on_submit(&job)?;
            self.submit(job)?;
        }
        while !(self.tasks.is_empty() && self.queued.is_empty() && self.ready.is_empty()) {
            let outcomes = match self.collect(Duration::from_secs(1)) {
                Ok(o) => o,
                Err(_) if self.interrupted => return Ok(false),
                Err(e) => return Err(e),
            };
            for outcome in outcomes {
                let id = outcome.id;
                let go = on_outcome(outcome)?;
                // Stored by the search: its files are no longer needed.
                if let Some((batch, task)) = self.collected.remove(&id) {
                    self.cleanup(id, batch, task);
                }
                if !go {
                    self.abandon();
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// Forgets the outstanding tasks and leaves them running: they stay `submitted` in the
    /// ledger, so a resumed search adopts them (as after a crash).
    fn abandon(&mut self) {
        self.tasks.clear();
        self.queued.clear();
        self.ready.clear();
        self.collected.clear();
    }
}

fn end(
    batch: i64,
    task: i64,
    state: SlurmJobState,
    slurm_state: Option<String>,
    reason: Option<String>,
) -> SlurmTaskEnd {
    SlurmTaskEnd {
        batch,
        task,
        state,
        slurm_state,
        reason,
    }
}

fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Eight hex digits naming a run directory in job names (FNV-1a of its path).
fn run_token(run_dir: &Path) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in run_dir.as_os_str().as_encoded_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", h as u32)
}

/// A word for a POSIX shell: single-quoted.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// The batch script of batch `batch`: task i runs evaluation `ids[i]`.
fn batch_script(
    run_dir: &Path,
    program: &Path,
    batch: i64,
    ids: &[i64],
    setup: &[String],
) -> String {
    let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
    let run = shell_quote(&run_dir.to_string_lossy());
    let mut s = format!(
        "#!/bin/bash\n\
         # Generated by pangaea's Slurm executor: batch {batch}. Task i of the array runs\n\
         # evaluation ids[i] with `pangaea worker`; the worker writes the result atomically,\n\
         # then this script records its exit status next to it.\n\
         set -u\n\
         ids=({ids})\n\
         task=\"$SLURM_ARRAY_TASK_ID\"\n\
         id=\"${{ids[$task]}}\"\n\
         run={run}\n\
         result=\"$run/results/b{batch}_$task\"\n\
         rm -f \"$result.json\" \"$result.exit\"\n",
        ids = ids.join(" ")
    );
    for line in setup {
        s.push_str(line);
        s.push('\n');
    }
    s.push_str(&format!(
        "{} worker --request \"$run/requests/eval-$id.json\" --result \"$result.json\"\n\
         code=$?\n\
         echo \"$code\" > \"$result.exit.tmp\" && mv \"$result.exit.tmp\" \"$result.exit\"\n\
         exit \"$code\"\n",
        shell_quote(&program.to_string_lossy())
    ));
    s
}

/// The arguments of `sbatch` for a batch of `n` tasks.
fn sbatch_args(
    c: &SlurmConfig,
    run_dir: &Path,
    job_name: &str,
    batch: i64,
    n: usize,
    script: &Path,
) -> Vec<String> {
    let mut args = vec![
        "--parsable".to_owned(),
        format!("--array=0-{}%{}", n.saturating_sub(1), c.max_jobs),
        format!("--job-name={job_name}"),
        format!("--output={}/logs/b{batch}_%a.log", run_dir.display()),
        format!("--chdir={}", run_dir.display()),
        format!("--time={}", c.time_minutes()),
        format!("--cpus-per-task={}", c.cpus_per_task),
    ];
    for (flag, value) in [
        ("partition", &c.partition),
        ("account", &c.account),
        ("qos", &c.qos),
        ("gres", &c.gres),
        ("mem", &c.mem),
    ] {
        if let Some(v) = value {
            args.push(format!("--{flag}={v}"));
        }
    }
    args.extend(c.extra_args.iter().cloned());
    args.push(script.to_string_lossy().into_owned());
    args
}

/// Runs `sbatch` (three tries, a controller may be busy); returns the array job id.
fn sbatch(args: &[String]) -> Result<String, String> {
    let mut last = String::new();
    for attempt in 0..3 {
        if attempt > 0 {
            std::thread::sleep(Duration::from_secs(2));
        }
        match Command::new("sbatch").args(args).output() {
            Ok(out) if out.status.success() => {
                let text = String::from_utf8_lossy(&out.stdout);
                return parse_sbatch(&text)
                    .ok_or_else(|| format!("sbatch answered `{}`, not a job id", text.trim()));
            }
            Ok(out) => {
                last = format!(
                    "sbatch failed ({}): {}",
                    out.status,
                    String::from_utf8_lossy(&out.stderr).trim()
                )
            }
            Err(e) => return Err(format!("could not run sbatch: {e}")),
        }
    }
    Err(last)
}

/// The job id of `sbatch --parsable`'s answer (`123` or `123;cluster`).
fn parse_sbatch(text: &str) -> Option<String> {
    let id = text.trim().split(';').next()?.trim();
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_digit())).then(|| id.to_owned())
}

/// One line of `squeue`.
#[derive(Debug, Clone, PartialEq)]
struct QueueEntry {
    id: String,
    name: String,
    state: String,
}

/// Every job of `user` that `squeue` still knows (finished ones for `MinJobAge`), array tasks
/// one per line.
fn squeue(user: &str) -> Result<Vec<QueueEntry>, String> {
    let out = Command::new("squeue")
        .args(["--noheader", "--array", "--states=all", "--format=%i|%j|%T"])
        .arg(format!("--user={user}"))
        .output()
        .map_err(|e| format!("could not run squeue: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "squeue failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(parse_squeue(&String::from_utf8_lossy(&out.stdout)))
}

fn parse_squeue(text: &str) -> Vec<QueueEntry> {
    text.lines()
        .filter_map(|line| {
            let mut parts = line.trim().splitn(3, '|');
            let id = parts.next()?.trim().to_owned();
            let name = parts.next()?.trim().to_owned();
            let state = parts.next()?.trim().to_owned();
            Some(QueueEntry { id, name, state })
        })
        .collect()
}

/// The state of task `slurm_id` in `sacct --parsable2 --format=JobID,State` output
/// (`CANCELLED by 0` → `CANCELLED`).
fn parse_sacct(text: &str, slurm_id: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let (id, state) = line.trim().split_once('|')?;
        (id == slurm_id).then(|| state.split_whitespace().next().unwrap_or("").to_owned())
    })
}

/// The Slurm state a task's log reveals (slurmstepd's "*** JOB … CANCELLED … ***" lines).
fn classify_log(tail: &str) -> Option<&'static str> {
    if tail.contains("DUE TO TIME LIMIT") {
        Some("TIMEOUT")
    } else if tail.contains("DUE TO NODE FAILURE") {
        Some("NODE_FAIL")
    } else if tail.contains("DUE TO PREEMPTION") {
        Some("PREEMPTED")
    } else if tail.contains("oom-kill") || tail.contains("Out Of Memory") {
        Some("OUT_OF_MEMORY")
    } else if tail.contains("CANCELLED AT") {
        Some("CANCELLED")
    } else {
        None
    }
}

fn log_tail(path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    let start = bytes.len().saturating_sub(LOG_TAIL);
    let text = String::from_utf8_lossy(&bytes[start..]).trim().to_owned();
    if text.is_empty() {
        "(empty)".to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sbatch_squeue_and_sacct_answers_parse() {
        assert_eq!(parse_sbatch("123\n").as_deref(), Some("123"));
        assert_eq!(parse_sbatch("77;cluster\n").as_deref(), Some("77"));
        assert_eq!(parse_sbatch("Submitted batch job 5"), None);
        let q = parse_squeue("12_0|pangaea-ab-b1|RUNNING\n12_1|pangaea-ab-b1|TIMEOUT\n");
        assert_eq!(q.len(), 2);
        assert_eq!(q[1].id, "12_1");
        assert_eq!(q[1].state, "TIMEOUT");
        let s = "12_0|COMPLETED\n12_1|CANCELLED by 0\n12_1.batch|CANCELLED\n";
        assert_eq!(parse_sacct(s, "12_1").as_deref(), Some("CANCELLED"));
        assert_eq!(parse_sacct(s, "12_2"), None);
    }

    #[test]
    fn log_lines_reveal_the_state_without_accounting() {
        let line = "slurmstepd: error: *** JOB 9 ON localhost CANCELLED AT 2026-11-28T21:33:34 \
                    DUE TO TIME LIMIT ***";
        assert_eq!(classify_log(line), Some("TIMEOUT"));
        assert_eq!(classify_log("trained 1 epoch"), None);
    }

    #[test]
    fn sbatch_arguments_carry_every_setting() {
        let c = SlurmConfig {
            partition: Some("gpu".to_owned()),
            gres: Some("gpu:1".to_owned()),
            mem: Some("8G".to_owned()),
            time_limit_seconds: 61.0,
            max_jobs: 3,
            extra_args: vec!["--exclusive".to_owned()],
            ..SlurmConfig::default()
        };
        let args = sbatch_args(&c, Path::new("/r"), "n", 4, 5, Path::new("/r/b.sh"));
        for want in [
            "--array=0-4%3",
            "--time=2",
            "--partition=gpu",
            "--gres=gpu:1",
            "--mem=8G",
            "--exclusive",
            "--output=/r/logs/b4_%a.log",
        ] {
            assert!(
                args.iter().any(|a| a == want),
                "{want} missing from {args:?}"
            );
        }
        assert_eq!(args.last().map(String::as_str), Some("/r/b.sh"));
    }

    #[test]
    fn batch_script_maps_tasks_to_requests_and_quotes_paths() {
        let s = batch_script(
            Path::new("/runs/it's here"),
            Path::new("/opt/pangaea"),
            2,
            &[7, 9],
            &["module load cuda".to_owned()],
        );
        assert!(s.contains("ids=(7 9)"), "{s}");
        assert!(s.contains("run='/runs/it'\\''s here'"), "{s}");
        assert!(s.contains("module load cuda\n'/opt/pangaea' worker"), "{s}");
        assert!(s.contains("results/b2_$task"), "{s}");
    }

    #[cfg(unix)]
    #[test]
    fn batch_script_runs_the_worker_and_records_its_exit_status() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for sub in ["requests", "results"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let program = dir.path().join("fake");
        std::fs::write(&program, "#!/bin/sh\necho \"$3\" > \"$5\"\nexit 3\n").unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        let script = dir.path().join("b.sh");
        std::fs::write(&script, batch_script(dir.path(), &program, 1, &[5, 6], &[])).unwrap();
        let status = Command::new("bash")
            .arg(&script)
            .env("SLURM_ARRAY_TASK_ID", "1")
            .status()
            .unwrap();
        assert_eq!(status.code(), Some(3));
        let result = std::fs::read_to_string(dir.path().join("results/b1_1.json")).unwrap();
        assert!(result.trim().ends_with("requests/eval-6.json"), "{result}");
        let exit = std::fs::read_to_string(dir.path().join("results/b1_1.exit")).unwrap();
        assert_eq!(exit.trim(), "3");
    }
}
