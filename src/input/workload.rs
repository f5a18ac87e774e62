//! Who asks for which image, and when (docs/model.md section 2): arrivals,
//! popularity, seeding lifetimes and host upload capacities.
//!
//! The workload is drawn once per seed and shared by every policy (common
//! random numbers), so policies are compared on identical requests.

use std::path::Path;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp};

use crate::input::config::{ArrivalKind, ConfigError, PeersConfig, PopularityKind, WorkloadConfig};
use crate::input::content::Content;

/// One VM request: a host that will download an image, then seed it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VmRequest {
    /// When the request arrives (s).
    pub arrival_s: f64,
    /// Index of the requested image.
    pub image: usize,
    /// The host's upload capacity `u_j` (Mb/s).
    pub upload_mbps: f64,
    /// How long the VM seeds after it completes (s).
    pub lifetime_s: f64,
}

/// A peer that holds its image from time 0 and never leaves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InitialSeeder {
    /// Index of the image it holds.
    pub image: usize,
    /// Its upload capacity (Mb/s).
    pub upload_mbps: f64,
}

/// The requests of one run, sorted by arrival time.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    /// The VM requests, by arrival time (empty when they are streamed).
    pub requests: Vec<VmRequest>,
    /// With `workload.stream`: the requests, drawn one at a time as a run
    /// reaches them (each run takes a copy), instead of `requests`.
    pub stream: Option<RequestStream>,
    /// Preheated seeders present at time 0.
    pub initial_seeders: Vec<InitialSeeder>,
    /// `p_i`: the configured popularity of each image.
    pub popularity: Vec<f64>,
    /// VMs arriving before this time are left out of the statistics (s).
    pub warmup_s: f64,
}

/// `p_i` for `k` images: Zipf with exponent `s` (image 1 the hottest) or uniform.
pub fn popularity(kind: PopularityKind, k: usize, s: f64) -> Vec<f64> {
    let weights: Vec<f64> = match kind {
        PopularityKind::Uniform => vec![1.0; k],
        PopularityKind::Zipf => (1..=k).map(|i| (i as f64).powf(-s)).collect(),
    };
    let total: f64 = weights.iter().sum();
    weights.iter().map(|w| w / total).collect()
}

/// Draw an index from the cumulative distribution `cdf` (last entry 1).
fn pick(cdf: &[f64], u: f64) -> usize {
    cdf.partition_point(|&c| c <= u).min(cdf.len() - 1)
}

impl Workload {
    /// Draw the workload. `config_file` is used in trace error messages.
    pub fn generate(
        workload: &WorkloadConfig,
        peers: &PeersConfig,
        content: &Content,
        rng: &mut Xoshiro256PlusPlus,
    ) -> Result<Workload, ConfigError> {
        let k = content.images.len();
        let popularity = popularity(workload.popularity, k, workload.zipf_exponent);
        let cdf = cumulative(&popularity);
        let host = HostDraws::new(workload, peers);
        // Times and images first, then per-VM draws, so that the arrivals of a
        // seed do not depend on how hosts or lifetimes are drawn.
        let (requests, stream) = if workload.stream {
            (
                Vec::new(),
                Some(RequestStream::new(workload, cdf, host, rng)),
            )
        } else {
            let arrivals = draw_arrivals(workload, content, &cdf, rng)?;
            (draw_requests(arrivals, &host, rng), None)
        };
        let initial_seeders = (0..k)
            .flat_map(|image| (0..workload.initial_seeders).map(move |_| image))
            .map(|image| InitialSeeder {
                image,
                upload_mbps: peers.upload_mbps,
            })
            .collect();
        let warmup_s = match workload.arrivals {
            ArrivalKind::Poisson => workload.warmup_s(),
            // A burst or a trace has no steady state to warm up to unless asked.
            _ => workload.warmup_s.unwrap_or(0.0),
        };
        Ok(Workload {
            requests,
            stream,
            initial_seeders,
            popularity,
            warmup_s,
        })
    }

    /// The number of VM requests.
    pub fn request_count(&self) -> usize {
        match &self.stream {
            Some(s) => s.count,
            None => self.requests.len(),
        }
    }

    /// The arrival time of the last request (s), if any.
    pub fn last_arrival_s(&self) -> Option<f64> {
        match &self.stream {
            Some(s) => (s.count > 0).then_some(s.last_arrival_s),
            None => self.requests.last().map(|r| r.arrival_s),
        }
    }
}

/// The cumulative distribution of `p` (last entry exactly 1).
fn cumulative(p: &[f64]) -> Vec<f64> {
    let mut cdf: Vec<f64> = p
        .iter()
        .scan(0.0, |acc, p| {
            *acc += p;
            Some(*acc)
        })
        .collect();
    if let Some(last) = cdf.last_mut() {
        *last = 1.0;
    }
    cdf
}

/// Arrival times and images, in time order: drawn (`poisson`, `burst`,
/// images from `cdf`) or read from the trace.
fn draw_arrivals<R: Rng>(
    workload: &WorkloadConfig,
    content: &Content,
    cdf: &[f64],
    rng: &mut R,
) -> Result<Vec<(f64, usize)>, ConfigError> {
    Ok(match workload.arrivals {
        ArrivalKind::Poisson => {
            let gap = Exp::new(workload.rate_per_s).expect("rate validated > 0");
            let mut t = 0.0;
            let mut out = Vec::new();
            while let Some(arrival) = next_poisson(&gap, workload.window_s, cdf, &mut t, rng) {
                out.push(arrival);
            }
            out
        }
        ArrivalKind::Burst => {
            let mut out: Vec<(f64, usize)> = (0..workload.burst_count)
                .map(|_| {
                    let t = if workload.burst_spread_s > 0.0 {
                        rng.random_range(0.0..=workload.burst_spread_s)
                    } else {
                        0.0
                    };
                    (t, pick(cdf, rng.random::<f64>()))
                })
                .collect();
            out.sort_by(|a, b| a.0.total_cmp(&b.0));
            out
        }
        ArrivalKind::Trace => {
            let path = workload.trace.as_deref().unwrap_or(Path::new(""));
            load_trace(path, content)?
        }
    })
}

/// The Poisson arrival after time `*t` and its image, or `None` past the
/// window; advances `*t`.
fn next_poisson<R: Rng>(
    gap: &Exp<f64>,
    window_s: f64,
    cdf: &[f64],
    t: &mut f64,
    rng: &mut R,
) -> Option<(f64, usize)> {
    *t += gap.sample(rng);
    (*t < window_s).then(|| (*t, pick(cdf, rng.random::<f64>())))
}

/// A request's draws after its arrival: its host's upload, then its
/// lifetime.
#[derive(Debug, Clone, Copy, PartialEq)]
struct HostDraws {
    upload_mbps: f64,
    upload_spread: f64,
    lifetime_min_s: f64,
    lifetime_max_s: f64,
}

impl HostDraws {
    fn new(workload: &WorkloadConfig, peers: &PeersConfig) -> HostDraws {
        HostDraws {
            upload_mbps: peers.upload_mbps,
            upload_spread: peers.upload_spread,
            lifetime_min_s: workload.lifetime_min_s,
            lifetime_max_s: workload.lifetime_max_s,
        }
    }

    /// `(upload_mbps, lifetime_s)` of the next request.
    fn draw<R: Rng>(&self, rng: &mut R) -> (f64, f64) {
        let upload_mbps = if self.upload_spread > 0.0 {
            let lo = self.upload_mbps * (1.0 - self.upload_spread);
            let hi = self.upload_mbps * (1.0 + self.upload_spread);
            rng.random_range(lo..=hi)
        } else {
            self.upload_mbps
        };
        let lifetime_s = if self.lifetime_max_s > self.lifetime_min_s {
            rng.random_range(self.lifetime_min_s..=self.lifetime_max_s)
        } else {
            self.lifetime_min_s
        };
        (upload_mbps, lifetime_s)
    }
}

/// One request per arrival, in order, each drawing its host's upload and
/// then its lifetime.
fn draw_requests<R: Rng>(
    arrivals: Vec<(f64, usize)>,
    host: &HostDraws,
    rng: &mut R,
) -> Vec<VmRequest> {
    arrivals
        .into_iter()
        .map(|(arrival_s, image)| {
            let (upload_mbps, lifetime_s) = host.draw(rng);
            VmRequest {
                arrival_s,
                image,
                upload_mbps,
                lifetime_s,
            }
        })
        .collect()
}

/// Poisson requests drawn one at a time (`workload.stream`), equal to the
/// ones [`Workload::generate`] would keep: the arrivals' stream starts where
/// the workload's does, and the per-VM draws' where they would start after
/// every arrival is drawn (found by drawing the arrivals once, without
/// keeping them, when the workload is made).
#[derive(Debug, Clone, PartialEq)]
pub struct RequestStream {
    count: usize,
    last_arrival_s: f64,
    gap: Exp<f64>,
    window_s: f64,
    cdf: Vec<f64>,
    host: HostDraws,
    arrival_rng: Xoshiro256PlusPlus,
    host_rng: Xoshiro256PlusPlus,
    t: f64,
    drawn: usize,
}

impl RequestStream {
    /// The stream of `workload`'s Poisson requests; leaves `rng` where
    /// drawing them all would.
    fn new(
        workload: &WorkloadConfig,
        cdf: Vec<f64>,
        host: HostDraws,
        rng: &mut Xoshiro256PlusPlus,
    ) -> RequestStream {
        let gap = Exp::new(workload.rate_per_s).expect("rate validated > 0");
        let arrival_rng = rng.clone();
        let (mut t, mut count) = (0.0, 0);
        let mut last_arrival_s = 0.0;
        while let Some((arrival_s, _)) = next_poisson(&gap, workload.window_s, &cdf, &mut t, rng) {
            last_arrival_s = arrival_s;
            count += 1;
        }
        let host_rng = rng.clone();
        for _ in 0..count {
            host.draw(rng);
        }
        RequestStream {
            count,
            last_arrival_s,
            gap,
            window_s: workload.window_s,
            cdf,
            host,
            arrival_rng,
            host_rng,
            t: 0.0,
            drawn: 0,
        }
    }
}

impl Iterator for RequestStream {
    type Item = VmRequest;

    fn next(&mut self) -> Option<VmRequest> {
        if self.drawn == self.count {
            return None;
        }
        let (arrival_s, image) = next_poisson(
            &self.gap,
            self.window_s,
            &self.cdf,
            &mut self.t,
            &mut self.arrival_rng,
        )?;
        let (upload_mbps, lifetime_s) = self.host.draw(&mut self.host_rng);
        self.drawn += 1;
        Some(VmRequest {
            arrival_s,
            image,
            upload_mbps,
            lifetime_s,
        })
    }
}

/// Read a trace: CSV with header `time_s,image`; `image` is a 1-based index
/// or an image name. Times must be finite, non-negative and non-decreasing.
pub fn load_trace(path: &Path, content: &Content) -> Result<Vec<(f64, usize)>, ConfigError> {
    let bytes = std::fs::read(path).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        key: String::new(),
        message: format!("cannot read the trace: {e}"),
    })?;
    parse_trace(&bytes, path, content)
}

/// Parse trace bytes (see [`load_trace`]); `path` is only used in messages.
pub fn parse_trace(
    bytes: &[u8],
    path: &Path,
    content: &Content,
) -> Result<Vec<(f64, usize)>, ConfigError> {
    let err = |key: String, message: String| ConfigError {
        file: path.to_path_buf(),
        key,
        message,
    };
    // Flexible: a row with the wrong number of fields gets the message
    // below, which says what a row must hold.
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(err(
            String::new(),
            "the trace is empty; allowed: a header `time_s,image`, then one request per line"
                .into(),
        ));
    }
    let headers = reader
        .headers()
        .map_err(|e| err(String::new(), format!("bad CSV header: {e}")))?
        .clone();
    if headers.len() != 2 || &headers[0] != "time_s" || &headers[1] != "image" {
        return Err(err(
            "header".into(),
            format!(
                "the header must be `time_s,image` (got `{}`)",
                headers.iter().collect::<Vec<_>>().join(",")
            ),
        ));
    }
    let mut out = Vec::new();
    let mut last = 0.0;
    // Blank lines are skipped, and csv's own line count skips them too, so a
    // record's line is counted from its byte offset (which is where the
    // blank lines before it start).
    let line_at = |pos: Option<&csv::Position>, row: usize| {
        pos.map_or(row + 2, |p| {
            let mut start = (p.byte() as usize).min(bytes.len());
            while bytes.get(start).is_some_and(|b| matches!(b, b'\n' | b'\r')) {
                start += 1;
            }
            bytes[..start].iter().filter(|&&b| b == b'\n').count() + 1
        })
    };
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|e| {
            let line = line_at(e.position(), row);
            err(format!("line {line}"), format!("bad CSV: {e}"))
        })?;
        let line = line_at(record.position(), row);
        let (t, image) = trace_request(&record, line, last, content, &err)?;
        last = t;
        out.push((t, image));
    }
    if out.is_empty() {
        return Err(err(
            String::new(),
            "the trace holds no request; allowed: one or more lines `time_s,image` after the header"
                .into(),
        ));
    }
    Ok(out)
}

/// One trace record at `line`, after a request at `last`: its time and
/// image index.
fn trace_request(
    record: &csv::StringRecord,
    line: usize,
    last: f64,
    content: &Content,
    err: &dyn Fn(String, String) -> ConfigError,
) -> Result<(f64, usize), ConfigError> {
    if record.len() != 2 {
        return Err(err(
            format!("line {line}"),
            format!(
                "expected 2 fields `time_s,image`, got {} (`{}`)",
                record.len(),
                record.iter().collect::<Vec<_>>().join(",")
            ),
        ));
    }
    let t: f64 = record[0].parse().map_err(|_| {
        err(
            format!("line {line}, time_s"),
            format!(
                "`{}` is not a number; allowed: a time in seconds >= 0",
                &record[0]
            ),
        )
    })?;
    if !t.is_finite() || t < 0.0 {
        return Err(err(
            format!("line {line}, time_s"),
            format!("must be a finite time >= 0 (got {t})"),
        ));
    }
    if t < last {
        return Err(err(
            format!("line {line}, time_s"),
            format!("times must be non-decreasing ({t} after {last})"),
        ));
    }
    let field = &record[1];
    let image = match field.parse::<usize>() {
        Ok(i) if (1..=content.images.len()).contains(&i) => i - 1,
        _ => content
            .images
            .iter()
            .position(|im| im.name == field)
            .ok_or_else(|| {
                err(
                    format!("line {line}, image"),
                    format!(
                        "unknown image `{field}`; allowed: 1..={} or an image name",
                        content.images.len()
                    ),
                )
            })?,
    };
    Ok((t, image))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zipf_popularity_is_normalised_and_decreasing() {
        let p = popularity(PopularityKind::Zipf, 10, 1.0);
        assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(p.windows(2).all(|w| w[0] > w[1]));
        assert!((p[0] / p[1] - 2.0).abs() < 1e-12);
        let u = popularity(PopularityKind::Uniform, 4, 1.0);
        assert_eq!(u, vec![0.25; 4]);
    }

    #[test]
    fn pick_follows_the_cdf() {
        let cdf = [0.5, 0.75, 1.0];
        assert_eq!(pick(&cdf, 0.0), 0);
        assert_eq!(pick(&cdf, 0.6), 1);
        assert_eq!(pick(&cdf, 0.99), 2);
    }

    #[test]
    fn a_stream_draws_the_same_requests_and_leaves_the_rng_alike() {
        use crate::input::config::ContentConfig;
        use rand::SeedableRng;
        let content_rng = &mut Xoshiro256PlusPlus::seed_from_u64(1);
        let content = Content::generate(&ContentConfig::default(), content_rng).unwrap();
        let peers = PeersConfig {
            upload_spread: 0.5,
            ..PeersConfig::default()
        };
        for seed in 0..4 {
            let mut config = WorkloadConfig {
                rate_per_s: 5.0,
                window_s: 40.0,
                ..WorkloadConfig::default()
            };
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let whole = Workload::generate(&config, &peers, &content, &mut rng).unwrap();
            config.stream = true;
            let mut stream_rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let streamed = Workload::generate(&config, &peers, &content, &mut stream_rng).unwrap();
            assert!(streamed.requests.is_empty());
            assert_eq!(streamed.request_count(), whole.requests.len());
            assert_eq!(streamed.last_arrival_s(), whole.last_arrival_s());
            let drawn: Vec<VmRequest> = streamed.stream.clone().unwrap().collect();
            assert_eq!(drawn, whole.requests);
            assert_eq!(stream_rng, rng);
        }
    }
}
