//! [`SlurmExecutor`]: evaluations as Slurm array tasks over a shared run directory.
//!
//! A batch of evaluations goes out as ONE `sbatch --array=0-(n−1)%max_jobs` job whose generated
//! script (`RUN_DIR/batches/bB.sh`) maps `SLURM_ARRAY_TASK_ID` to an evaluation id and runs
//! `pangaea worker --request RUN_DIR/requests/eval-ID.json --result RUN_DIR/results/bB_T.json`
//! (the worker writes atomically), then writes the worker's exit code to `bB_T.exit`. The task's
//! log (stdout and stderr) is `RUN_DIR/logs/bB_T.log`.
//!
//! Every task is recorded in the `slurm_jobs` ledger ([`SlurmLedger`]: the search store's, or a
//! study's results file) *before* `sbatch` runs (under a job
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
//! coordinator killed at any instant never causes a duplicate job. When the caller raises the
//! [`CancelToken`] (the CLI does on Ctrl-C), the executor cancels its tasks with `scancel`,
//! marks them `cancelled` in the ledger (they do not count as attempts), and the batch stops.

use pangaea_wire::JsonFile;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use pangaea_wire::{EvalRequest, EvalResult, Status};

use super::protocol::{self, QueueEntry};
use super::state::SlurmState;
use crate::clock::unix_now;
use crate::config::SlurmConfig;
use crate::error::SearchError;
use crate::executor::{
    tail, BatchEnd, BatchObserver, CancelToken, Executor, Job, Outcome, TAIL_BYTES,
};
use crate::store::{SlurmJobRecord, SlurmJobState, SlurmLedger, SlurmTaskEnd};

/// How long `squeue` may fail in a row before the executor gives up.
const SQUEUE_OUTAGE: Duration = Duration::from_secs(600);

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

impl Tracked {
    fn slurm_id(&self) -> Option<String> {
        self.job_id.as_ref().map(|j| format!("{j}_{}", self.task))
    }
}

/// How a task that runs no more ended, as far as Slurm and the run directory tell.
#[derive(Debug, Clone, PartialEq)]
enum Ending {
    /// The result, read.
    Result(Box<EvalResult>),
    /// Slurm says it completed and the worker exited 0, but no readable result file is there
    /// (yet: a shared file system may show it late).
    MissingResult {
        /// Why the result could not be read.
        detail: String,
    },
    /// It failed: Slurm's state (or ours, [`SlurmState::Vanished`]) and the details.
    Failure {
        /// How it ended.
        state: SlurmState,
        /// What else is known (the worker's exit status).
        detail: String,
    },
}

/// Runs evaluations as Slurm array tasks.
pub struct SlurmExecutor {
    config: SlurmConfig,
    program: PathBuf,
    run_dir: PathBuf,
    ledger_db: SlurmLedger,
    token: String,
    user: String,
    /// Whether `sacct` answers (accounting on); `None` until first asked.
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
    /// An executor keeping its job ledger in the SQLite file `ledger_path` (a search store, or
    /// a study's results file; through a connection of its own), submitting `program worker …`
    /// tasks (the CLI passes `std::env::current_exe()`; `config.program` overrides it). Job ids
    /// must name the same request across restarts: the ledger adopts a live task by its id.
    /// Creates the run directory (default: `ledger_path` with the extension `slurm`).
    pub fn new(
        program: &Path,
        config: &SlurmConfig,
        ledger_path: &Path,
    ) -> Result<SlurmExecutor, SearchError> {
        config.check()?;
        let run_dir = config
            .run_dir
            .clone()
            .unwrap_or_else(|| ledger_path.with_extension("slurm"));
        for sub in ["requests", "results", "logs", "batches"] {
            let dir = run_dir.join(sub);
            std::fs::create_dir_all(&dir).map_err(io(&dir, "create the run directory"))?;
        }
        let run_dir = run_dir
            .canonicalize()
            .map_err(io(&run_dir, "resolve the run directory"))?;
        let ledger_db = SlurmLedger::open(ledger_path)?;
        let mut ledger: HashMap<i64, Vec<SlurmJobRecord>> = HashMap::new();
        for record in ledger_db.jobs()? {
            ledger.entry(record.evaluation).or_default().push(record);
        }
        // SAFETY: getuid cannot fail.
        let user = unsafe { libc::getuid() }.to_string();
        Ok(SlurmExecutor {
            program: config.program.clone().unwrap_or_else(|| program.to_owned()),
            token: run_token(&run_dir),
            config: config.clone(),
            run_dir,
            ledger_db,
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

    fn outcome(&self, id: i64, result: EvalResult, first: f64, attempts: u32) -> Outcome {
        Outcome {
            id,
            result,
            wall_seconds: unix_now() - first,
            attempts,
        }
    }

    /// Decides what to do with an evaluation handed to `submit`: adopt its live task, hand out
    /// a result already collected, give up after its recorded failures, or queue an attempt.
    fn take(&mut self, id: i64) {
        let records = self.ledger.remove(&id).unwrap_or_default();
        let failures = records
            .iter()
            .filter(|r| r.state == SlurmJobState::Failed)
            .count() as u32;
        let first = records.first().map_or_else(unix_now, |r| r.submitted_at);
        let Some(last) = records.last() else {
            self.queued.push((id, 1, first));
            return;
        };
        match last.state {
            SlurmJobState::Submitting | SlurmJobState::Submitted => {
                let tracked = Tracked {
                    batch: last.batch,
                    task: last.task,
                    attempt: last.attempt,
                    job_id: last.job_id.clone(),
                    job_name: last.job_name.clone(),
                    first_submitted: first,
                    no_result_since: None,
                };
                self.tasks.insert(id, tracked);
            }
            SlurmJobState::Done => {
                // Collected, but the search did not store it before the coordinator died.
                let path = self.task_file(last.batch, last.task, "results", "json");
                match EvalResult::read(&path) {
                    Ok(result) => {
                        self.collected.insert(id, (last.batch, last.task));
                        let outcome = self.outcome(id, result, first, last.attempt);
                        self.ready.push(outcome);
                    }
                    Err(_) => self.queued.push((id, last.attempt + 1, first)),
                }
            }
            SlurmJobState::Failed if failures > self.config.max_retries => {
                let reason = last.reason.clone().unwrap_or_default();
                let result = self.failed_result(id, reason);
                let outcome = self.outcome(id, result, first, last.attempt);
                self.ready.push(outcome);
            }
            SlurmJobState::Failed | SlurmJobState::Cancelled => {
                self.queued.push((id, failures + 1, first));
            }
        }
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
        let batch = self.ledger_db.next_slurm_batch()?;
        let job_name = format!("pangaea-{}-b{batch}", self.token);
        let ids: Vec<i64> = queued.iter().map(|q| q.0).collect();
        let script_path = self.run_dir.join("batches").join(format!("b{batch}.sh"));
        let script = protocol::batch_script(
            &self.run_dir,
            &self.program,
            batch,
            &ids,
            &self.config.setup,
        );
        std::fs::write(&script_path, script).map_err(io(&script_path, "write the batch script"))?;
        let tasks: Vec<(i64, u32)> = queued.iter().map(|q| (q.0, q.1)).collect();
        self.ledger_db
            .insert_slurm_batch(batch, &job_name, &tasks)?;
        let args = protocol::sbatch_args(
            &self.config,
            &self.run_dir,
            &job_name,
            batch,
            ids.len(),
            &script_path,
        );
        let job_id = match protocol::sbatch(&args) {
            Ok(id) => id,
            Err(e) => {
                let rows: Vec<_> = (0..ids.len() as i64)
                    .map(|task| SlurmTaskEnd {
                        batch,
                        task,
                        state: SlurmJobState::Cancelled,
                        slurm_state: None,
                        reason: Some(e.to_string()),
                    })
                    .collect();
                self.ledger_db.finish_slurm_tasks(&rows)?;
                return Err(e.into());
            }
        };
        self.ledger_db.set_slurm_job_id(batch, &job_id)?;
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

    /// One look at the queue: `None` while `squeue` fails (for up to [`SQUEUE_OUTAGE`]).
    fn look_at_queue(&mut self) -> Result<Option<Vec<QueueEntry>>, SearchError> {
        match protocol::squeue(&self.user) {
            Ok(q) => {
                self.squeue_failing_since = None;
                Ok(Some(q))
            }
            Err(e) => {
                let since = *self.squeue_failing_since.get_or_insert_with(Instant::now);
                if since.elapsed() > SQUEUE_OUTAGE {
                    return Err(SearchError::Executor(format!(
                        "squeue has failed for {} s: {e}",
                        SQUEUE_OUTAGE.as_secs()
                    )));
                }
                Ok(None)
            }
        }
    }

    /// One look at the cluster: finished tasks become outcomes or retries.
    fn poll(&mut self) -> Result<(), SearchError> {
        self.last_poll = Some(Instant::now());
        if self.tasks.is_empty() {
            return Ok(());
        }
        let Some(queue) = self.look_at_queue()? else {
            return Ok(());
        };
        let mut ids: Vec<i64> = self.tasks.keys().copied().collect();
        ids.sort_unstable();
        let mut rows = Vec::new();
        for id in ids {
            let t = self.tasks[&id].clone();
            if let Some(row) = self.poll_task(id, t, &queue)? {
                rows.push(row);
            }
        }
        if !rows.is_empty() {
            self.ledger_db.finish_slurm_tasks(&rows)?;
        }
        Ok(())
    }

    /// What became of one tracked task; the ledger row to write when it ended.
    fn poll_task(
        &mut self,
        id: i64,
        mut t: Tracked,
        queue: &[QueueEntry],
    ) -> Result<Option<SlurmTaskEnd>, SearchError> {
        if t.job_id.is_none() {
            // Recorded, but the coordinator died before sbatch answered: find it by name.
            match queue.iter().find(|e| e.name == t.job_name) {
                Some(entry) => {
                    let job = entry.job_id().to_owned();
                    self.ledger_db.set_slurm_job_id(t.batch, &job)?;
                    t.job_id = Some(job);
                }
                None if !self.task_file(t.batch, t.task, "results", "exit").exists() => {
                    // Never reached the cluster: submit it (not a failed attempt).
                    self.tasks.remove(&id);
                    self.queued.push((id, t.attempt, t.first_submitted));
                    return Ok(Some(SlurmTaskEnd {
                        batch: t.batch,
                        task: t.task,
                        state: SlurmJobState::Cancelled,
                        slurm_state: None,
                        reason: Some("never reached the cluster (coordinator died)".to_owned()),
                    }));
                }
                None => {}
            }
        }
        let slurm_id = t.slurm_id();
        let in_queue = slurm_id
            .as_ref()
            .and_then(|s| queue.iter().find(|e| &e.id == s))
            .map(|e| e.state.clone());
        let state = match in_queue {
            Some(s) => Some(s),
            None => slurm_id.as_deref().and_then(|s| self.sacct_state(s)),
        };
        if state.as_ref().is_some_and(|s| !s.is_terminal()) {
            self.tasks.insert(id, t);
            return Ok(None);
        }
        let grace = Duration::from_secs_f64(2.0 * self.config.poll_seconds + 2.0);
        let (state, detail) = match self.judge(&t, state) {
            Ending::Result(result) => {
                self.tasks.remove(&id);
                self.collected.insert(id, (t.batch, t.task));
                let outcome = self.outcome(id, *result, t.first_submitted, t.attempt);
                self.ready.push(outcome);
                return Ok(Some(SlurmTaskEnd {
                    batch: t.batch,
                    task: t.task,
                    state: SlurmJobState::Done,
                    slurm_state: Some(SlurmState::Completed),
                    reason: None,
                }));
            }
            Ending::MissingResult { detail } => {
                if t.no_result_since.is_none_or(|at| at.elapsed() < grace) {
                    t.no_result_since.get_or_insert_with(Instant::now);
                    self.tasks.insert(id, t);
                    return Ok(None);
                }
                (SlurmState::Completed, detail)
            }
            Ending::Failure { state, detail } => (state, detail),
        };
        let log = self.task_file(t.batch, t.task, "logs", "log");
        let reason = format!(
            "slurm task {} (attempt {}) ended {state}: {detail}; log `{}` tail: {}",
            t.slurm_id().unwrap_or_else(|| t.job_name.clone()),
            t.attempt,
            log.display(),
            tail(&log, TAIL_BYTES)
        );
        self.tasks.remove(&id);
        if t.attempt <= self.config.max_retries {
            self.queued.push((id, t.attempt + 1, t.first_submitted));
        } else {
            let result = self.failed_result(
                id,
                format!("failed after {} attempts; last: {reason}", t.attempt),
            );
            let outcome = self.outcome(id, result, t.first_submitted, t.attempt);
            self.ready.push(outcome);
        }
        Ok(Some(SlurmTaskEnd {
            batch: t.batch,
            task: t.task,
            state: SlurmJobState::Failed,
            slurm_state: Some(state),
            reason: Some(reason),
        }))
    }

    /// The state `sacct` knows for a task that left `squeue`; `None` when accounting is off or
    /// does not know it. After one failure accounting is taken to be off for this run.
    fn sacct_state(&mut self, slurm_id: &str) -> Option<SlurmState> {
        if self.sacct == Some(false) {
            return None;
        }
        match protocol::sacct_state(slurm_id) {
            Ok(state) => {
                self.sacct = Some(true);
                state
            }
            Err(_) => {
                self.sacct = Some(false);
                None
            }
        }
    }

    /// How a task that is no longer running ended; `state` is Slurm's word, when known.
    fn judge(&self, t: &Tracked, state: Option<SlurmState>) -> Ending {
        let result_path = self.task_file(t.batch, t.task, "results", "json");
        let exit_path = self.task_file(t.batch, t.task, "results", "exit");
        let exit = std::fs::read_to_string(&exit_path)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok());
        let state = state.unwrap_or_else(|| match exit {
            Some(0) => SlurmState::Completed,
            Some(_) => SlurmState::Failed,
            None => {
                let log = tail(&self.task_file(t.batch, t.task, "logs", "log"), TAIL_BYTES);
                protocol::classify_log(&log).unwrap_or(SlurmState::Vanished)
            }
        });
        let detail = match exit {
            Some(code) => format!("the worker exited with status {code}"),
            None if state == SlurmState::Vanished => {
                "the job left the queue without a trace (no accounting, no exit file)".to_owned()
            }
            None => "the worker did not finish".to_owned(),
        };
        match (&state, exit) {
            (SlurmState::Completed, None | Some(0)) => match EvalResult::read(&result_path) {
                Ok(result) => Ending::Result(Box::new(result)),
                Err(e) => Ending::MissingResult {
                    detail: format!("no readable result file `{}` ({e})", result_path.display()),
                },
            },
            // Slurm saw the batch script succeed but the worker inside it failed.
            (SlurmState::Completed, Some(_)) => Ending::Failure {
                state: SlurmState::Failed,
                detail,
            },
            _ => Ending::Failure { state, detail },
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
            rows.push(SlurmTaskEnd {
                batch: t.batch,
                task: t.task,
                state: SlurmJobState::Cancelled,
                slurm_state: Some(SlurmState::Cancelled),
                reason: Some("cancelled by the coordinator (interrupted)".to_owned()),
            });
        }
        // A task that already ended cannot be cancelled; scancel's complaint changes nothing.
        let _ = protocol::scancel(&targets);
        self.ledger_db.finish_slurm_tasks(&rows)?;
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

    /// Whether nothing is outstanding.
    fn idle(&self) -> bool {
        self.tasks.is_empty() && self.queued.is_empty() && self.ready.is_empty()
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
        self.take(job.id);
        Ok(())
    }

    fn collect(&mut self, timeout: Duration) -> Result<Vec<Outcome>, SearchError> {
        self.flush()?;
        let deadline = Instant::now() + timeout;
        let poll = Duration::from_secs_f64(self.config.poll_seconds);
        loop {
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
    /// A raised `cancel` cancels the outstanding tasks (`scancel`) within a second.
    fn run_batch(
        &mut self,
        jobs: Vec<Job>,
        observer: &mut dyn BatchObserver,
        cancel: &CancelToken,
    ) -> Result<BatchEnd, SearchError> {
        for job in jobs {
            observer.submitted(&job)?;
            self.submit(job)?;
        }
        while !self.idle() {
            if cancel.is_cancelled() {
                self.cancel_all()?;
                return Ok(BatchEnd::Stopped);
            }
            for outcome in self.collect(Duration::from_secs(1))? {
                let id = outcome.id;
                let go = observer.finished(outcome)?;
                // Stored by the search: its files are no longer needed.
                if let Some((batch, task)) = self.collected.remove(&id) {
                    self.cleanup(id, batch, task);
                }
                if !go {
                    self.abandon();
                    return Ok(BatchEnd::Stopped);
                }
            }
        }
        Ok(BatchEnd::Completed)
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

/// Eight hex digits naming a run directory in job names (FNV-1a of its path: stable across
/// runs and versions, so a resumed coordinator finds its jobs by name).
fn run_token(run_dir: &Path) -> String {
    let h = pangaea_expr::fnv1a(run_dir.as_os_str().as_encoded_bytes());
    format!("{:08x}", h as u32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_run_token_is_stable_and_names_the_directory() {
        let a = run_token(Path::new("/runs/a.slurm"));
        assert_eq!(a, run_token(Path::new("/runs/a.slurm")));
        assert_ne!(a, run_token(Path::new("/runs/b.slurm")));
        assert_eq!(a.len(), 8);
    }
}
