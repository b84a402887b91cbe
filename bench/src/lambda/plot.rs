//! An SVG of the warm latency distribution per route: a strip per route on
//! a log time axis, the box from p25 to p75, whiskers to p1 and p99, a tick
//! at p50, and a dot at the maximum. Hand-written SVG: no plotting crate.

use std::fmt::Write;
use std::time::Duration;

use crate::stats::millis;

/// One route's sorted timings, on one backend.
pub struct Series {
    pub label: String,
    pub backend: &'static str,
    pub sorted: Vec<Duration>,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    millis(crate::stats::percentile(sorted, p))
}

const LEFT: f64 = 260.0;
const WIDTH: f64 = 620.0;
const ROW: f64 = 22.0;
const TOP: f64 = 40.0;
/// The axis: 0.01 ms to 1 000 ms.
const MIN_LOG: f64 = -2.0;
const MAX_LOG: f64 = 3.0;

fn x(ms: f64) -> f64 {
    let log = ms.max(10f64.powf(MIN_LOG)).log10().min(MAX_LOG);
    LEFT + (log - MIN_LOG) / (MAX_LOG - MIN_LOG) * WIDTH
}

pub fn svg(title: &str, series: &[Series]) -> String {
    let height = TOP + ROW * series.len() as f64 + 50.0;
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" viewBox="0 0 {w} {height}" font-family="sans-serif" font-size="12">"#,
        w = LEFT + WIDTH + 30.0
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(out, r#"<text x="10" y="20" font-size="14" font-weight="bold">{title}</text>"#);
    let bottom = TOP + ROW * series.len() as f64;
    for decade in (MIN_LOG as i32)..=(MAX_LOG as i32) {
        let ms = 10f64.powi(decade);
        let gx = x(ms);
        let label = if ms < 1.0 { format!("{ms} ms") } else { format!("{ms:.0} ms") };
        let _ = writeln!(out, r##"<line x1="{gx}" y1="{TOP}" x2="{gx}" y2="{bottom}" stroke="#ddd"/>"##);
        let _ = writeln!(out, r#"<text x="{gx}" y="{}" text-anchor="middle">{label}</text>"#, bottom + 16.0);
    }
    for (i, s) in series.iter().enumerate() {
        let y = TOP + ROW * i as f64 + ROW / 2.0;
        let colour = if s.backend == "embedded" { "#2b6cb0" } else { "#c05621" };
        let [p1, p25, p50, p75, p99] = [0.01, 0.25, 0.5, 0.75, 0.99].map(|p| percentile(&s.sorted, p));
        let max = s.sorted.last().copied().map_or(0.0, millis);
        let _ = writeln!(
            out,
            r#"<text x="{}" y="{}" text-anchor="end">{} ({})</text>"#,
            LEFT - 8.0,
            y + 4.0,
            escape(&s.label),
            s.backend
        );
        let _ = writeln!(out, r#"<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="{colour}"/>"#, x(p1), x(p99));
        let _ = writeln!(
            out,
            r#"<rect x="{}" y="{}" width="{}" height="12" fill="{colour}" fill-opacity="0.35" stroke="{colour}"/>"#,
            x(p25),
            y - 6.0,
            (x(p75) - x(p25)).max(1.0)
        );
        let _ = writeln!(
            out,
            r#"<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{colour}" stroke-width="2"/>"#,
            x(p50),
            y - 7.0,
            y + 7.0
        );
        let _ = writeln!(out, r#"<circle cx="{}" cy="{y}" r="2.5" fill="{colour}"/>"#, x(max));
    }
    let _ = writeln!(
        out,
        r##"<text x="10" y="{}" fill="#555">box p25–p75, tick p50, whiskers p1–p99, dot max; blue: embedded store, orange: DynamoDB/S3/SES on moto</text>"##,
        bottom + 36.0
    );
    out.push_str("</svg>\n");
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}
