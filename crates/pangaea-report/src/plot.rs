//! The SVG charts of a report, drawn with plotters' SVG backend into strings (no files, no
//! fonts: text is emitted as SVG `<text>` and rendered by the browser).

use pangaea_expr::{Expr, Program};
use pangaea_search::BestPoint;
use pangaea_train::ParamSnapshot;
use plotters::prelude::*;

use crate::error::ReportError;

const W: u32 = 900;
const H: u32 = 420;

fn plot_err(file: &str) -> impl Fn(String) -> ReportError + '_ {
    move |message| ReportError::Plot {
        file: file.to_owned(),
        message,
    }
}

/// A palette of distinguishable colours, cycled.
pub(crate) fn color(i: usize) -> RGBColor {
    const P: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(23, 190, 207),
    ];
    P[i % P.len()]
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-6);
    (lo - pad, hi + pad)
}

/// Fitness of every finished evaluation (points), the best so far (line) and ReLU's fitness
/// (dashed horizontal line) when known.
pub(crate) fn fitness_svg(points: &[BestPoint], relu: Option<f64>) -> Result<String, ReportError> {
    let e = plot_err("fitness.svg");
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
        let n = points.len().max(1) as f64;
        let (lo, hi) = range(points.iter().filter_map(|p| p.fitness).chain(relu));
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..n + 1.0, lo..hi)
            .map_err(|x| e(x.to_string()))?;
        chart
            .configure_mesh()
            .x_desc("evaluation")
            .y_desc("fitness")
            .draw()
            .map_err(|x| e(x.to_string()))?;
        chart
            .draw_series(points.iter().enumerate().filter_map(|(i, p)| {
                p.fitness
                    .filter(|f| f.is_finite())
                    .map(|f| Circle::new(((i + 1) as f64, f), 2, color(0).mix(0.5).filled()))
            }))
            .map_err(|x| e(x.to_string()))?
            .label("evaluation")
            .legend(|(x, y)| Circle::new((x + 10, y), 3, color(0).filled()));
        chart
            .draw_series(LineSeries::new(
                points
                    .iter()
                    .enumerate()
                    .filter_map(|(i, p)| p.best.map(|b| ((i + 1) as f64, b))),
                color(3).stroke_width(2),
            ))
            .map_err(|x| e(x.to_string()))?
            .label("best so far")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color(3).stroke_width(2)));
        if let Some(r) = relu {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(0.0, r), (n + 1.0, r)],
                    6,
                    4,
                    BLACK.stroke_width(1),
                ))
                .map_err(|x| e(x.to_string()))?
                .label("ReLU")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK));
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::LowerRight)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|x| e(x.to_string()))?;
        root.present().map_err(|x| e(x.to_string()))?;
    }
    Ok(svg)
}

/// f(x) (left) and f′(x) (right) on [−5, 5] for each `(label, expression, parameters)`.
pub(crate) fn shapes_svg(functions: &[(String, Expr, [f64; 3])]) -> Result<String, ReportError> {
    let e = plot_err("shapes.svg");
    let xs: Vec<f64> = (0..=400).map(|i| -5.0 + 0.025 * f64::from(i)).collect();
    let curves: Vec<(Vec<f64>, Vec<f64>)> = functions
        .iter()
        .map(|(_, expr, p)| {
            let ev = Program::new(expr).eval_f64(&xs, *p);
            (ev.y, ev.dy_dx)
        })
        .collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
        let (left, right) = root.split_horizontally(W / 2);
        for (panel, area, pick) in [("f(x)", left, 0usize), ("f'(x)", right, 1)] {
            let values =
                |c: &(Vec<f64>, Vec<f64>)| if pick == 0 { c.0.clone() } else { c.1.clone() };
            let (lo, hi) = range(curves.iter().flat_map(&values));
            // Clip to a readable window: exploding functions would flatten the others.
            let (lo, hi) = (lo.max(-10.0), hi.min(10.0).max(lo.max(-10.0) + 1e-6));
            let mut chart = ChartBuilder::on(&area)
                .caption(panel, ("sans-serif", 18))
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(44)
                .build_cartesian_2d(-5.0..5.0, lo..hi)
                .map_err(|x| e(x.to_string()))?;
            chart
                .configure_mesh()
                .draw()
                .map_err(|x| e(x.to_string()))?;
            for (k, c) in curves.iter().enumerate() {
                let ys = values(c);
                // Break the line at non-finite or clipped points.
                let mut segment = Vec::new();
                let mut segments = Vec::new();
                for (&x, &y) in xs.iter().zip(&ys) {
                    if y.is_finite() && y >= lo && y <= hi {
                        segment.push((x, y));
                    } else if !segment.is_empty() {
                        segments.push(std::mem::take(&mut segment));
                    }
                }
                segments.push(segment);
                for s in segments.into_iter().filter(|s| s.len() > 1) {
                    chart
                        .draw_series(LineSeries::new(s, color(k).stroke_width(2)))
                        .map_err(|x| e(x.to_string()))?;
                }
            }
        }
        root.present().map_err(|x| e(x.to_string()))?;
    }
    Ok(svg)
}

/// One snapshot of one site: (epoch, min, median, max) over channels.
type Band = (f64, f64, f64, f64);

/// For one parameter name: per site, the band min–max over channels and the median, against
/// the epoch of each snapshot.
pub(crate) fn params_svg(name: &str, snapshots: &[ParamSnapshot]) -> Result<String, ReportError> {
    let file = format!("params-{name}.svg");
    let e = plot_err(&file);
    // site → [(epoch, min, median, max)]
    let mut sites: Vec<(String, Vec<Band>)> = Vec::new();
    for s in snapshots {
        for site in &s.sites {
            let Some(values) = site.params.get(name) else {
                continue;
            };
            let mut v: Vec<f64> = values
                .iter()
                .map(|&x| f64::from(x))
                .filter(|x| x.is_finite())
                .collect();
            if v.is_empty() {
                continue;
            }
            v.sort_by(f64::total_cmp);
            let median = if v.len() % 2 == 1 {
                v[v.len() / 2]
            } else {
                (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
            };
            let point = (s.epoch as f64, v[0], median, v[v.len() - 1]);
            match sites.iter_mut().find(|(n, _)| *n == site.site) {
                Some((_, pts)) => pts.push(point),
                None => sites.push((site.site.clone(), vec![point])),
            }
        }
    }
    let max_epoch = snapshots.iter().map(|s| s.epoch).max().unwrap_or(1).max(1) as f64;
    let (lo, hi) = range(
        sites
            .iter()
            .flat_map(|(_, p)| p.iter().flat_map(|q| [q.1, q.3])),
    );
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                format!("{name} per site (band: min–max over channels, line: median)"),
                ("sans-serif", 16),
            )
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..max_epoch, lo..hi)
            .map_err(|x| e(x.to_string()))?;
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(name)
            .draw()
            .map_err(|x| e(x.to_string()))?;
        for (k, (site, pts)) in sites.iter().enumerate() {
            let c = color(k);
            let mut band: Vec<(f64, f64)> = pts.iter().map(|p| (p.0, p.3)).collect();
            band.extend(pts.iter().rev().map(|p| (p.0, p.1)));
            chart
                .draw_series(std::iter::once(Polygon::new(band, c.mix(0.15).filled())))
                .map_err(|x| e(x.to_string()))?;
            chart
                .draw_series(LineSeries::new(
                    pts.iter().map(|p| (p.0, p.2)),
                    c.stroke_width(2),
                ))
                .map_err(|x| e(x.to_string()))?
                .label(site.clone())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2))
                });
        }
        if !sites.is_empty() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(|x| e(x.to_string()))?;
        }
        root.present().map_err(|x| e(x.to_string()))?;
    }
    Ok(svg)
}
