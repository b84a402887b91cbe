use std::time::Duration;

/// Percentiles of a set of timings (nearest-rank).
pub struct Summary {
    pub samples: usize,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

pub fn summarize(mut samples: Vec<Duration>) -> Summary {
    assert!(!samples.is_empty());
    samples.sort();
    let rank = |p| percentile(&samples, p);
    Summary { samples: samples.len(), p50: rank(0.50), p99: rank(0.99), max: samples[samples.len() - 1] }
}

/// The nearest-rank `p` percentile (0 < p ≤ 1) of timings sorted ascending.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// The nearest-rank `p` percentile (0 < p ≤ 1) of counts sorted ascending.
pub fn percentile_of(sorted: &[f64], p: f64) -> f64 {
    sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// Mean, p50, p99 and max of `values`, for a table row.
pub fn spread(values: impl IntoIterator<Item = f64>) -> [f64; 4] {
    let mut sorted: Vec<f64> = values.into_iter().collect();
    assert!(!sorted.is_empty());
    sorted.sort_by(f64::total_cmp);
    let mean = sorted.iter().sum::<f64>() / sorted.len() as f64;
    [mean, percentile_of(&sorted, 0.5), percentile_of(&sorted, 0.99), sorted[sorted.len() - 1]]
}

/// A duration in milliseconds, for tables and plots.
pub fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

pub fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}
