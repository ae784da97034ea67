//! `results.svg`: the chart of a run, drawn from [`Results`] alone.
//!
//! Two panels, one group of bars per scenario and, within it, one colour per broker: throughput
//! on top, latency (p50 solid, p99 light) below. Both axes are logarithmic, because a GET by id
//! and a batch of a hundred upserts differ by two orders of magnitude; each bar carries its
//! value. Drawn with plotters' SVG backend and its naive text layout, which needs no font files:
//! the viewer's sans-serif renders the text.

use anyhow::anyhow;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::results::{Measurement, Results};

const WIDTH: u32 = 1100;
const HEIGHT: u32 = 900;
const FONT: &str = "sans-serif";

/// Broker colours, in the order the brokers were measured (then around again).
const BROKER_COLORS: [RGBColor; 5] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
];

/// The solid colour of broker `b`: its throughput and p50 bars.
pub fn broker_color(b: usize) -> RGBColor {
    BROKER_COLORS[b % BROKER_COLORS.len()]
}

/// The light colour of broker `b`: its p99 bars.
pub fn broker_light_color(b: usize) -> RGBColor {
    let RGBColor(r, g, bl) = broker_color(b);
    let light = |c: u8| c + (255 - c) / 2 + 20.min((255 - c) / 2);
    RGBColor(light(r), light(g), light(bl))
}

/// The SVG document of the chart.
pub fn render(results: &Results) -> anyhow::Result<String> {
    let mut svg = String::new();
    draw(results, &mut svg).map_err(|e| anyhow!("drawing the chart: {e}"))?;
    Ok(svg)
}

type DrawResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn draw(results: &Results, svg: &mut String) -> DrawResult {
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let w = &results.workload;
    let load = match results.host.load_avg {
        Some(l) => format!(", load {l:.1}"),
        None => String::new(),
    };
    let title = format!(
        "oxion-load {}: {} entities, {} connections, {} s per scenario; {} cores{load}; {}",
        results.version,
        w.entities,
        w.connections,
        w.duration_s,
        results.host.cores,
        results.date.get(..10).unwrap_or(&results.date),
    );
    let body = root.titled(&title, (FONT, 20))?;
    let panels = body.split_evenly((2, 1));
    let scenarios = results.scenarios();
    let bars = Bars {
        results,
        scenarios: &scenarios,
    };
    bars.throughput(&root, &panels[0])?;
    bars.latency(&root, &panels[1])?;
    root.present()?;
    Ok(())
}

struct Bars<'a> {
    results: &'a Results,
    scenarios: &'a [&'a str],
}

impl Bars<'_> {
    /// The x extent of broker `b`'s slot in scenario `s`'s group, in chart units (a group is 1).
    fn slot(&self, s: usize, b: usize) -> (f64, f64) {
        let width = 0.8 / self.results.brokers.len().max(1) as f64;
        let left = s as f64 + 0.1 + b as f64 * width;
        (left, left + width)
    }

    /// Every value `pick` gives for a (broker, scenario) that ran.
    fn values(&self, pick: impl Fn(&Measurement) -> f64) -> Vec<f64> {
        self.measurements().map(|(_, _, m)| pick(m)).collect()
    }

    /// (broker, scenario, measurement) for every scenario that ran against a broker.
    fn measurements(&self) -> impl Iterator<Item = (usize, usize, &Measurement)> + '_ {
        (0..self.results.brokers.len()).flat_map(move |b| {
            self.scenarios
                .iter()
                .enumerate()
                .filter_map(move |(s, name)| Some((b, s, self.results.get(b, name)?)))
        })
    }

    /// A panel's axes: the scenarios across, `range` up on a log scale.
    fn axes<'a, 'b>(
        &self,
        panel: &'a DrawingArea<SVGBackend<'b>, Shift>,
        caption: &str,
        y_desc: &str,
        (lo, hi): (f64, f64),
    ) -> Result<Chart<'a, 'b>, Box<dyn std::error::Error + Send + Sync>> {
        let mut chart = ChartBuilder::on(panel)
            .margin(12)
            .margin_right(20)
            .x_label_area_size(34)
            .y_label_area_size(70)
            .caption(caption, (FONT, 16))
            .build_cartesian_2d(0f64..self.scenarios.len() as f64, (lo..hi).log_scale())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(0)
            .x_label_formatter(&|_| String::new())
            .y_desc(y_desc)
            .y_label_formatter(&|v| rate(*v))
            .label_style((FONT, 12))
            .draw()?;
        Ok(chart)
    }

    fn throughput(
        &self,
        root: &DrawingArea<SVGBackend, Shift>,
        panel: &DrawingArea<SVGBackend, Shift>,
    ) -> DrawResult {
        let range = decades(&self.values(|m| m.throughput));
        let caption = "Throughput (requests/s, log scale; higher is better)";
        let mut chart = self.axes(panel, caption, "requests/s", range)?;
        for (b, s, m) in self.measurements() {
            let tp = m.throughput;
            bar(
                &mut chart,
                self.slot(s, b),
                range.0,
                tp,
                broker_color(b),
                &rate(tp),
            )?;
        }
        self.labels(root, panel, &chart, range.0, "")
    }

    fn latency(
        &self,
        root: &DrawingArea<SVGBackend, Shift>,
        panel: &DrawingArea<SVGBackend, Shift>,
    ) -> DrawResult {
        let (lo, _) = decades(&self.values(|m| m.latency_ms.p50));
        let (_, hi) = decades(&self.values(|m| m.latency_ms.p99));
        let caption = "Latency (ms, log scale; p50 solid, p99 light; lower is better)";
        let mut chart = self.axes(panel, caption, "ms", (lo, hi))?;
        for (b, s, m) in self.measurements() {
            let (x0, x1) = self.slot(s, b);
            let mid = (x0 + x1) / 2.0;
            let (p50, p99) = (m.latency_ms.p50, m.latency_ms.p99);
            bar(
                &mut chart,
                (x0, mid),
                lo,
                p50,
                broker_color(b),
                &millis(p50),
            )?;
            bar(
                &mut chart,
                (mid, x1),
                lo,
                p99,
                broker_light_color(b),
                &millis(p99),
            )?;
        }
        self.labels(root, panel, &chart, lo, " p50 / p99")
    }

    /// Scenario names under the groups, and the legend (a coloured label per broker).
    fn labels(
        &self,
        root: &DrawingArea<SVGBackend, Shift>,
        panel: &DrawingArea<SVGBackend, Shift>,
        chart: &Chart,
        lo: f64,
        legend_suffix: &str,
    ) -> DrawResult {
        let under = Pos::new(HPos::Center, VPos::Top);
        for (s, name) in self.scenarios.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(s as f64 + 0.5, lo));
            let style = (FONT, 14).into_font().color(&BLACK).pos(under);
            root.draw(&Text::new(name.to_string(), (x, y + 8), style))?;
        }
        let (left, top) = panel.get_base_pixel();
        let mut x = left + 100;
        let at_left = Pos::new(HPos::Left, VPos::Top);
        for (b, broker) in self.results.brokers.iter().enumerate() {
            let text = format!("■ {}{legend_suffix}", broker.label);
            let width = 9 * text.chars().count() as i32 + 24;
            let style = (FONT, 14).into_font().color(&broker_color(b)).pos(at_left);
            root.draw(&Text::new(text, (x, top + 34), style))?;
            x += width;
        }
        Ok(())
    }
}

/// The log axis from the decade below half the smallest value to the decade above three times
/// the largest: room above the tallest bar for its label.
fn decades(values: &[f64]) -> (f64, f64) {
    let positive = values.iter().copied().filter(|v| *v > 0.0);
    let lo = positive.clone().fold(f64::INFINITY, f64::min);
    let hi = positive.fold(0.0, f64::max);
    if hi <= 0.0 {
        return (0.1, 10.0);
    }
    (
        10f64.powf((lo / 2.0).log10().floor()),
        10f64.powf((hi * 3.0).log10().ceil()),
    )
}

type Chart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, LogCoord<f64>>,
>;

/// One bar from the baseline to `value`, with `label` above it.
fn bar(
    chart: &mut Chart,
    (x0, x1): (f64, f64),
    lo: f64,
    value: f64,
    color: RGBColor,
    label: &str,
) -> DrawResult {
    if value <= 0.0 {
        return Ok(());
    }
    let rect = Rectangle::new([(x0, lo), (x1, value)], color.filled());
    chart.draw_series(std::iter::once(rect))?;
    let above = Pos::new(HPos::Center, VPos::Bottom);
    let style = (FONT, 10).into_font().color(&BLACK).pos(above);
    let text =
        EmptyElement::at(((x0 + x1) / 2.0, value)) + Text::new(label.to_owned(), (0, -2), style);
    chart.draw_series(std::iter::once(text))?;
    Ok(())
}

/// `950`, `12.3k`, `1.2M`.
pub fn rate(v: f64) -> String {
    match v {
        v if v >= 1e6 => format!("{:.1}M", v / 1e6),
        v if v >= 1e4 => format!("{:.1}k", v / 1e3),
        v if v >= 10.0 => format!("{v:.0}"),
        v if v >= 1.0 => format!("{v:.1}"),
        v => format!("{v:.2}"),
    }
}

/// `0.42`, `3.1`, `27`.
fn millis(v: f64) -> String {
    match v {
        v if v >= 10.0 => format!("{v:.0}"),
        v if v >= 1.0 => format!("{v:.1}"),
        v => format!("{v:.2}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::tests::sample;

    fn filled_rects(svg: &str, color: RGBColor) -> usize {
        let RGBColor(r, g, b) = color;
        let fill = format!("fill=\"#{r:02X}{g:02X}{b:02X}\"");
        svg.lines()
            .filter(|l| l.trim_start().starts_with("<rect") && l.contains(&fill))
            .count()
    }

    #[test]
    fn the_chart_has_a_bar_per_scenario_per_broker_in_each_panel() {
        let results = sample();
        let svg = render(&results).expect("rendered");
        assert!(svg.starts_with("<svg"), "{}", &svg[..100]);
        let scenarios = results.scenarios().len();
        for b in 0..results.brokers.len() {
            // Throughput and p50 in the solid colour, p99 in the light one.
            assert_eq!(
                filled_rects(&svg, broker_color(b)),
                2 * scenarios,
                "broker {b}"
            );
            assert_eq!(
                filled_rects(&svg, broker_light_color(b)),
                scenarios,
                "broker {b}"
            );
        }
        for name in results.scenarios() {
            assert!(svg.lines().any(|l| l.trim() == name), "{name}");
        }
        assert!(svg.contains("■ orion-ld"));
    }

    #[test]
    fn a_scenario_missing_for_one_broker_has_no_bar_for_it() {
        let mut results = sample();
        results.brokers[1].scenarios.pop();
        let svg = render(&results).expect("rendered");
        assert_eq!(filled_rects(&svg, broker_color(0)), 6);
        assert_eq!(filled_rects(&svg, broker_color(1)), 4);
    }

    #[test]
    fn rates_are_short() {
        assert_eq!(rate(950.4), "950");
        assert_eq!(rate(12_345.0), "12.3k");
        assert_eq!(rate(2.5), "2.5");
    }
}
