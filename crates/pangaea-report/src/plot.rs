//! The SVG charts of the report and of `pangaea expr plot`, drawn with plotters' SVG backend
//! into strings (no files, no fonts: text is emitted as SVG `<text>` and rendered by the
//! browser).

use pangaea_expr::{Expr, Param, Program, PARAM_INIT};
use pangaea_search::BestPoint;
use pangaea_wire::ParamSnapshot;
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
pub fn color(i: usize) -> RGBColor {
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

/// The finite range of `values`, padded by 5 %; (0, 1) when none is finite.
pub(crate) fn range_of(values: impl Iterator<Item = f64>) -> (f64, f64) {
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
        let (lo, hi) = range_of(points.iter().filter_map(|p| p.fitness).chain(relu));
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
        // One colour per rung (multi-fidelity searches): the top rung is the full recipe.
        let top = points.iter().map(|p| p.rung).max().unwrap_or(0);
        for rung in 0..=top {
            let c = color(if rung == top { 0 } else { rung + 4 });
            let label = match (top, rung == top) {
                (0, _) => "evaluation".to_owned(),
                (_, true) => format!("rung {rung} (full recipe)"),
                (_, false) => format!("rung {rung}"),
            };
            chart
                .draw_series(points.iter().enumerate().filter_map(|(i, p)| {
                    p.fitness
                        .filter(|f| f.is_finite() && p.rung == rung)
                        .map(|f| Circle::new(((i + 1) as f64, f), 2, c.mix(0.5).filled()))
                }))
                .map_err(|x| e(x.to_string()))?
                .label(label)
                .legend(move |(x, y)| Circle::new((x + 10, y), 3, c.filled()));
        }
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

/// One curve of a [`function_svg`] plot: an expression at parameter values.
#[derive(Debug, Clone, PartialEq)]
pub struct Curve {
    /// The legend text; empty for none.
    pub label: String,
    /// The function.
    pub expr: Expr,
    /// α, β, γ.
    pub params: [f64; 3],
    /// Index into the palette ([`color`]).
    pub color: usize,
    /// Drawn dashed (for a reference shape, e.g. the initial one next to a learned one).
    pub dashed: bool,
}

/// f(x) (left panel) and f′(x) (right panel) of every curve over `range`, as an SVG document.
///
/// Non-finite values break a curve rather than being clipped or patched. With `clip`, each
/// panel's value axis is limited to [−clip, clip] (points outside break the curve too), so that
/// one exploding function does not flatten the others. Used by `pangaea expr plot` (one curve)
/// and by the report (the top functions).
pub fn function_svg(
    curves: &[Curve],
    range: (f64, f64),
    size: (u32, u32),
    caption: Option<&str>,
    clip: Option<f64>,
) -> Result<String, ReportError> {
    const POINTS: usize = 801;
    let e = plot_err("function plot");
    let (lo_x, hi_x) = range;
    let xs: Vec<f64> = (0..POINTS)
        .map(|i| lo_x + (hi_x - lo_x) * i as f64 / (POINTS - 1) as f64)
        .collect();
    let evaluated: Vec<(Vec<f64>, Vec<f64>)> = curves
        .iter()
        .map(|c| {
            let ev = Program::new(&c.expr).eval_f64(&xs, c.params);
            (ev.y, ev.dy_dx)
        })
        .collect();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE).map_err(|x| e(x.to_string()))?;
        let root = match caption {
            Some(text) => root
                .titled(text, ("sans-serif", 18))
                .map_err(|x| e(x.to_string()))?,
            None => root,
        };
        let (left, right) = root.split_horizontally(size.0 / 2);
        for (panel, area, pick) in [("f(x)", left, 0usize), ("f'(x)", right, 1)] {
            fn values(c: &(Vec<f64>, Vec<f64>), pick: usize) -> &[f64] {
                if pick == 0 {
                    &c.0
                } else {
                    &c.1
                }
            }
            let (mut lo, mut hi) = range_of(
                evaluated
                    .iter()
                    .flat_map(|c| values(c, pick).iter().copied()),
            );
            if let Some(limit) = clip {
                lo = lo.max(-limit);
                hi = hi.min(limit).max(lo + 1e-6);
            }
            let mut chart = ChartBuilder::on(&area)
                .caption(panel, ("sans-serif", 16))
                .margin(10)
                .x_label_area_size(30)
                .y_label_area_size(48)
                .build_cartesian_2d(lo_x..hi_x, lo..hi)
                .map_err(|x| e(x.to_string()))?;
            chart
                .configure_mesh()
                .x_desc("x")
                .light_line_style(WHITE.mix(0.0))
                .draw()
                .map_err(|x| e(x.to_string()))?;
            let mut labelled = false;
            for (c, ev) in curves.iter().zip(&evaluated) {
                let style = color(c.color).stroke_width(2);
                for (j, segment) in segments(&xs, values(ev, pick), lo, hi)
                    .into_iter()
                    .enumerate()
                {
                    let series = if c.dashed {
                        chart.draw_series(DashedLineSeries::new(segment, 6, 4, style))
                    } else {
                        chart.draw_series(LineSeries::new(segment, style))
                    }
                    .map_err(|x| e(x.to_string()))?;
                    if j == 0 && pick == 0 && !c.label.is_empty() {
                        labelled = true;
                        series.label(c.label.clone()).legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 16, y)], style)
                        });
                    }
                }
            }
            if labelled {
                chart
                    .configure_series_labels()
                    .background_style(WHITE.mix(0.8))
                    .border_style(BLACK)
                    .position(SeriesLabelPosition::UpperLeft)
                    .draw()
                    .map_err(|x| e(x.to_string()))?;
            }
        }
        root.present().map_err(|x| e(x.to_string()))?;
    }
    Ok(svg)
}

/// Splits a curve into runs of points that are finite and inside [lo, hi].
fn segments(xs: &[f64], ys: &[f64], lo: f64, hi: f64) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    for (&x, &y) in xs.iter().zip(ys) {
        if y.is_finite() && y >= lo && y <= hi {
            current.push((x, y));
        } else if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Per site of one snapshot, the median over channels of α, β and γ (the initial value 1 where
/// the site has no such parameter): the values at which the report draws a learned shape.
pub fn site_medians(snapshot: &ParamSnapshot) -> Vec<(String, [f64; 3])> {
    snapshot
        .sites
        .iter()
        .map(|site| {
            let mut params = [PARAM_INIT; 3];
            for p in Param::ALL {
                if let Some(m) = site
                    .params
                    .get(p.name())
                    .and_then(|v| crate::stats::median(v.iter().map(|&x| f64::from(x))))
                {
                    params[p.index()] = m;
                }
            }
            (site.site.clone(), params)
        })
        .collect()
}

/// At most `n` of `len` indices, evenly spread, first and last included.
pub(crate) fn spread(len: usize, n: usize) -> Vec<usize> {
    if len <= n {
        return (0..len).collect();
    }
    let mut picked: Vec<usize> = (0..n)
        .map(|k| (k * (len - 1) + (n - 1) / 2) / (n - 1).max(1))
        .collect();
    picked.dedup();
    picked
}

/// One snapshot of one site: (progress, min, median, max) over channels.
type Band = (f64, f64, f64, f64);

/// For one parameter name: per site, the band min–max over channels and the median, against
/// training progress (the fraction of the run's steps done at each snapshot; `epochs` places
/// the snapshots of older results, which have only their epoch).
pub(crate) fn params_svg(
    name: &str,
    snapshots: &[ParamSnapshot],
    epochs: usize,
) -> Result<String, ReportError> {
    let file = format!("params-{name}.svg");
    let e = plot_err(&file);
    // site → [(progress, min, median, max)]
    let mut sites: Vec<(String, Vec<Band>)> = Vec::new();
    for s in snapshots {
        for site in &s.sites {
            let Some(values) = site.params.get(name) else {
                continue;
            };
            let v = values.iter().map(|&x| f64::from(x));
            let Some(median) = crate::stats::median(v.clone()) else {
                continue;
            };
            let (lo, hi) = v
                .filter(|x| x.is_finite())
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), x| {
                    (lo.min(x), hi.max(x))
                });
            let point = (s.progress_of(epochs), lo, median, hi);
            match sites.iter_mut().find(|(n, _)| *n == site.site) {
                Some((_, pts)) => pts.push(point),
                None => sites.push((site.site.clone(), vec![point])),
            }
        }
    }
    let (lo, hi) = range_of(
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
            .build_cartesian_2d(0.0..1.0, lo..hi)
            .map_err(|x| e(x.to_string()))?;
        chart
            .configure_mesh()
            .x_desc("fraction of training done")
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

/// How many sites a learned-shape chart draws at most (evenly spread over the network).
const SHAPE_SITES: usize = 7;

/// The learned-shape chart of one evaluation: f and f′ at the median learned parameters of
/// each site (the last snapshot; at most [`SHAPE_SITES`] sites, evenly spread), with the
/// initial shape dashed. None when the run recorded no parameters.
pub(crate) fn learned_shapes_svg(
    expr: &Expr,
    snaps: &[ParamSnapshot],
    caption: &str,
) -> Result<Option<String>, ReportError> {
    let Some(last) = snaps.last().filter(|s| !s.sites.is_empty()) else {
        return Ok(None);
    };
    let medians = site_medians(last);
    let mut curves = vec![Curve {
        label: "initial (all 1)".to_owned(),
        expr: expr.clone(),
        params: [pangaea_expr::PARAM_INIT; 3],
        color: 7,
        dashed: true,
    }];
    for (k, i) in spread(medians.len(), SHAPE_SITES).into_iter().enumerate() {
        let (site, params) = &medians[i];
        curves.push(Curve {
            label: site.clone(),
            expr: expr.clone(),
            params: *params,
            color: k,
            dashed: false,
        });
    }
    function_svg(&curves, (-5.0, 5.0), (900, 420), Some(caption), Some(10.0)).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pangaea_wire::SiteRecord;

    #[test]
    fn site_medians_take_the_median_over_channels_and_keep_1_for_absent_parameters() {
        let site = |name: &str, alpha: Vec<f32>| SiteRecord {
            site: name.to_owned(),
            params: [("alpha".to_owned(), alpha)].into_iter().collect(),
        };
        let snapshot = ParamSnapshot {
            epoch: 3,
            step: Some(30),
            progress: Some(1.0),
            sites: vec![
                site("a", vec![0.5, 3.0, 2.0]),
                site("b", vec![1.0, 2.0, f32::NAN, 4.0, 5.0]),
            ],
        };
        assert_eq!(
            site_medians(&snapshot),
            [
                ("a".to_owned(), [2.0, 1.0, 1.0]),
                ("b".to_owned(), [3.0, 1.0, 1.0])
            ]
        );
    }

    #[test]
    fn spread_keeps_first_and_last_and_never_repeats() {
        assert_eq!(spread(3, 7), [0, 1, 2]);
        assert_eq!(spread(10, 3), [0, 5, 9]);
        for len in 1..80 {
            let picked = spread(len, 7);
            assert_eq!(picked.len(), len.min(7), "{len}");
            assert_eq!((picked[0], *picked.last().unwrap()), (0, len - 1));
            assert!(picked.windows(2).all(|w| w[0] < w[1]), "{len}: {picked:?}");
        }
    }

    fn curve(text: &str, color: usize) -> Curve {
        Curve {
            label: text.to_owned(),
            expr: text.parse().unwrap(),
            params: [1.0; 3],
            color,
            dashed: false,
        }
    }

    #[test]
    fn both_panels_break_the_curve_at_a_pole() {
        let svg = function_svg(
            &[curve("reciprocal(x)", 0)],
            (-1.0, 1.0),
            (600, 300),
            Some("reciprocal(x)"),
            None,
        )
        .unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("reciprocal(x)"), "{svg}");
        assert!(svg.contains("f(x)") && svg.contains("f&apos;(x)"), "{svg}");
        // Each panel's curve is broken at the pole: two segments per panel, plus the legend's
        // sample line.
        assert_eq!(svg.matches(r##"stroke="#1F77B4""##).count(), 5, "{svg}");
    }

    #[test]
    fn clipping_breaks_curves_outside_the_window_and_dashes_are_drawn() {
        let mut initial = curve("exp(x)", 1);
        initial.dashed = true;
        initial.label.clear();
        let svg = function_svg(
            &[curve("x", 0), initial],
            (-5.0, 5.0),
            (600, 300),
            None,
            Some(10.0),
        )
        .unwrap();
        assert!(
            svg.contains("stroke-dasharray") || svg.matches(r##"stroke="#FF7F0E""##).count() > 4
        );
    }

    #[test]
    fn segments_split_at_non_finite_and_outside_values() {
        let s = segments(
            &[0.0, 1.0, 2.0, 3.0],
            &[1.0, f64::NAN, 2.0, 30.0],
            -5.0,
            5.0,
        );
        assert_eq!(s, vec![vec![(0.0, 1.0)], vec![(2.0, 2.0)]]);
    }
}
