//! SVG line charts with confidence-interval error bars (plotters).

use plotters::prelude::*;

/// One curve: `(x, mean, ci_low, ci_high)` points.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Points in x order.
    pub points: Vec<(f64, f64, f64, f64)>,
}

/// A chart: title, axis labels with units, curves.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Title above the plot.
    pub title: String,
    /// X axis label, with unit.
    pub x_label: String,
    /// Y axis label, with unit.
    pub y_label: String,
    /// The curves.
    pub series: Vec<Series>,
}

/// The series' colours, in order (the regime map's heatmaps use the same
/// colour for a policy as the line charts).
pub const COLORS: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Render the chart as an SVG document.
pub fn render_svg(chart: &Chart) -> Result<String, String> {
    let finite = |v: f64| v.is_finite();
    let xs: Vec<f64> = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0))
        .filter(|&v| finite(v))
        .collect();
    let ys: Vec<f64> = chart
        .series
        .iter()
        .flat_map(|s| s.points.iter().flat_map(|p| [p.1, p.2, p.3]))
        .filter(|&v| finite(v))
        .collect();
    if xs.is_empty() || ys.is_empty() {
        return Err(format!("chart `{}` has no finite point", chart.title));
    }
    let (x_min, x_max) = bounds(&xs);
    let (_, y_max) = bounds(&ys);
    let x_pad = ((x_max - x_min) * 0.05).max(0.05);
    let x_range = (x_min - x_pad)..(x_max + x_pad);
    let y_range = 0.0..(y_max * 1.1).max(1e-9);

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (800, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut plot = ChartBuilder::on(&root)
            .caption(&chart.title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(x_range, y_range)
            .map_err(|e| e.to_string())?;
        plot.configure_mesh()
            .x_desc(&chart.x_label)
            .y_desc(&chart.y_label)
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, s) in chart.series.iter().enumerate() {
            let color = COLORS[i % COLORS.len()];
            let pts: Vec<(f64, f64, f64, f64)> = s
                .points
                .iter()
                .copied()
                .filter(|p| finite(p.0) && finite(p.1))
                .collect();
            plot.draw_series(LineSeries::new(
                pts.iter().map(|p| (p.0, p.1)),
                color.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label(&s.label)
            .legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2))
            });
            // Markers only where points are few enough to tell apart.
            if pts.len() <= 60 {
                plot.draw_series(
                    pts.iter()
                        .map(|p| Circle::new((p.0, p.1), 3, color.filled())),
                )
                .map_err(|e| e.to_string())?;
            }
            plot.draw_series(
                pts.iter()
                    .filter(|p| finite(p.2) && finite(p.3))
                    .map(|p| ErrorBar::new_vertical(p.0, p.2, p.1, p.3, color.stroke_width(1), 8)),
            )
            .map_err(|e| e.to_string())?;
        }
        plot.configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(|e| e.to_string())?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(svg)
}

fn bounds(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
            (lo.min(x), hi.max(x))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_labels_and_series() {
        let chart = Chart {
            title: "Fig. X".into(),
            x_label: "request rate (req/s)".into(),
            y_label: "mean download time (s)".into(),
            series: vec![Series {
                label: "iso".into(),
                points: vec![(1.0, 2.0, 1.5, 2.5), (2.0, 3.0, 2.0, 4.0)],
            }],
        };
        let svg = render_svg(&chart).unwrap();
        assert!(svg.starts_with("<svg"));
        for text in [
            "Fig. X",
            "request rate (req/s)",
            "mean download time (s)",
            "iso",
        ] {
            assert!(svg.contains(text), "{text} missing");
        }
    }

    #[test]
    fn an_empty_chart_is_an_error() {
        let chart = Chart {
            title: "empty".into(),
            x_label: String::new(),
            y_label: String::new(),
            series: vec![],
        };
        assert!(render_svg(&chart).is_err());
    }
}
