//! The study's files: the table as markdown, JSON and LaTeX, and an offline HTML page with the
//! same table, the general-or-specialised reading, a strip plot of the runs per cell, and the
//! learned parameters of the parametric functions per cell (over training, and the shapes at
//! the learned values).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use pangaea_expr::Expr;
use plotters::prelude::*;

use crate::error::ReportError;
use crate::html::{esc, inline, write, STYLE};
use crate::plot;
use crate::study::run::StudyResults;
use crate::study::table::{format_p, StudyTable};
use crate::table::REFERENCE;

/// The files a study wrote.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyFiles {
    /// `index.html`.
    pub index: PathBuf,
    /// `table.md`, `table.json`, `table.tex`.
    pub tables: Vec<PathBuf>,
    /// Every SVG chart.
    pub charts: Vec<PathBuf>,
}

/// Writes the table files and the page into `out` (created).
pub fn write_study(study: &StudyResults, out: &Path) -> Result<StudyFiles, ReportError> {
    std::fs::create_dir_all(out).map_err(|source| ReportError::Write {
        path: out.to_owned(),
        source,
    })?;
    let table = StudyTable::from_results(study);
    let tables = vec![
        write(out.join("table.md"), &table.to_markdown())?,
        write(out.join("table.json"), &table.to_json())?,
        write(out.join("table.tex"), &table.to_latex())?,
    ];
    let mut charts = Vec::new();
    let mut body = String::new();
    let _ = write!(
        body,
        "<h1>{}</h1><p>{} functions × {} cells × {} runs: {} of {} runs finished. Test accuracy \
         (%), mean ± std; <strong>bold</strong>: best of the column; p: Welch's t-test against \
         ReLU in the same cell; W / T / L: cells where the function is significantly better than \
         / equal to / worse than ReLU (p &lt; {}; a run that diverged makes the cell a loss).</p>",
        esc(&table.title),
        study.plan.functions.len(),
        study.plan.cells.len(),
        study.plan.runs_per_function,
        study.finished(),
        study.plan.runs.len(),
        crate::study::table::ALPHA,
    );
    body.push_str(&html_table(&table));
    body.push_str("<h2>General or specialised</h2><ul>");
    for r in table.rows.iter().filter(|r| r.reading.is_some()) {
        let _ = write!(
            body,
            "<li><code>{}</code> ({}): {}</li>",
            esc(&r.activation),
            esc(&r.origin),
            esc(r.reading.as_deref().unwrap_or_default())
        );
    }
    body.push_str("</ul><h2>Runs per cell</h2><p>Each dot is one run's test accuracy; the bar is the mean; the dashed line is ReLU's mean.</p>");
    for (c, cell) in table.cells.iter().enumerate() {
        let svg = strip_svg(&table, c)?;
        charts.push(write(out.join(format!("runs-{}.svg", c + 1)), &svg)?);
        let _ = write!(body, "<h3>{}</h3>{}", esc(cell), inline(&svg));
    }
    body.push_str(
        "<h2>Learned parameters</h2><p>For each parametric function and cell, its first run: \
         the parameters per site over training (median over channels, min–max band), and f, f′ \
         at the learned values per site with the initial shape dashed.</p>",
    );
    let mut drawn = 0;
    for (f, function) in study.plan.functions.iter().enumerate() {
        let Ok(expr) = Expr::parse(&function.activation) else {
            continue; // a baseline name
        };
        if !expr.is_parametric() {
            continue;
        }
        for (c, cell) in study.plan.cells.iter().enumerate() {
            let first = study
                .plan
                .runs
                .iter()
                .zip(&study.results)
                .find(|(r, res)| r.cell == c && r.function == f && res.is_some());
            let Some((_, Some(result))) = first else {
                continue;
            };
            if result.activation_params.is_empty() {
                continue;
            }
            // The first is open, so that the page shows one without a click.
            let _ = write!(
                body,
                "<details{}><summary><code>{}</code> in {}</summary>",
                if drawn == 0 { " open" } else { "" },
                esc(&function.activation),
                esc(&cell.name)
            );
            let mut names: Vec<String> = result
                .activation_params
                .iter()
                .flat_map(|s| s.sites.iter().flat_map(|site| site.params.keys().cloned()))
                .collect();
            names.sort();
            names.dedup();
            for name in names {
                let svg = plot::params_svg(&name, &result.activation_params, result.epochs.len())?;
                charts.push(write(
                    out.join(format!("params-f{}-c{}-{name}.svg", f + 1, c + 1)),
                    &svg,
                )?);
                body.push_str(&inline(&svg));
            }
            let caption = format!("{} in {}", function.activation, cell.name);
            if let Some(svg) = plot::learned_shapes_svg(&expr, &result.activation_params, &caption)?
            {
                charts.push(write(
                    out.join(format!("learned-f{}-c{}.svg", f + 1, c + 1)),
                    &svg,
                )?);
                body.push_str(&inline(&svg));
            }
            body.push_str("</details>");
            drawn += 1;
        }
    }
    if drawn == 0 {
        body.push_str("<p>No parametric function with recorded parameters.</p>");
    }
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
         <style>{STYLE}</style></head><body>{body}</body></html>\n",
        esc(&table.title)
    );
    let index = write(out.join("index.html"), &html)?;
    Ok(StudyFiles {
        index,
        tables,
        charts,
    })
}

/// The table as HTML.
fn html_table(table: &StudyTable) -> String {
    let mut s = String::from("<table><tr><th>function</th><th>origin</th>");
    for c in &table.cells {
        let _ = write!(s, "<th>{}</th>", esc(c));
    }
    s.push_str("<th>W / T / L</th></tr>");
    for r in &table.rows {
        let _ = write!(
            s,
            "<tr><td><code>{}</code></td><td>{}</td>",
            esc(&r.activation),
            esc(&r.origin)
        );
        for e in &r.entries {
            let mut text = match e.summary.n {
                0 => "—".to_owned(),
                1 => format!("{:.2} (1 run)", 100.0 * e.summary.mean),
                _ => format!(
                    "{:.2} ± {:.2}",
                    100.0 * e.summary.mean,
                    100.0 * e.summary.std
                ),
            };
            if e.best {
                text = format!("<strong>{text}</strong>");
            }
            if let Some(w) = e.vs_relu {
                let _ = write!(text, "<br><small>p {}</small>", format_p(w.p));
            }
            if e.summary.n < table.runs_per_function {
                let _ = write!(
                    text,
                    "<br><small>{} of {} runs</small>",
                    e.summary.n, table.runs_per_function
                );
            }
            let _ = write!(s, "<td>{text}</td>");
        }
        if r.activation == REFERENCE {
            s.push_str("<td>reference</td></tr>");
        } else {
            let _ = write!(s, "<td>{} / {} / {}</td></tr>", r.wins, r.ties, r.losses);
        }
    }
    s.push_str("</table>");
    s
}

/// One cell's runs: a row per function, a dot per run (spread vertically so that equal values
/// stay visible), the mean as a bar, ReLU's mean dashed.
fn strip_svg(table: &StudyTable, cell: usize) -> Result<String, ReportError> {
    let file = format!("runs-{}.svg", cell + 1);
    let e = |x: String| ReportError::Plot {
        file: file.clone(),
        message: x,
    };
    let rows = table.rows.len();
    let values: Vec<f64> = table
        .rows
        .iter()
        .flat_map(|r| r.entries[cell].test_accuracies.iter().map(|a| 100.0 * a))
        .collect();
    let (lo, hi) = plot::range_of(values.iter().copied());
    let height = 80 + 44 * rows as u32;
    let labels: Vec<String> = table
        .rows
        .iter()
        .map(|r| {
            let mut a = r.activation.clone();
            if a.chars().count() > 38 {
                a = a.chars().take(36).collect::<String>() + "…";
            }
            a
        })
        .collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (900, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&table.cells[cell], ("sans-serif", 16))
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(260)
            .build_cartesian_2d(lo..hi, -0.5..rows as f64 - 0.5)
            .map_err(|x| e(x.to_string()))?;
        chart
            .configure_mesh()
            .x_desc("test accuracy (%)")
            .y_labels(rows.max(1))
            .y_label_formatter(&|y| {
                let i = y.round();
                if (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < rows {
                    labels[rows - 1 - i as usize].clone()
                } else {
                    String::new()
                }
            })
            .disable_y_mesh()
            .draw()
            .map_err(|x| e(x.to_string()))?;
        for (k, r) in table.rows.iter().enumerate() {
            let y = (rows - 1 - k) as f64;
            let entry = &r.entries[cell];
            let n = entry.test_accuracies.len();
            chart
                .draw_series(entry.test_accuracies.iter().enumerate().map(|(i, a)| {
                    let jitter = if n > 1 {
                        0.3 * (i as f64 / (n - 1) as f64 - 0.5)
                    } else {
                        0.0
                    };
                    Circle::new((100.0 * a, y + jitter), 4, plot::color(k).mix(0.8).filled())
                }))
                .map_err(|x| e(x.to_string()))?;
            if !entry.failures.is_empty() {
                // Runs without a test accuracy are named on their row, not silently missing.
                let text = if entry.diverged == entry.failures.len() {
                    format!("{} diverged", entry.diverged)
                } else {
                    format!("{} without a test accuracy", entry.failures.len())
                };
                chart
                    .draw_series(std::iter::once(Text::new(
                        text,
                        (lo + 0.01 * (hi - lo), y + 0.1),
                        ("sans-serif", 13).into_font().color(&plot::color(k)),
                    )))
                    .map_err(|x| e(x.to_string()))?;
            }
            if entry.summary.n > 0 {
                let m = 100.0 * entry.summary.mean;
                chart
                    .draw_series(LineSeries::new(
                        vec![(m, y - 0.3), (m, y + 0.3)],
                        plot::color(k).stroke_width(3),
                    ))
                    .map_err(|x| e(x.to_string()))?;
            }
        }
        if let Some(relu) = table
            .rows
            .iter()
            .find(|r| r.activation == REFERENCE)
            .map(|r| r.entries[cell].summary)
            .filter(|s| s.n > 0)
        {
            let m = 100.0 * relu.mean;
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(m, -0.5), (m, rows as f64 - 0.5)],
                    6,
                    4,
                    BLACK.stroke_width(1),
                ))
                .map_err(|x| e(x.to_string()))?;
        }
        root.present().map_err(|x| e(x.to_string()))?;
    }
    Ok(svg)
}
