//! [`Search`]: the coordinator of the evolutionary loop (docs/method.md §3).
//!
//! Generation 0 draws random forms of the two initial shapes; generation g ≥ 1 selects parents
//! from the population of generation g − 1 and mutates them. Each new form is validated
//! (rejected ones are stored with the reason and never trained), deduplicated against every
//! earlier form by canonical text and fingerprint (a duplicate is stored as such and inherits
//! its original's fitness), and parametrized into `versions_per_child` versions, each one
//! evaluation. Drawing stops once the generation has `population_size` (generation 0) or
//! `children_per_generation` new forms, or after 20 times as many draws.
//!
//! A generation is *planned* in full (every candidate and request) and stored in one
//! transaction before any evaluation runs; results are stored as they arrive, in any order; with
//! rungs (`[fidelity]`) the best versions of each rung are then *promoted* to the next, and with
//! re-evaluation the best forms get *extra runs*, each step planned from stored results and
//! stored in one transaction; the generation *ends* when all its evaluations are stored: each
//! new form's fitness is its best version's (at the highest rung it reached), and the best
//! `population_size` forms of the previous population and the new forms survive (ties broken by
//! candidate order). The RNG of generation g is ChaCha8 seeded with the
//! configuration's seed on stream g, so a plan depends only on the configuration and the
//! stored population: the same configuration gives the same candidates and the same final
//! population whatever the number of workers, the order of arrival, or where a run was killed
//! and resumed.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use pangaea_expr::{mutate, parametrize, random_initial, Expr, Operators};
use pangaea_wire::EvalRequest;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::cache::Cache;
use crate::config::{FitnessMetric, SearchConfig};
use crate::error::SearchError;
use crate::event::{EventSink, SearchEvent, StopReason};
use crate::executor::{BatchEnd, BatchObserver, CancelToken, Executor, Job, Outcome};
use crate::fitness::{compare_best_first, compare_ranked, fitness};
use crate::screen;
use crate::selection::select_parent;
use crate::store::{
    CandidateRecord, CandidateState, DuplicateOf, EvaluationRecord, FinishedEvaluation,
    FitnessUpdate, NewCandidate, NewRun, Origin, ResultSource, Store, Survivor,
};

/// How many draws a generation may make per new form it needs before it gives up.
const DRAWS_PER_FORM: usize = 20;

/// Options of one run of the coordinator.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Stop (as if killed) after this many evaluations have been stored in this run, leaving
    /// the rest in flight; the store can be resumed. For tests of `--resume`.
    pub stop_after_evaluations: Option<usize>,
    /// Raised by the caller to stop the search (the CLI raises it on Ctrl-C): the executor
    /// stops or cancels what is in flight and the search ends as [`StopReason::Interrupted`].
    pub cancel: CancelToken,
}

/// The RNG of generation `generation` of a search seeded with `seed`.
pub fn generation_rng(seed: u64, generation: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(generation as u64);
    rng
}

/// A search bound to its store.
#[derive(Debug)]
pub struct Search {
    store: Store,
    config: SearchConfig,
    ops: Operators,
    cache: Option<Cache>,
    resumed: bool,
    /// The pre-screen's features of the search's own network (`[screening] own_network`).
    own_network: Option<screen::OwnNetwork>,
}

/// What the coordinator knows of an evaluation it hands out.
struct PendingEvaluation {
    candidate: i64,
    expr: String,
    request: EvalRequest,
    replicate: usize,
    rung: usize,
    /// The pre-screen's prediction for the candidate: the most promising are trained first.
    predicted: Option<f64>,
}

/// Stores every finished evaluation of a generation (from the cache or the executor), fills the
/// cache, reports the event, and counts what this run stored: the [`BatchObserver`] the
/// executor reports to, and the path the cache's answers take too.
struct Recorder<'a> {
    store: &'a mut Store,
    cache: Option<&'a Cache>,
    events: &'a mut dyn EventSink,
    metric: FitnessMetric,
    pending: HashMap<i64, PendingEvaluation>,
    baselines: HashSet<i64>,
    stored: &'a mut usize,
    stop_after: Option<usize>,
}

impl Recorder<'_> {
    /// Stores one result; returns whether the run goes on (`stop_after_evaluations`).
    fn record(
        &mut self,
        id: i64,
        result: pangaea_wire::EvalResult,
        wall_seconds: f64,
        attempts: u32,
        source: ResultSource,
    ) -> Result<bool, SearchError> {
        let info = self.pending.get(&id).ok_or_else(|| {
            SearchError::Executor(format!("the executor returned an unknown evaluation {id}"))
        })?;
        let finished = FinishedEvaluation {
            id,
            fitness: fitness(self.metric, &result),
            result,
            wall_seconds,
            attempts,
            source,
        };
        self.store.record_evaluation(&finished)?;
        if let (Some(cache), ResultSource::Executor) = (self.cache, source) {
            cache.put(&info.request, &finished.result)?;
        }
        self.events.event(&SearchEvent::EvaluationFinished {
            baseline: self.baselines.contains(&info.candidate),
            evaluation: id,
            candidate: info.candidate,
            expr: info.expr.clone(),
            status: finished.result.status.name().to_owned(),
            reason: finished.result.reason.clone(),
            fitness: finished.fitness,
            cached: source == ResultSource::Cache,
            replicate: info.replicate,
            rung: info.rung,
            wall_seconds,
        });
        *self.stored += 1;
        Ok(self.stop_after.is_none_or(|k| *self.stored < k))
    }
}

impl BatchObserver for Recorder<'_> {
    fn submitted(&mut self, job: &Job) -> Result<(), SearchError> {
        let (candidate, expr) = match self.pending.get(&job.id) {
            Some(p) => (p.candidate, p.expr.clone()),
            None => (0, job.request.activation.clone()),
        };
        self.events.event(&SearchEvent::EvaluationSubmitted {
            evaluation: job.id,
            candidate,
            expr,
        });
        Ok(())
    }

    fn finished(&mut self, outcome: Outcome) -> Result<bool, SearchError> {
        self.record(
            outcome.id,
            outcome.result,
            outcome.wall_seconds,
            outcome.attempts,
            ResultSource::Executor,
        )
    }
}

/// `[screening] own_network` without [`Search::with_network_probe`].
fn no_network_probe() -> SearchError {
    SearchError::Screen(
        "`screening.own_network` needs the training engine's probe of the search's network, \
         and none was given (run the search with the `pangaea` command)"
            .into(),
    )
}

impl Search {
    /// Starts a new search in a new store file.
    pub fn create(path: &Path, config: SearchConfig) -> Result<Search, SearchError> {
        config.check()?;
        let ops = config.resolved_operators()?;
        let store = Store::create(path, &config)?;
        Ok(Search {
            store,
            config,
            ops,
            cache: None,
            resumed: false,
            own_network: None,
        })
    }

    /// Continues the search of an existing store with its stored configuration.
    pub fn resume(path: &Path) -> Result<Search, SearchError> {
        let store = Store::open(path)?;
        let config = store.config()?;
        config.check()?;
        let ops = config.resolved_operators()?;
        Ok(Search {
            store,
            config,
            ops,
            cache: None,
            resumed: true,
            own_network: None,
        })
    }

    /// Reuses (and fills) a cache of results shared with other searches.
    pub fn with_cache(mut self, cache: Cache) -> Search {
        self.cache = Some(cache);
        self
    }

    /// Gives the pre-screen the training engine's statistics of the search's own network at
    /// initialisation, which `[screening] own_network` asks for ([`screen::NetworkProbe`]).
    pub fn with_network_probe(mut self, probe: Box<dyn screen::NetworkProbe>) -> Search {
        self.own_network = Some(screen::OwnNetwork::new(probe));
        self
    }

    /// The configuration.
    pub fn config(&self) -> &SearchConfig {
        &self.config
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Runs until the stopping rule holds (or `options` stops it early), writing every step to
    /// the store and reporting to `events`.
    ///
    /// Each generation goes through four phases: *plan* it (unless a killed run already did),
    /// *serve* what the cache knows, *execute* the rest, *end* it (fitness and survivors).
    pub fn run(
        &mut self,
        executor: &mut dyn Executor,
        events: &mut dyn EventSink,
        options: &RunOptions,
    ) -> Result<StopReason, SearchError> {
        if self.config.screening.enabled()
            && self.config.screening.own_network
            && self.own_network.is_none()
        {
            return Err(no_network_probe());
        }
        let session = Instant::now();
        let elapsed_before = self.store.elapsed_seconds()?;
        let elapsed = || elapsed_before + session.elapsed().as_secs_f64();
        let stop = self.config.effective_stop();
        events.event(&SearchEvent::SearchStarted {
            store: self.store.path().to_owned(),
            resumed: self.resumed,
            evaluations_done: self.store.finished_evaluations()?,
            generation_limit: stop.generations,
            evaluation_limit: stop.evaluations,
            expected_evaluations: self.expected_evaluations(),
            top_rung: self.config.fidelity.top(),
        });
        let mut stored = 0usize;
        loop {
            let finished = self.store.last_finished_generation()?;
            let generation = finished.map_or(0, |f| f + 1);
            let planned = self.store.last_planned_generation()?;
            if planned.is_none_or(|p| p < generation) {
                if let Some(f) = finished {
                    if let Some(reason) = self.stop_reason(f, elapsed())? {
                        self.finish_event(events, reason, Some(f))?;
                        return Ok(reason);
                    }
                }
                self.plan_generation(generation, events)?;
            }
            // Execute what the generation planned, then its promotions rung by rung, then
            // re-evaluation's extra runs until the best forms have theirs (none when off).
            let mut first = true;
            loop {
                let mut recorder =
                    self.recorder(generation, &mut *events, &mut stored, options, first)?;
                let going = match serve_from_cache(&mut recorder)? {
                    Some(jobs) => {
                        executor.run_batch(jobs, &mut recorder, &options.cancel)?
                            == BatchEnd::Completed
                    }
                    None => false,
                };
                if !going {
                    self.finish_event(events, StopReason::Interrupted, generation.checked_sub(1))?;
                    return Ok(StopReason::Interrupted);
                }
                first = false;
                let (runs, rung) = self.promotions(generation)?;
                if !runs.is_empty() {
                    self.store.insert_runs(generation, &runs)?;
                    events.event(&SearchEvent::Promoted {
                        generation,
                        rung,
                        evaluations: runs.len(),
                        candidates: distinct_candidates(&runs),
                    });
                    continue;
                }
                let runs = self.extra_runs(generation)?;
                if runs.is_empty() {
                    break;
                }
                self.store.insert_runs(generation, &runs)?;
                events.event(&SearchEvent::ExtraRuns {
                    generation,
                    evaluations: runs.len(),
                    candidates: distinct_candidates(&runs),
                });
            }
            let new_forms = self.end_generation(generation, elapsed())?;
            events.event(&SearchEvent::GenerationFinished {
                generation,
                best: self.best_of_population(generation)?,
                evaluations_done: self.store.finished_evaluations()?,
            });
            if new_forms == 0 && generation > 0 {
                self.finish_event(events, StopReason::Exhausted, Some(generation))?;
                return Ok(StopReason::Exhausted);
            }
        }
    }

    /// Phase 1: plans generation `generation`, stores the plan in one transaction, and reports
    /// its rejected and duplicate candidates.
    fn plan_generation(
        &mut self,
        generation: usize,
        events: &mut dyn EventSink,
    ) -> Result<(), SearchError> {
        let plan = self.plan(generation)?;
        let ids = self.store.insert_plan(generation, &plan)?;
        for (c, id) in plan.iter().zip(&ids) {
            match c.state {
                CandidateState::Rejected => events.event(&SearchEvent::CandidateRejected {
                    candidate: *id,
                    expr: c.form.to_string(),
                    reason: c.reason.clone().unwrap_or_default(),
                }),
                CandidateState::Duplicate => {
                    let original = match c.duplicate_of {
                        Some(DuplicateOf::Stored(o)) => o,
                        Some(DuplicateOf::InPlan(i)) => ids[i],
                        None => 0,
                    };
                    events.event(&SearchEvent::CandidateDuplicate {
                        candidate: *id,
                        expr: c.form.to_string(),
                        original,
                    })
                }
                CandidateState::Screened => events.event(&SearchEvent::CandidateScreened {
                    candidate: *id,
                    expr: c.form.to_string(),
                    predicted: c.predicted.unwrap_or(f64::NAN),
                }),
                CandidateState::Pending | CandidateState::Evaluated | CandidateState::Baseline => {}
            }
        }
        Ok(())
    }

    /// The generation's evaluations that have no result yet, in a [`Recorder`]; reports the
    /// generation's start the `first` time.
    fn recorder<'a>(
        &'a mut self,
        generation: usize,
        events: &'a mut dyn EventSink,
        stored: &'a mut usize,
        options: &RunOptions,
        first: bool,
    ) -> Result<Recorder<'a>, SearchError> {
        let candidates = self.store.generation_candidates(generation)?;
        let baselines: HashSet<i64> = candidates
            .iter()
            .filter(|c| c.state == CandidateState::Baseline)
            .map(|c| c.id)
            .collect();
        let unfinished: Vec<EvaluationRecord> = self
            .store
            .generation_evaluations(generation)?
            .into_iter()
            .filter(|e| !e.is_finished())
            .collect();
        if first {
            events.event(&SearchEvent::GenerationStarted {
                generation,
                candidates: candidates.len(),
                evaluations: unfinished.len(),
            });
        }
        let predicted: HashMap<i64, f64> = candidates
            .iter()
            .filter_map(|c| Some((c.id, c.predicted?)))
            .collect();
        let mut pending = HashMap::new();
        for e in unfinished {
            let request = e.request().map_err(|message| SearchError::StoredJson {
                path: self.store.path().to_owned(),
                what: "request",
                row: e.id,
                message,
            })?;
            pending.insert(
                e.id,
                PendingEvaluation {
                    candidate: e.candidate,
                    expr: e.expr,
                    request,
                    replicate: e.replicate,
                    rung: e.rung,
                    predicted: predicted.get(&e.candidate).copied(),
                },
            );
        }
        Ok(Recorder {
            store: &mut self.store,
            cache: self.cache.as_ref(),
            events,
            metric: self.config.fitness,
            pending,
            baselines,
            stored,
            stop_after: options.stop_after_evaluations,
        })
    }

    /// The most evaluations the stopping rule lets the search run (see
    /// [`SearchEvent::SearchStarted`]); `None` when only the wall time bounds it.
    fn expected_evaluations(&self) -> Option<usize> {
        let c = &self.config;
        let stop = c.effective_stop();
        let extra = c.reevaluation.runs.saturating_sub(1);
        let (extra_baselines, extra_per_generation) = if c.reevaluation.enabled() {
            (c.baselines.len() * extra, c.reevaluation.top * extra)
        } else {
            (0, 0)
        };
        // Every version at rung 0, then the promoted ones at each higher rung.
        let with_rungs = |versions: usize| {
            let mut total = versions;
            let mut at = versions;
            for _ in 0..c.fidelity.top() {
                at = c.fidelity.promoted(at);
                total += at;
            }
            total
        };
        let by_generations = stop.generations.map(|g| {
            c.baselines.len()
                + extra_baselines
                + with_rungs(c.population_size * c.versions_per_child)
                + g * (with_rungs(c.children_per_generation * c.versions_per_child)
                    + extra_per_generation)
        });
        match (by_generations, stop.evaluations) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn stop_reason(
        &self,
        finished: usize,
        elapsed: f64,
    ) -> Result<Option<StopReason>, SearchError> {
        let stop = self.config.effective_stop();
        if stop.generations.is_some_and(|g| finished >= g) {
            return Ok(Some(StopReason::Generations));
        }
        if let Some(limit) = stop.evaluations {
            if self.store.finished_evaluations()? >= limit {
                return Ok(Some(StopReason::Evaluations));
            }
        }
        if stop.wall_seconds.is_some_and(|w| elapsed >= w) {
            return Ok(Some(StopReason::WallTime));
        }
        Ok(None)
    }

    fn finish_event(
        &self,
        events: &mut dyn EventSink,
        reason: StopReason,
        generation: Option<usize>,
    ) -> Result<(), SearchError> {
        let best = match generation {
            Some(g) => self.best_of_population(g)?,
            None => None,
        };
        events.event(&SearchEvent::SearchFinished {
            reason,
            generation,
            evaluations_done: self.store.finished_evaluations()?,
            best,
        });
        Ok(())
    }

    fn best_of_population(
        &self,
        generation: usize,
    ) -> Result<Option<(i64, String, f64)>, SearchError> {
        let Some(first) = self.store.population(generation)?.into_iter().next() else {
            return Ok(None);
        };
        let (Some(f), Some(c)) = (first.fitness, self.store.candidate(first.candidate)?) else {
            return Ok(None);
        };
        Ok(Some((c.id, c.expr, f)))
    }

    /// Plans generation `generation`: the candidates, with their versions' requests.
    fn plan(&self, generation: usize) -> Result<Vec<NewCandidate>, SearchError> {
        let mut rng = generation_rng(self.config.seed, generation);
        let mut by_canonical: HashMap<String, DuplicateOf> = HashMap::new();
        let mut by_fingerprint: HashMap<String, DuplicateOf> = HashMap::new();
        for c in self.store.candidates()? {
            if matches!(c.state, CandidateState::Pending | CandidateState::Evaluated) {
                by_canonical
                    .entry(c.canonical)
                    .or_insert(DuplicateOf::Stored(c.id));
                by_fingerprint
                    .entry(c.fingerprint)
                    .or_insert(DuplicateOf::Stored(c.id));
            }
        }
        let (target, parents) = if generation == 0 {
            (self.config.population_size, Vec::new())
        } else {
            let mut parents = Vec::new();
            for m in self.store.population(generation - 1)? {
                let c =
                    self.store
                        .candidate(m.candidate)?
                        .ok_or_else(|| SearchError::NotAStore {
                            path: self.store.path().to_owned(),
                            message: format!("population names missing candidate {}", m.candidate),
                        })?;
                let expr = self.parse_stored(&c)?;
                parents.push((c.id, expr));
            }
            if parents.is_empty() {
                return Ok(Vec::new());
            }
            (self.config.children_per_generation, parents)
        };
        let mut plan: Vec<NewCandidate> = Vec::new();
        if generation == 0 {
            plan.extend(self.baseline_plan()?);
        }
        // Children are first trained at rung 0 (the full recipe when there are no rungs).
        let first_rung = self.config.fidelity.request(&self.config.training, 0)?;
        let mut accepted = 0;
        for _ in 0..DRAWS_PER_FORM * target {
            if accepted == target {
                break;
            }
            let (form, origin) = if generation == 0 {
                (random_initial(&self.ops, &mut rng), None)
            } else {
                let index = select_parent(&self.config.selection, parents.len(), &mut rng);
                let (parent_id, parent) = &parents[index];
                let Ok(outcome) = mutate(
                    parent,
                    &self.ops,
                    self.config.max_expr_size,
                    &self.config.mutation_weights,
                    &mut rng,
                ) else {
                    continue;
                };
                let origin = Origin {
                    parent: *parent_id,
                    mutation: outcome.mutation.name().to_owned(),
                    detail: outcome.detail,
                };
                (outcome.expr, Some(origin))
            };
            let form = form.without_params();
            let canonical = form.canonical_text();
            let fingerprint = form.fingerprint().to_string();
            let mut candidate = NewCandidate {
                form: form.clone(),
                origin,
                state: CandidateState::Pending,
                reason: None,
                duplicate_of: None,
                versions: Vec::new(),
                predicted: None,
                rung: 0,
            };
            if let Err(rejection) = form.validate() {
                candidate.state = CandidateState::Rejected;
                candidate.reason = Some(format!("{}: {rejection}", rejection.code()));
            } else if let Some(original) = by_canonical
                .get(&canonical)
                .or_else(|| by_fingerprint.get(&fingerprint))
            {
                candidate.state = CandidateState::Duplicate;
                candidate.duplicate_of = Some(*original);
                candidate.reason = Some(
                    if by_canonical.contains_key(&canonical) {
                        "same canonical form"
                    } else {
                        "same fingerprint"
                    }
                    .to_owned(),
                );
            } else {
                let index = plan.len();
                for (v, version) in parametrize(
                    &form,
                    self.config.versions_per_child,
                    self.config.max_params,
                    &mut rng,
                )
                .into_iter()
                .enumerate()
                {
                    let mut request: EvalRequest = first_rung.clone();
                    request.activation = version.to_string();
                    request.label = Some(format!("g{generation}-c{index}-v{v}"));
                    candidate.versions.push((
                        version.to_string(),
                        serde_json::to_string(&request).expect("requests serialize"),
                    ));
                }
                by_canonical.insert(canonical, DuplicateOf::InPlan(index));
                by_fingerprint
                    .entry(fingerprint)
                    .or_insert(DuplicateOf::InPlan(index));
                accepted += 1;
            }
            plan.push(candidate);
        }
        if generation > 0 {
            self.screen(&mut plan)?;
        }
        Ok(plan)
    }

    /// The pre-screen ([`crate::Screening`]): predicts every pending child of `plan` from the
    /// stored trained forms and marks the predicted-worst `skip_fraction` of them `screened`,
    /// without versions, so they are never trained. Depends only on the store, so a resumed
    /// search plans the same.
    fn screen(&self, plan: &mut [NewCandidate]) -> Result<(), SearchError> {
        let s = &self.config.screening;
        if !s.enabled() {
            return Ok(());
        }
        let xs = screen::samples();
        let set = screen::FeatureSet {
            network: s.network,
            own_network: match (s.own_network, &self.own_network) {
                (false, _) => None,
                (true, Some(own)) => Some(own),
                (true, None) => return Err(no_network_probe()),
            },
        };
        // With rungs, what is predicted is a child's rung-0 fitness (every child has one).
        let fitness = screen::learned_fitness(&self.store, self.config.fidelity.enabled())?;
        let mut history: Vec<(Vec<f64>, f64)> = Vec::new();
        for c in self.store.candidates()? {
            if c.state != CandidateState::Evaluated {
                continue;
            }
            let (Ok(form), Some(&f)) = (Expr::parse(&c.expr), fitness.get(&c.id)) else {
                continue;
            };
            history.push((screen::describe(&form, &xs, set)?, f));
        }
        if history.len() < s.min_history {
            return Ok(());
        }
        let mut predicted: Vec<(f64, usize)> = Vec::new();
        for (i, c) in plan.iter_mut().enumerate() {
            if c.state != CandidateState::Pending {
                continue;
            }
            let features = screen::describe(&c.form, &xs, set)?;
            if let Some(p) = screen::predict(&history, &features, s.k) {
                c.predicted = Some(p);
                predicted.push((p, i));
            }
        }
        predicted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let skip = (s.skip_fraction * predicted.len() as f64).floor() as usize;
        for &(p, i) in &predicted[..skip] {
            let c = &mut plan[i];
            c.state = CandidateState::Screened;
            c.versions.clear();
            c.reason = Some(format!(
                "screened: predicted fitness {p:.4} (mean of the {} nearest of {} trained forms), \
                 among the lowest {:.0} % of its generation",
                s.k,
                history.len(),
                100.0 * s.skip_fraction
            ));
        }
        Ok(())
    }

    /// The promotions of generation `generation` once every evaluation it planned has finished
    /// (`[fidelity]`): at the lowest rung whose versions have none promoted yet, the best
    /// [`crate::Fidelity::promoted`] of its versions that finished with a fitness (ties in
    /// evaluation order) get a first run at the next rung, with the same seed. Returns the runs
    /// and the rung they are at; none when the search has no rungs or every rung is done.
    /// Depends only on the stored state, so a resumed search promotes the same versions.
    fn promotions(&self, generation: usize) -> Result<(Vec<NewRun>, usize), SearchError> {
        let fidelity = &self.config.fidelity;
        if !fidelity.enabled() {
            return Ok((Vec::new(), 0));
        }
        let children: HashSet<i64> = self
            .store
            .generation_candidates(generation)?
            .into_iter()
            .filter(|c| matches!(c.state, CandidateState::Pending | CandidateState::Evaluated))
            .map(|c| c.id)
            .collect();
        let firsts: Vec<EvaluationRecord> = self
            .store
            .generation_evaluations(generation)?
            .into_iter()
            .filter(|e| e.replicate == 0 && children.contains(&e.candidate))
            .collect();
        for rung in 0..fidelity.top() {
            let next = rung + 1;
            if firsts.iter().any(|e| e.rung == next) {
                continue;
            }
            let mut finished: Vec<&EvaluationRecord> = firsts
                .iter()
                .filter(|e| e.rung == rung && e.fitness.is_some())
                .collect();
            finished.sort_by(|a, b| compare_best_first(a.fitness, b.fitness).then(a.id.cmp(&b.id)));
            let take = fidelity.promoted(finished.len());
            if take == 0 {
                return Ok((Vec::new(), next));
            }
            let template = fidelity.request(&self.config.training, next)?;
            let runs = finished[..take]
                .iter()
                .map(|e| {
                    let mut request = template.clone();
                    request.activation = e.expr.clone();
                    request.label = Some(format!(
                        "g{generation}-c{}-v{}-rung{next}",
                        e.candidate, e.version
                    ));
                    NewRun {
                        candidate: e.candidate,
                        version: e.version,
                        expr: e.expr.clone(),
                        replicate: 0,
                        rung: next,
                        request: serde_json::to_string(&request).expect("requests serialize"),
                    }
                })
                .collect();
            return Ok((runs, next));
        }
        Ok((Vec::new(), 0))
    }

    /// The extra runs re-evaluation asks for once every evaluation of generation `generation`
    /// has finished and promoted: the forms that would rank in the top `reevaluation.top` of
    /// the population now (the previous population and this generation's forms, by their
    /// current standing) and reached the full recipe, and the baselines, get the runs their
    /// standing version lacks to reach `reevaluation.runs` (planned or finished), run r with seed
    /// `training.seed + r`. Empty when re-evaluation is off or nothing is missing. Depends only
    /// on the stored state, so a resumed search plans the same runs, and asking again after the
    /// runs were stored asks for none of them again.
    fn extra_runs(&self, generation: usize) -> Result<Vec<NewRun>, SearchError> {
        let re = &self.config.reevaluation;
        if !re.enabled() {
            return Ok(Vec::new());
        }
        let mut pool: Vec<(i64, (Option<f64>, usize))> = Vec::new();
        let previous = match generation {
            0 => Vec::new(),
            g => self.store.population(g - 1)?,
        };
        let new_forms = self
            .store
            .generation_candidates(generation)?
            .into_iter()
            .filter(|c| matches!(c.state, CandidateState::Pending | CandidateState::Evaluated))
            .map(|c| c.id);
        for id in previous.iter().map(|m| m.candidate).chain(new_forms) {
            let s = self.standing(id)?;
            pool.push((id, (re.score(s.fitness, s.runs), s.rung)));
        }
        pool.sort_by(|a, b| compare_ranked(a.1, b.1).then(a.0.cmp(&b.0)));
        let mut targets: Vec<i64> = self.store.baselines()?.iter().map(|c| c.id).collect();
        // Only forms that reached the full recipe: a cheaper rung's fitness is a screening
        // number, not worth repeating (fewer than `top` forms get runs while few reached it).
        let top_rung = self.config.fidelity.top();
        targets.extend(
            pool.iter()
                .take(re.top.min(self.config.population_size))
                .filter(|p| p.1 .1 == top_rung)
                .map(|p| p.0),
        );
        let mut runs = Vec::new();
        for id in targets {
            let Some(best) = self.standing(id)?.best_evaluation else {
                continue;
            };
            let evaluations = self.store.candidate_evaluations(id)?;
            let Some(first) = evaluations.iter().find(|e| e.id == best) else {
                continue;
            };
            let same: Vec<&EvaluationRecord> = evaluations
                .iter()
                .filter(|e| e.version == first.version && e.rung == first.rung)
                .collect();
            let missing = re.runs.saturating_sub(same.len());
            if missing == 0 {
                continue;
            }
            let next = same.iter().map(|e| e.replicate).max().unwrap_or(0) + 1;
            let mut request = first.request().map_err(|message| SearchError::StoredJson {
                path: self.store.path().to_owned(),
                what: "request",
                row: first.id,
                message,
            })?;
            let base_seed = self.config.training.seed;
            for k in 0..missing {
                let replicate = next + k;
                request.seed = base_seed.wrapping_add(replicate as u64);
                request.label = Some(format!(
                    "g{generation}-c{id}-v{}-r{replicate}",
                    first.version
                ));
                runs.push(NewRun {
                    candidate: id,
                    version: first.version,
                    expr: first.expr.clone(),
                    replicate,
                    rung: first.rung,
                    request: serde_json::to_string(&request).expect("requests serialize"),
                });
            }
        }
        Ok(runs)
    }

    /// The fitness of a candidate from every stored run of its versions: per version, the mean
    /// over its runs that finished ok at the highest rung it reached; the version that ranks
    /// first ([`compare_ranked`]: a fitness, then the rung, then the ranking score
    /// [`crate::Reevaluation::score`]) stands for the form, the first one on ties. Without
    /// rungs and re-evaluation every version has one run and this is the best version's
    /// fitness.
    fn standing(&self, candidate: i64) -> Result<FitnessUpdate, SearchError> {
        let evaluations = self.store.candidate_evaluations(candidate)?;
        let mut best = FitnessUpdate {
            candidate,
            fitness: None,
            best_evaluation: None,
            runs: 0,
            fitness_se: None,
            rung: 0,
        };
        let mut best_key = (None, 0);
        let mut versions: Vec<usize> = evaluations.iter().map(|e| e.version).collect();
        versions.sort_unstable();
        versions.dedup();
        for v in versions {
            let rung = evaluations
                .iter()
                .filter(|e| e.version == v)
                .map(|e| e.rung)
                .max()
                .expect("a version has a run");
            let runs: Vec<&EvaluationRecord> = evaluations
                .iter()
                .filter(|e| e.version == v && e.rung == rung)
                .collect();
            let first = runs
                .iter()
                .min_by_key(|e| (e.replicate, e.id))
                .expect("a version has a run at its highest rung");
            let values: Vec<f64> = runs.iter().filter_map(|e| e.fitness).collect();
            let n = values.len();
            let mean = (n > 0).then(|| values.iter().sum::<f64>() / n as f64);
            let se = (n >= 2).then(|| {
                let m = mean.expect("n > 0");
                let var = values.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1) as f64;
                (var / n as f64).sqrt()
            });
            let key = (self.config.reevaluation.score(mean, n), rung);
            if best.best_evaluation.is_none()
                || compare_ranked(key, best_key) == std::cmp::Ordering::Less
            {
                best = FitnessUpdate {
                    candidate,
                    fitness: mean,
                    best_evaluation: Some(first.id),
                    runs: n,
                    fitness_se: se,
                    rung,
                };
                best_key = key;
            }
        }
        Ok(best)
    }

    /// The baselines of generation 0: one candidate each, trained once as written (not
    /// parametrized, no RNG drawn, so the candidates after them do not depend on them).
    fn baseline_plan(&self) -> Result<Vec<NewCandidate>, SearchError> {
        let mut plan = Vec::new();
        for (i, text) in self.config.baselines.iter().enumerate() {
            let expr = Expr::parse(text).map_err(|e| SearchError::Field {
                field: format!("baselines[{i}]"),
                expected: format!("an expression (`{text}`: {e})"),
            })?;
            let mut request: EvalRequest = self.config.training.clone();
            request.activation = expr.to_string();
            request.label = Some(format!("baseline-{i}"));
            plan.push(NewCandidate {
                form: expr.clone(),
                origin: None,
                state: CandidateState::Baseline,
                reason: None,
                duplicate_of: None,
                predicted: None,
                rung: self.config.fidelity.top(),
                versions: vec![(
                    expr.to_string(),
                    serde_json::to_string(&request).expect("requests serialize"),
                )],
            });
        }
        Ok(plan)
    }

    fn parse_stored(&self, c: &CandidateRecord) -> Result<Expr, SearchError> {
        Expr::parse(&c.expr).map_err(|e| SearchError::BadStoredExpression {
            path: self.store.path().to_owned(),
            candidate: c.id,
            message: e.to_string(),
        })
    }

    /// Ends a generation whose evaluations are all stored; returns how many new forms it had.
    ///
    /// Its new forms, and the earlier forms it re-evaluated, get their fitness from all their
    /// stored runs ([`Search::standing`]); duplicates inherit their original's; the best
    /// `population_size` of the previous population and the new forms survive, ranked by
    /// [`crate::Reevaluation::score`] (the fitness itself without re-evaluation), ties broken by
    /// candidate order.
    fn end_generation(&mut self, generation: usize, elapsed: f64) -> Result<usize, SearchError> {
        let candidates = self.store.generation_candidates(generation)?;
        let evaluations = self.store.generation_evaluations(generation)?;
        let mut fitness_of: HashMap<i64, FitnessUpdate> = HashMap::new();
        let mut updates = Vec::new();
        let mut new_forms = Vec::new();
        for c in &candidates {
            if !matches!(
                c.state,
                CandidateState::Pending | CandidateState::Evaluated | CandidateState::Baseline
            ) {
                continue;
            }
            let best = self.standing(c.id)?;
            fitness_of.insert(c.id, best);
            updates.push(best);
            // A baseline gets its fitness like any form, but never enters the population.
            if c.state != CandidateState::Baseline {
                new_forms.push(c.id);
            }
        }
        // Earlier forms (and baselines) this generation re-evaluated.
        let mut rerun: Vec<i64> = evaluations
            .iter()
            .filter(|e| !fitness_of.contains_key(&e.candidate))
            .map(|e| e.candidate)
            .collect();
        rerun.sort_unstable();
        rerun.dedup();
        for id in rerun {
            let best = self.standing(id)?;
            fitness_of.insert(id, best);
            updates.push(best);
        }
        for c in &candidates {
            if c.state != CandidateState::Duplicate {
                continue;
            }
            let Some(original) = c.duplicate_of else {
                continue;
            };
            let inherited = match fitness_of.get(&original) {
                Some(f) => FitnessUpdate {
                    candidate: c.id,
                    ..*f
                },
                None => {
                    let o = self.store.candidate(original)?;
                    o.map_or(
                        FitnessUpdate {
                            candidate: c.id,
                            fitness: None,
                            best_evaluation: None,
                            runs: 0,
                            fitness_se: None,
                            rung: 0,
                        },
                        |o| FitnessUpdate {
                            candidate: c.id,
                            fitness: o.fitness,
                            best_evaluation: o.best_evaluation,
                            runs: o.runs,
                            fitness_se: o.fitness_se,
                            rung: o.rung,
                        },
                    )
                }
            };
            updates.push(inherited);
        }
        // The pool: the previous population (with any new fitness) and the new forms.
        let mut pool: Vec<(i64, Option<f64>, usize, usize)> = Vec::new();
        if generation > 0 {
            for m in self.store.population(generation - 1)? {
                match fitness_of.get(&m.candidate) {
                    Some(f) => pool.push((m.candidate, f.fitness, f.runs, f.rung)),
                    None => {
                        let (runs, rung) = self
                            .store
                            .candidate(m.candidate)?
                            .map_or((1, 0), |c| (c.runs.max(1), c.rung));
                        pool.push((m.candidate, m.fitness, runs, rung));
                    }
                }
            }
        }
        let count = new_forms.len();
        for id in new_forms {
            let f = &fitness_of[&id];
            pool.push((id, f.fitness, f.runs, f.rung));
        }
        let re = &self.config.reevaluation;
        pool.sort_by(|a, b| {
            compare_ranked((re.score(a.1, a.2), a.3), (re.score(b.1, b.2), b.3)).then(a.0.cmp(&b.0))
        });
        pool.truncate(self.config.population_size);
        let survivors: Vec<Survivor> = pool
            .into_iter()
            .map(|(candidate, fitness, _, _)| Survivor { candidate, fitness })
            .collect();
        self.store
            .finish_generation(generation, &updates, &survivors, elapsed)?;
        Ok(count)
    }
}

/// How many distinct candidates `runs` are for.
fn distinct_candidates(runs: &[NewRun]) -> usize {
    runs.iter()
        .map(|r| r.candidate)
        .collect::<HashSet<_>>()
        .len()
}

/// Phase 2: stores the results the cache already holds, in evaluation order; returns the jobs
/// left for the executor, those of the children the pre-screen predicts best first (then in
/// evaluation order), or `None` when the run was told to stop early. The order changes only
/// which runs finish first, never the search's result.
fn serve_from_cache(recorder: &mut Recorder<'_>) -> Result<Option<Vec<Job>>, SearchError> {
    let mut ids: Vec<i64> = recorder.pending.keys().copied().collect();
    ids.sort_unstable();
    let predicted = |id: &i64| recorder.pending[id].predicted;
    ids.sort_by(|a, b| {
        crate::fitness::compare_best_first(predicted(a), predicted(b)).then(a.cmp(b))
    });
    let mut jobs = Vec::new();
    for id in ids {
        let request = recorder.pending[&id].request.clone();
        let cached = match recorder.cache {
            Some(cache) => cache.get(&request)?,
            None => None,
        };
        match cached {
            Some(result) => {
                let wall_seconds = result.wall_seconds;
                if !recorder.record(id, result, wall_seconds, 0, ResultSource::Cache)? {
                    return Ok(None);
                }
            }
            None => jobs.push(Job { id, request }),
        }
    }
    Ok(Some(jobs))
}
