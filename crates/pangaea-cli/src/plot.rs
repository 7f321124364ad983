//! SVG plots of an activation function and its derivative.

use pangaea_expr::{Expr, Program};
use plotters::prelude::*;

/// The function and its derivative over `range`, as an SVG document.
///
/// Non-finite values break the curves rather than being clipped or patched.
pub fn function_svg(
    expr: &Expr,
    params: [f64; 3],
    range: (f64, f64),
    size: (u32, u32),
) -> anyhow::Result<String> {
    const POINTS: usize = 801;
    let (lo, hi) = range;
    let xs: Vec<f64> = (0..POINTS)
        .map(|i| lo + (hi - lo) * i as f64 / (POINTS - 1) as f64)
        .collect();
    let out = Program::new(expr).eval_f64(&xs, params);
    let finite = out
        .y
        .iter()
        .chain(&out.dy_dx)
        .copied()
        .filter(|v| v.is_finite());
    let (mut ymin, mut ymax) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !ymin.is_finite() {
        (ymin, ymax) = (-1.0, 1.0);
    }
    if ymax - ymin < 1e-9 {
        ymin -= 1.0;
        ymax += 1.0;
    }
    let pad = 0.05 * (ymax - ymin);
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(expr.to_string(), ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(48)
            .build_cartesian_2d(lo..hi, (ymin - pad)..(ymax + pad))?;
        chart
            .configure_mesh()
            .x_desc("x")
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        let blue = RGBColor(31, 119, 180);
        let orange = RGBColor(255, 127, 14);
        for (k, (values, color, label)) in [(&out.y, blue, "f(x)"), (&out.dy_dx, orange, "f'(x)")]
            .into_iter()
            .enumerate()
        {
            for (j, segment) in finite_segments(&xs, values).into_iter().enumerate() {
                let series = chart.draw_series(LineSeries::new(segment, color.stroke_width(2)))?;
                if j == 0 {
                    series.label(label).legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                    });
                }
            }
            let _ = k;
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .position(SeriesLabelPosition::UpperLeft)
            .draw()?;
        root.present()?;
    }
    Ok(svg)
}

/// Splits a curve into runs of finite points.
fn finite_segments(xs: &[f64], ys: &[f64]) -> Vec<Vec<(f64, f64)>> {
    let mut segments = Vec::new();
    let mut current = Vec::new();
    for (&x, &y) in xs.iter().zip(ys) {
        if y.is_finite() {
            current.push((x, y));
        } else if !current.is_empty() {
            segments.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        segments.push(current);
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plots_both_curves_with_a_gap_at_a_pole() {
        let e: Expr = "reciprocal(x)".parse().unwrap();
        let svg = function_svg(&e, [1.0; 3], (-1.0, 1.0), (400, 300)).unwrap();
        assert!(svg.starts_with("<svg"));
        assert!(svg.contains("f(x)") && svg.contains("f&apos;(x)"), "{svg}");
        // Each curve is broken at the pole: two segments plus its legend sample, per colour.
        assert_eq!(svg.matches(r##"stroke="#1F77B4""##).count(), 3, "{svg}");
        assert_eq!(svg.matches(r##"stroke="#FF7F0E""##).count(), 3, "{svg}");
    }

    #[test]
    fn segments_split_at_non_finite_values() {
        let s = finite_segments(&[0.0, 1.0, 2.0, 3.0], &[1.0, f64::NAN, 2.0, 3.0]);
        assert_eq!(s, vec![vec![(0.0, 1.0)], vec![(2.0, 2.0), (3.0, 3.0)]]);
    }
}
