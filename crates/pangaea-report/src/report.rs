//! `pangaea report`: an offline HTML page, SVG charts and a markdown leaderboard for a search
//! store.
//!
//! `index.html` inlines every chart as SVG and uses no script, font or stylesheet from outside
//! the file, so it opens from a copied directory with no network. The same charts are also
//! written as `.svg` files next to it, and the leaderboard as `leaderboard.md`.
//!
//! Contents: fitness of every evaluation with the best so far and ReLU's fitness (when the
//! search evaluated plain ReLU; otherwise the page says it is missing); f and f′ of the top
//! functions at their initial parameters (all 1); the learned parameters of the best function's
//! best run per site against training progress (median and min–max band over channels); the
//! top functions' shapes at their learned values per site, the initial shape dashed; the lineage
//! of the best function.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use pangaea_expr::Expr;
use pangaea_search::{EvaluationRecord, Store, TopForm};
use pangaea_wire::ParamSnapshot;

use crate::error::ReportError;
use crate::html::{esc, inline, write, STYLE};
use crate::plot;

/// How many functions the shapes chart and the leaderboard show.
const SHAPES: usize = 5;
const LEADERBOARD: usize = 20;
/// How many top functions get a learned-shape chart.
const LEARNED_SHAPES: usize = 3;

/// The files a report wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFiles {
    /// `index.html`.
    pub index: PathBuf,
    /// `leaderboard.md`.
    pub leaderboard: PathBuf,
    /// Every SVG chart.
    pub charts: Vec<PathBuf>,
}

fn fmt_fitness(f: Option<f64>) -> String {
    f.map_or_else(|| "—".to_owned(), |f| format!("{f:.4}"))
}

/// ReLU's fitness in the search, with its number of runs: the fitness of a baseline candidate
/// with ReLU's behaviour and no parameters (the mean over its runs), else the best evaluation of
/// such an expression, if the search ran one.
fn relu_fitness(
    baselines: &[pangaea_search::CandidateRecord],
    evaluations: &[EvaluationRecord],
) -> Option<(f64, usize)> {
    let relu = Expr::parse("relu(x)").ok()?.fingerprint();
    let is_relu = |text: &str| {
        Expr::parse(text)
            .map(|x| !x.is_parametric() && x.fingerprint() == relu)
            .unwrap_or(false)
    };
    if let Some(b) = baselines.iter().find(|b| is_relu(&b.expr)) {
        if let Some(f) = b.fitness {
            return Some((f, b.runs.max(1)));
        }
    }
    evaluations
        .iter()
        .filter(|e| is_relu(&e.expr))
        .filter_map(|e| e.fitness)
        .max_by(f64::total_cmp)
        .map(|f| (f, 1))
}

fn parse(what: String, text: &str) -> Result<Expr, ReportError> {
    Expr::parse(text).map_err(|e| ReportError::Bad {
        what,
        message: e.to_string(),
    })
}

/// The learned-parameter snapshots of an evaluation's result (empty when none were recorded),
/// with the run's number of epochs (to place the snapshots of older results, which have no
/// recorded progress).
fn snapshots(e: &EvaluationRecord) -> Result<(Vec<ParamSnapshot>, usize), ReportError> {
    let result = e.result().map_err(|message| ReportError::Bad {
        what: format!("evaluation {} result", e.id),
        message,
    })?;
    Ok(result
        .map(|r| (r.activation_params, r.epochs.len()))
        .unwrap_or_default())
}

fn leaderboard(top: &[TopForm], top_rung: usize) -> String {
    let mut s = String::from(
        "# Leaderboard\n\n| rank | candidate | generation | fitness | runs | rung | best version | form |\n\
         |---:|---:|---:|---:|---:|---:|---|---|\n",
    );
    for (i, t) in top.iter().enumerate() {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | `{}` | `{}` |",
            i + 1,
            t.candidate.id,
            t.candidate.generation,
            match t.candidate.fitness_se {
                Some(se) => format!("{} ± {se:.4}", fmt_fitness(t.candidate.fitness)),
                None => fmt_fitness(t.candidate.fitness),
            },
            t.candidate.runs,
            rung_text(t.candidate.rung, top_rung),
            t.best.expr,
            t.candidate.canonical
        );
    }
    if top_rung > 0 {
        s.push_str(
            "\nrung: the recipe the fitness was measured with, `full` for the search's training \
             recipe; fitness of a cheaper rung is not comparable with it.\n",
        );
    }
    s
}

/// `full`, or `r of top` for a cheaper rung.
fn rung_text(rung: usize, top: usize) -> String {
    if rung >= top {
        "full".to_owned()
    } else {
        format!("{rung} of {top}")
    }
}

/// A correlation with two decimals, `—` when there is none.
fn rho(r: Option<f64>) -> String {
    r.map_or("—".to_owned(), |r| format!("{r:.2}"))
}

/// The markdown table of [`pangaea_search::rungs::agreement`].
fn rungs_table(rows: &[pangaea_search::rungs::RungAgreement]) -> String {
    let mut s = String::from(
        "| from rung | to rung | versions | ρ, val accuracy | ρ, −val loss |\n|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} |",
            r.from,
            r.to,
            r.versions,
            rho(r.accuracy),
            rho(r.loss)
        );
    }
    s
}

/// Writes the report of `store` into `out` (created if needed).
pub fn write_report(store: &Store, out: &Path) -> Result<ReportFiles, ReportError> {
    std::fs::create_dir_all(out).map_err(|source| ReportError::Write {
        path: out.to_owned(),
        source,
    })?;
    let config = store.config()?;
    let evaluations = store.evaluations()?;
    let points = store.best_so_far()?;
    let top = store.top_forms(LEADERBOARD)?;
    let relu_runs = relu_fitness(&store.baselines()?, &evaluations);
    let relu = relu_runs.map(|r| r.0);
    let claim_text = match crate::claim::search_claim(store)? {
        (claim, Some(reference)) => {
            let text = claim.sentence(&reference);
            let mut chars = text.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_uppercase().collect::<String>() + chars.as_str()
            }) + "."
        }
        (_, None) => "No baseline to compare with.".to_owned(),
    };

    let mut charts = Vec::new();
    let mut sections = String::new();

    // 1. Progress.
    let fitness_svg = plot::fitness_svg(&points, relu)?;
    charts.push(write(out.join("fitness.svg"), &fitness_svg)?);
    let relu_note = match relu_runs {
        Some((r, 1)) => format!("ReLU's fitness (dashed): {r:.4}, one run."),
        Some((r, n)) => format!("ReLU's fitness (dashed): {r:.4}, the mean of {n} runs."),
        None => "ReLU baseline: missing (the search did not evaluate plain <code>relu(x)</code>)."
            .to_owned(),
    };
    let _ = writeln!(
        sections,
        "<section id=\"fitness\"><h2>Fitness over the search</h2>\
         <p class=\"claim\"><strong>{}</strong></p>\
         <p>{} finished evaluations; points: each evaluation's fitness ({}), line: best so far. \
         {relu_note}</p>{}</section>",
        esc(&claim_text),
        points.len(),
        match config.fitness {
            pangaea_search::FitnessMetric::ValAccuracy => "validation accuracy",
            pangaea_search::FitnessMetric::ValLoss => "negated validation loss",
        },
        inline(&fitness_svg)
    );

    // 2. Shapes of the top functions.
    let mut functions = Vec::new();
    for (k, t) in top.iter().take(SHAPES).enumerate() {
        let e = parse(format!("evaluation {}", t.best.id), &t.best.expr)?;
        functions.push(plot::Curve {
            label: String::new(),
            expr: e,
            params: [1.0; 3],
            color: k,
            dashed: false,
        });
    }
    let shapes_svg = plot::function_svg(&functions, (-5.0, 5.0), (900, 420), None, Some(10.0))?;
    charts.push(write(out.join("shapes.svg"), &shapes_svg)?);
    let mut legend = String::from("<ol class=\"legend\">");
    for (k, t) in top.iter().take(SHAPES).enumerate() {
        let label = &t.best.expr;
        let c = plot::color(k);
        let _ = write!(
            legend,
            "<li><span class=\"swatch\" style=\"background:rgb({},{},{})\"></span><code>{}</code></li>",
            c.0,
            c.1,
            c.2,
            esc(label)
        );
    }
    legend.push_str("</ol>");
    let _ = writeln!(
        sections,
        "<section id=\"shapes\"><h2>Top functions</h2><p>f(x) and f′(x) on [−5, 5] with every \
         parameter at its initial value 1.</p>{}{legend}</section>",
        inline(&shapes_svg)
    );

    // 3. Learned parameters of the best function, over training.
    let _ = write!(
        sections,
        "<section id=\"params\"><h2>Learned parameters of the best function</h2>"
    );
    match top.first() {
        None => sections.push_str("<p>No evaluated candidate yet.</p>"),
        Some(best) => {
            let (snaps, epochs) = snapshots(&best.best)?;
            let mut names: Vec<String> = snaps
                .iter()
                .flat_map(|s| s.sites.iter().flat_map(|site| site.params.keys().cloned()))
                .collect();
            names.sort();
            names.dedup();
            let _ = write!(
                sections,
                "<p><code>{}</code> (evaluation {}, one run), {} snapshots over training.</p>",
                esc(&best.best.expr),
                best.best.id,
                snaps.len()
            );
            if names.is_empty() {
                sections.push_str("<p>No parameters were recorded for this run.</p>");
            }
            for name in names {
                let svg = plot::params_svg(&name, &snaps, epochs)?;
                charts.push(write(out.join(format!("params-{name}.svg")), &svg)?);
                sections.push_str(&inline(&svg));
            }
        }
    }
    sections.push_str("</section>\n");

    // 4. Shapes at the learned values, per site.
    sections.push_str(
        "<section id=\"learned\"><h2>Learned shapes</h2><p>Each top function's f and f′ at the \
         median over channels of its parameters at the end of its best run, per site (at most \
         seven sites, evenly spread through the network); dashed: the initial shape, every \
         parameter 1. Sites that drift apart show a function specialising per layer.</p>",
    );
    let mut drawn = 0;
    for (k, t) in top.iter().take(LEARNED_SHAPES).enumerate() {
        let expr = parse(format!("evaluation {}", t.best.id), &t.best.expr)?;
        if !expr.is_parametric() {
            continue;
        }
        let (snaps, _) = snapshots(&t.best)?;
        let caption = format!("#{} {}", k + 1, t.best.expr);
        if let Some(svg) = plot::learned_shapes_svg(&expr, &snaps, &caption)? {
            charts.push(write(out.join(format!("learned-{}.svg", k + 1)), &svg)?);
            sections.push_str(&inline(&svg));
            drawn += 1;
        }
    }
    if drawn == 0 {
        sections.push_str("<p>No top function has learned parameters recorded.</p>");
    }
    sections.push_str("</section>\n");

    // 5. Lineage of the best function.
    sections.push_str("<section id=\"lineage\"><h2>Lineage of the best function</h2>");
    if let Some(best) = top.first() {
        let lineage = store.lineage(best.candidate.id)?;
        sections.push_str(
            "<table><tr><th>generation</th><th>candidate</th><th>form</th><th>fitness</th>\
             <th>mutation</th></tr>",
        );
        for c in &lineage {
            let mutation = match (&c.mutation, &c.mutation_detail) {
                (Some(m), Some(d)) => format!("{m}: {d}"),
                (Some(m), None) => m.clone(),
                _ => "initial population".to_owned(),
            };
            let _ = write!(
                sections,
                "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                c.generation,
                c.id,
                esc(&c.expr),
                fmt_fitness(c.fitness),
                esc(&mutation)
            );
        }
        sections.push_str("</table>");
    }
    sections.push_str("</section>\n");

    // 5. Leaderboard.
    let board = leaderboard(&top, config.fidelity.top());
    let leaderboard_path = write(out.join("leaderboard.md"), &board)?;
    sections.push_str("<section id=\"leaderboard\"><h2>Leaderboard</h2><table><tr><th>rank</th><th>candidate</th><th>fitness</th><th>rung</th><th>best version</th></tr>");
    for (i, t) in top.iter().enumerate() {
        let _ = write!(
            sections,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            i + 1,
            t.candidate.id,
            fmt_fitness(t.candidate.fitness),
            rung_text(t.candidate.rung, config.fidelity.top()),
            esc(&t.best.expr)
        );
    }
    sections.push_str(
        "</table><p>Also in <a href=\"leaderboard.md\">leaderboard.md</a>.</p></section>\n",
    );

    // 6. Rungs: how well the cheap rungs predicted the expensive ones.
    let agreement = pangaea_search::rungs::agreement(store)?;
    if !agreement.is_empty() {
        let table = rungs_table(&agreement);
        write(
            out.join("rungs.md"),
            &format!(
                "# Rungs\n\nSpearman ρ between a version's fitness at the lower rung (by each \
                 metric) and its validation accuracy at the higher one, over the versions \
                 trained at both (promoted ones: a restricted range).\n\n{table}"
            ),
        )?;
        sections.push_str(
            "<section id=\"rungs\"><h2>Rungs</h2><p>Spearman ρ between a version's fitness at \
             the lower rung (by each metric) and its validation accuracy at the higher one, over \
             the versions trained at both; promoted versions are the best of their rung, so ρ \
             is measured on a restricted range. The column with the higher ρ is the metric that \
             ranks better under this recipe.</p><table><tr><th>from rung</th><th>to rung</th>\
             <th>versions</th><th>ρ, val accuracy</th><th>ρ, −val loss</th></tr>",
        );
        for r in &agreement {
            let _ = write!(
                sections,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                r.from,
                r.to,
                r.versions,
                rho(r.accuracy),
                rho(r.loss)
            );
        }
        sections.push_str("</table><p>Also in <a href=\"rungs.md\">rungs.md</a>.</p></section>\n");
    }

    let title = format!("pangaea search report — {}", store.path().display());
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{t}</title><style>{STYLE}</style></head><body><h1>{t}</h1>\
         <p>{} on {}, {} epoch{} per evaluation; {} evaluations stored.</p>\n{sections}</body></html>\n",
        esc(config.training.architecture.name()),
        esc(config.training.dataset.name.as_str()),
        config.training.epochs,
        if config.training.epochs == 1 { "" } else { "s" },
        evaluations.len(),
        t = esc(&title),
    );
    let index = write(out.join("index.html"), &html)?;
    Ok(ReportFiles {
        index,
        leaderboard: leaderboard_path,
        charts,
    })
}
