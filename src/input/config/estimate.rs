//! What a run will cost, estimated before it starts: the memory its largest
//! simulation and its outputs need, and its work in block transfers. A
//! config above `limits.max_memory_gb` or `limits.max_block_transfers`
//! fails at validation with one line, instead of an allocation failure or
//! hours of silence.
//!
//! The model follows what the simulator allocates (`sim/`):
//!
//! - per request: the request, its arrival event and its VM record (twice
//!   while the run finishes); a streamed run keeps only a download time;
//! - per peer slot: the peer, three bitsets (held, in flight, queued for)
//!   of one bit per key of the swarm space, the list of its image's words
//!   with blocks it has not requested, and a holder entry per block of
//!   its image (16-bit while every slot is below 65,536). Slots follow the
//!   peers present plus those departed since the last purge (holder lists
//!   drop departed peers only lazily, and their slots are reused only after
//!   a purge: see `limits.purge_*`), so a run of fewer requests than a
//!   purge waits for keeps a slot per request; on a data center's hosts
//!   (`[topology]`) every host keeps its own bitsets;
//! - per leecher present: a waiting-queue entry per block of its image (a
//!   leecher with no free source waits on the queue of every block it
//!   lacks), and its downloads in flight (`peers.max_downloads` from
//!   peers, one per server group it is in), each a flow and an event;
//! - per rarity level (holder count) reached: a bitset of the space, and a
//!   count per image and swarm chunk. The highest level is the most peers
//!   holding one key: the present peers of the most popular image, or in
//!   the cross model all present peers (a common key);
//! - per image: its key mask (one bit per key) and its chunk positions (one
//!   `u32` per swarm chunk);
//! - per key: a holder count, a holder list and a waiting queue; under
//!   rack locality also per key and rack, with a second holder entry per
//!   block received;
//! - per server group: its state, and the rule's per-tick buffers;
//! - per tick and active group: a tick record;
//! - for the `run` command, every policy's records and their CSV text.
//!
//! Sizes are `size_of` of the structs involved. Checked against the peak
//! resident memory of real runs from 19 MB to 1.4 GB, the estimate is
//! within 0.89x to 1.45x (the table is in `configs/README.md`, under
//! `[limits]`): a one-line order of magnitude before a run, not a budget.

use super::policy::{Grouping, PolicyDef, SwarmModel};
use super::workload::{ArrivalKind, PopularityKind};
use super::{Config, ContentKind};
use crate::input::topology::Locality;

/// The sizes a run's cost grows with: the content's and the workload's,
/// as the config asks for them or as drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunSize {
    /// Images `K`.
    pub images: f64,
    /// Unique chunks over all images (the cross model's swarm chunks).
    pub unique_chunks: f64,
    /// Blocks of the unique chunks (the cross model's keys).
    pub unique_blocks: f64,
    /// Chunks of every image, summed (the isolated model's swarm chunks).
    pub image_chunks: f64,
    /// Blocks of every image, summed (the isolated model's keys).
    pub image_blocks: f64,
    /// Mb of every image, summed.
    pub image_mb: f64,
    /// VM requests.
    pub requests: f64,
    /// Time from the first to the last arrival (s).
    pub span_s: f64,
}

// Sizes count what a run touches: resident memory, which is what runs
// out. A growing vector's spare capacity is mostly never touched, so it is
// counted at about 10%.

/// Bytes per request of a kept run, whatever the policy: the request and
/// its arrival (32 + 16), its event in the queue (~150 with the index map),
/// and its VM record while running and when collected (72 + 72).
const REQUEST_BYTES: f64 = 48.0 + 150.0 + 144.0;
/// Bytes per request of a streamed run (`workload.stream`) whatever the
/// peers present: its download time and image, kept for the statistics.
const STREAMED_REQUEST_BYTES: f64 = 16.0;
/// Bytes per peer slot: the peer's state (~330) and its uploads' entry.
const PEER_BYTES: f64 = 350.0;
/// Bytes per peer slot and word of the space: its held and in-flight
/// bitsets (16) and the bitset of the waiting queues it is on (8).
const SLOT_WORD_BYTES: f64 = 24.0;
/// Bytes per peer slot for the list of its image's words with unrequested
/// blocks (`sim/unrequested.rs`): its length, and a word index and its
/// bits per word the largest image spans.
const SLOT_LIST_BYTES: f64 = 8.0;
const SLOT_IMAGE_WORD_BYTES: f64 = 16.0;
/// Bytes per holder entry: a peer slot (32-bit, or 16-bit while a run's
/// slots stay within `NARROW_MAX_SLOTS`, as `sim/holder_lists.rs` does)
/// and 10% of spare capacity.
const HOLDER_BYTES: f64 = 4.4;
/// The same for 16-bit slots.
const NARROW_HOLDER_BYTES: f64 = 2.2;
/// Peer slots up to which holder lists keep 16-bit slots
/// (`sim/holder_lists.rs`).
const NARROW_MAX_SLOTS: f64 = 65_536.0;
/// Bytes per waiting-queue entry: a 32-bit peer id in a queue whose `Vec`
/// grows by doubling and keeps popped entries until it empties or fills
/// (`sim/fifo.rs`), touched up to its capacity (1.5 times its entries on
/// average; the 100,000-host crowd's peak is the same as with the ring
/// buffer the queues were before).
const WAITING_ENTRY_BYTES: f64 = 6.0;
/// Bytes per download in flight (a peer's, or a server group's push): its
/// flow (~35) and its completion event (32) in the event queue's radix
/// buckets, each of which keeps the most entries it ever held as an event
/// passes down through several (about 125 bytes an event in all, measured
/// with massif on the 100,000-host flash crowd).
const FLOW_BYTES: f64 = 160.0;
/// Bytes per key (and, under rack locality, per key and rack): the
/// holder count (4), the holder list's header (24) and the waiting
/// queue's (32).
const KEY_BYTES: f64 = 60.0;
/// A key's holder list's first allocation once the key has a holder:
/// room for 32 slots at once (`sim/holder_lists.rs`, `FIRST_ROOM`), 128
/// bytes of 32-bit slots, and the allocator's header.
const KEY_LIST_FIRST_BYTES: f64 = 32.0 * 4.0 + 16.0;
/// A rack's holder list's first allocation (under rack locality, per key
/// and rack): the allocator's smallest chunk, whatever the entries.
const RACK_LIST_FIRST_BYTES: f64 = 32.0;
/// Bytes per server group: its record (400, with 16 flows kept inline:
/// `sim/transfer.rs`, `GROUP_FEW`) and the per-tick snapshot, allocation
/// and rule buffers (~150).
const GROUP_BYTES: f64 = 550.0;
/// Bytes per tick record.
const TICK_BYTES: f64 = 110.0;
/// Bytes per VM and per tick record kept for the `run` command's files:
/// the record and its CSV line.
const VM_OUTPUT_BYTES: f64 = 72.0 + 112.0;
const TICK_OUTPUT_BYTES: f64 = 110.0 + 108.0;
/// Bytes per image of the content (its name, chunk list and record), and
/// per chunk of each image (an index, and the space's chunk lists).
const IMAGE_BYTES: f64 = 100.0;
const IMAGE_CHUNK_BYTES: f64 = 20.0;
/// Bytes the process needs whatever the config (code, allocator, buffers).
const BASE_BYTES: f64 = 5e6;
/// A group-tick (rule and records for one group at one tick) costs about
/// this fraction of a block transfer; comparing two images' chunk lists
/// for the content report, this fraction per chunk.
const GROUP_TICK_WORK: f64 = 0.05;
const PAIR_CHUNK_WORK: f64 = 0.1;

/// What dominates an estimate: it decides the key the error names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Driver {
    /// The number of requests (and the blocks each receives).
    Requests,
    /// The content: images, chunks and blocks.
    Content,
    /// The server's ticks over the run.
    Ticks,
}

/// A run's estimated cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Peak memory (bytes).
    pub memory_bytes: f64,
    /// What most of the memory is for.
    pub(crate) memory_driver: Driver,
    /// Work, in block transfers (other work converted at its cost).
    pub block_transfers: f64,
    /// What most of the work is for.
    pub(crate) work_driver: Driver,
    /// Server ticks until the last VM completes (estimated).
    pub ticks: f64,
}

/// The swarm space and server groups of one policy on content of a
/// [`RunSize`].
struct Shape {
    /// Swarm chunks and keys (blocks) of the space, and its bitsets' words.
    chunks: f64,
    keys: f64,
    words: f64,
    /// Server groups, and those a leecher is in.
    groups: f64,
    groups_per_leecher: f64,
}

/// One policy's simulation.
struct PolicyCost {
    /// Memory by driver: requests, content, ticks.
    memory: [f64; 3],
    /// Records kept after the run, by driver.
    output: [f64; 3],
    /// Work by driver.
    work: [f64; 3],
}

impl RunSize {
    /// The sizes the config asks for, before anything is drawn. A manifest's
    /// content counts as one chunk of `blocks_per_chunk` blocks and a
    /// trace's requests as none (lower bounds): they are checked again
    /// once read ([`RunSize::estimate`] on the drawn sizes).
    pub fn from_config(config: &Config) -> RunSize {
        let c = &config.content;
        let (k, per_image) = match c.kind {
            ContentKind::Manifest => (1.0, 1.0),
            _ => (c.images as f64, c.chunks_per_image as f64),
        };
        let unique = match c.kind {
            ContentKind::Pool => {
                // Expected distinct slots when K images draw C of P each.
                let pool = (per_image / c.common_ratio).round().max(per_image);
                pool * -(k * (-per_image / pool).ln_1p()).exp_m1()
            }
            ContentKind::SharedCore => {
                let core = (c.common_ratio * per_image).round().min(per_image);
                core + k * (per_image - core)
            }
            ContentKind::Manifest => 1.0,
        };
        let blocks = f64::from(c.blocks_per_chunk);
        let w = &config.workload;
        let (requests, span_s) = match w.arrivals {
            ArrivalKind::Poisson => (w.rate_per_s * w.window_s, w.window_s),
            ArrivalKind::Burst => (w.burst_count as f64, w.burst_spread_s),
            ArrivalKind::Trace => (0.0, 0.0),
        };
        RunSize {
            images: k,
            unique_chunks: unique,
            unique_blocks: unique * blocks,
            image_chunks: k * per_image,
            image_blocks: k * per_image * blocks,
            image_mb: k * per_image * blocks * c.block_mb,
            requests,
            span_s,
        }
    }

    /// The cost of running every policy of `config` on content and a
    /// workload of these sizes, as the `run` command does (a sweep's job
    /// needs less: it keeps no records).
    pub fn estimate(&self, config: &Config) -> Estimate {
        let ticks = self.ticks(config);
        let costs: Vec<PolicyCost> = config
            .resolved_policies()
            .iter()
            .map(|p| self.policy_cost(p, config, ticks))
            .collect();
        // Peak: the largest simulation, with every policy's records.
        let largest = costs.iter().max_by(|a, b| {
            a.memory
                .iter()
                .sum::<f64>()
                .total_cmp(&b.memory.iter().sum())
        });
        let mut memory = largest.map_or([0.0; 3], |c| c.memory);
        let mut work = [0.0; 3];
        for c in &costs {
            for d in 0..3 {
                memory[d] += c.output[d];
                work[d] += c.work[d];
            }
        }
        memory[1] += self.images * IMAGE_BYTES + self.image_chunks * IMAGE_CHUNK_BYTES;
        // The `run` command's content report compares every pair of images.
        let pairs = self.images * (self.images - 1.0) / 2.0;
        work[1] += pairs * (self.image_chunks / self.images) * PAIR_CHUNK_WORK;
        Estimate {
            memory_bytes: BASE_BYTES + memory.iter().sum::<f64>(),
            memory_driver: driver(memory),
            block_transfers: work.iter().sum(),
            work_driver: driver(work),
            ticks,
        }
    }

    /// Ticks until the last VM completes: the arrivals' span, then a
    /// download.
    fn ticks(&self, config: &Config) -> f64 {
        let run_s = self.span_s + self.download_s(config);
        (run_s / config.server.tick_s).ceil() + 1.0
    }

    /// Requests per second over the arrivals' span (a tick at least).
    fn arrival_rate(&self, config: &Config) -> f64 {
        self.requests / self.span_s.max(config.server.tick_s)
    }

    /// A download's time `T_d` in the fluid model: `lambda T_d` leechers
    /// share the server's `u_s` and upload `u_c` each, so
    /// `T_d = (F - u_s / lambda) / u_c`; at least an image at the server's
    /// and a peer's rate together. Without peer upload the server serves
    /// the requests in turn.
    fn download_s(&self, config: &Config) -> f64 {
        let f = self.image_mb / self.images.max(1.0);
        let (u_s, u_c) = (config.server.u_s_mbps, config.peers.upload_mbps);
        let alone = f / (u_s + u_c).max(f64::MIN_POSITIVE);
        if u_c > 0.0 {
            ((f - u_s / self.arrival_rate(config)) / u_c).max(alone)
        } else {
            alone * self.requests.max(1.0)
        }
    }

    /// Peers present at once: by Little's law, the arrival rate times a
    /// download and a mean seeding time (all the requests, if they arrive
    /// within that time), and the preheated seeders; and the leechers
    /// among them.
    fn present(&self, config: &Config) -> (f64, f64) {
        let w = &config.workload;
        let download_s = self.download_s(config);
        let seeding_s = (w.lifetime_min_s + w.lifetime_max_s) / 2.0;
        let arriving_within = |t: f64| {
            if t >= self.span_s {
                self.requests
            } else {
                self.requests * t / self.span_s
            }
        };
        let leechers = arriving_within(download_s);
        let peers = arriving_within(download_s + seeding_s);
        (peers + self.seeders(config), leechers)
    }

    /// Preheated seeders (per image).
    fn seeders(&self, config: &Config) -> f64 {
        self.images * config.workload.initial_seeders as f64
    }

    /// Hosts: the requests' and the preheated seeders.
    fn hosts(&self, config: &Config) -> f64 {
        self.requests + self.seeders(config)
    }

    /// Peers in the holder lists at once: the present ones, and those
    /// departed since the last purge. A purge comes once the departed
    /// outnumber the present and either exceed `limits.purge_departed_peers`
    /// or hold more than `limits.purge_stale_holders` entries (a block each),
    /// whichever comes first; until then their slots are not reused.
    fn listed(&self, config: &Config, present: f64) -> f64 {
        let limits = &config.limits;
        let by_peers = limits.purge_departed_peers() as f64;
        let by_entries = limits.purge_stale_holders() as f64 / self.blocks_per_image().max(1.0);
        let departed = present.max(by_peers.min(by_entries));
        let seeders = self.seeders(config);
        seeders + self.requests.min(present - seeders + departed)
    }

    /// The most peers holding one key, as a share of those present: the
    /// most popular image's share of the requests, or in the cross model
    /// all of them (a key common to every image).
    fn top_key_share(&self, config: &Config, swarms: SwarmModel) -> f64 {
        let w = &config.workload;
        let k = self.images.max(1.0);
        match (swarms, w.popularity) {
            (SwarmModel::Cross, _) => 1.0,
            (SwarmModel::Isolated, PopularityKind::Uniform) => 1.0 / k,
            (SwarmModel::Isolated, PopularityKind::Zipf) => {
                // Image 1's weight over all K: 1 / H_K(s).
                1.0 / harmonic(k, w.zipf_exponent)
            }
        }
    }

    /// Words of the space an image's keys span: its chunks' blocks, each
    /// chunk's perhaps across one word more than it fills; in the cross
    /// model its chunks lie apart in the space, at most all of it.
    fn image_words(&self, swarms: SwarmModel, space_words: f64) -> f64 {
        let k = self.images.max(1.0);
        let chunks = self.image_chunks / k;
        let blocks_per_chunk = self.image_blocks / self.image_chunks.max(1.0);
        match swarms {
            SwarmModel::Cross => chunks * ((blocks_per_chunk / 64.0).ceil() + 1.0),
            SwarmModel::Isolated => (self.blocks_per_image() / 64.0).ceil() + 1.0,
        }
        .min(space_words)
    }

    /// Racks with holder lists of their own: those of the data center
    /// under rack locality (`peers.locality = "rack"`), else none.
    pub(super) fn locality_racks(&self, config: &Config) -> f64 {
        match (config.peers.locality, &config.topology) {
            (Locality::Rack, Some(t)) => {
                (self.hosts(config) / t.hosts_per_rack.max(1) as f64).ceil()
            }
            _ => 0.0,
        }
    }

    /// `policy`'s swarm space and server groups.
    fn shape(&self, policy: &PolicyDef) -> Shape {
        let (chunks, keys) = match policy.swarms {
            SwarmModel::Cross => (self.unique_chunks, self.unique_blocks),
            SwarmModel::Isolated => (self.image_chunks, self.image_blocks),
        };
        let (groups, groups_per_leecher) = match policy.groups {
            Grouping::Image => (self.images, 1.0),
            Grouping::Chunk => (chunks, self.image_chunks / self.images.max(1.0)),
        };
        Shape {
            chunks,
            keys,
            words: (keys / 64.0).ceil(),
            groups,
            groups_per_leecher,
        }
    }

    /// Blocks of one image (on average).
    fn blocks_per_image(&self) -> f64 {
        self.image_blocks / self.images.max(1.0)
    }

    fn policy_cost(&self, policy: &PolicyDef, config: &Config, ticks: f64) -> PolicyCost {
        let shape = self.shape(policy);
        let Shape {
            chunks: swarm_chunks,
            keys,
            words,
            groups,
            groups_per_leecher,
        } = shape;
        let (_, leechers) = self.present(config);
        let n = self.requests;
        // A group gets a record at a tick while it has a leecher: with the
        // leechers' groups spread evenly, G (1 - exp(-L g / G)) of them.
        let demand = leechers * groups_per_leecher;
        let active = if groups > 0.0 {
            -groups * (-demand / groups).exp_m1()
        } else {
            0.0
        };
        let records = ticks * active;
        let kept_records = if config.workload.stream { 0.0 } else { n };
        let peers = self.peer_memory(config, policy.swarms, &shape);
        // Under rack locality each rack has a holder count, list and
        // waiting queue per key and a bitset of the keys it holds.
        let racks = self.locality_racks(config);
        let content = self.images * (words * 8.0 + swarm_chunks * 4.0)
            + keys * (KEY_BYTES + KEY_LIST_FIRST_BYTES)
            + keys * racks * (KEY_BYTES + RACK_LIST_FIRST_BYTES)
            + racks * words * 8.0
            + groups * GROUP_BYTES;
        PolicyCost {
            memory: [peers, content, records * TICK_BYTES],
            output: [
                kept_records * VM_OUTPUT_BYTES,
                0.0,
                records * TICK_OUTPUT_BYTES,
            ],
            work: [
                n * self.blocks_per_image(),
                0.0,
                ticks * groups * GROUP_TICK_WORK,
            ],
        }
    }

    /// Memory that follows the requests and the peers (bytes): the
    /// requests' records, the peers' slots, bitsets and holder entries, the
    /// leechers' waiting-queue entries and the rarity levels.
    fn peer_memory(&self, config: &Config, swarms: SwarmModel, shape: &Shape) -> f64 {
        let blocks_per_image = self.blocks_per_image();
        let words = shape.words;
        let (present, leechers) = self.present(config);
        let listed = self.listed(config, present);
        // A data center's hosts keep their slots (and bitsets) for the run.
        let slots = match config.topology {
            Some(_) => self.hosts(config).max(listed),
            None => listed,
        };
        // Under rack locality a holder is listed per key and per (key, rack).
        let lists = if self.locality_racks(config) > 0.0 {
            2.0
        } else {
            1.0
        };
        let entry_bytes = if slots <= NARROW_MAX_SLOTS {
            NARROW_HOLDER_BYTES
        } else {
            HOLDER_BYTES
        };
        // Streamed, a request's records live only while its peer is listed.
        let records = if config.workload.stream {
            self.requests * STREAMED_REQUEST_BYTES + listed * REQUEST_BYTES
        } else {
            self.requests * REQUEST_BYTES
        };
        let levels = present * self.top_key_share(config, swarms);
        let downloads = f64::from(config.peers.max_downloads) + shape.groups_per_leecher;
        records
            + slots * (PEER_BYTES + words * SLOT_WORD_BYTES)
            + slots * (SLOT_LIST_BYTES + self.image_words(swarms, words) * SLOT_IMAGE_WORD_BYTES)
            + listed * blocks_per_image * entry_bytes * lists
            + leechers * blocks_per_image * WAITING_ENTRY_BYTES
            + leechers * downloads * FLOW_BYTES
            + levels * (words * 8.0 + (shape.chunks + self.images) * 4.0)
    }
}

/// `H_K(s)`, the sum of `i^-s` for `i` from 1 to `k`: the first 10,000
/// terms, and the rest as an integral (within 10^-4 of the sum), so that
/// a config of a billion images is checked at once.
fn harmonic(k: f64, s: f64) -> f64 {
    const TERMS: f64 = 10_000.0;
    let head = (1..=k.min(TERMS) as u64)
        .map(|i| (i as f64).powf(-s))
        .sum::<f64>();
    if k <= TERMS {
        return head;
    }
    // The integral of x^-s from TERMS + 1/2 to k + 1/2.
    let (a, b) = (TERMS + 0.5, k + 0.5);
    let tail = if (s - 1.0).abs() < 1e-12 {
        (b / a).ln()
    } else {
        (b.powf(1.0 - s) - a.powf(1.0 - s)) / (1.0 - s)
    };
    head + tail
}

/// The largest of three parts.
fn driver(parts: [f64; 3]) -> Driver {
    let [r, c, t] = parts;
    if r >= c && r >= t {
        Driver::Requests
    } else if c >= t {
        Driver::Content
    } else {
        Driver::Ticks
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn estimate(text: &str) -> Estimate {
        let mut config: Config = toml::from_str(text).unwrap();
        config.source = Path::new("e.toml").to_path_buf();
        RunSize::from_config(&config).estimate(&config)
    }

    #[test]
    fn the_paper_default_is_small_and_its_work_is_its_block_transfers() {
        let e = estimate("");
        assert!((5e6..1e8).contains(&e.memory_bytes), "{e:?}");
        // 600 requests x 1024 blocks x 5 policies, and a little for ticks.
        let transfers = 600.0 * 1024.0 * 5.0;
        assert!(
            (transfers..1.1 * transfers).contains(&e.block_transfers),
            "{e:?}"
        );
    }

    #[test]
    fn each_driver_is_found() {
        let e = estimate("[workload]\nrate_per_s = 1e6\n");
        assert!(e.memory_bytes > 1e12, "{e:?}");
        assert_eq!(e.memory_driver, Driver::Requests);
        let e = estimate("[content]\nimages = 1000000\n");
        assert_eq!(e.memory_driver, Driver::Content);
        // Per-chunk groups: a record per tick for each of ~70 chunks.
        let e = estimate("policies = [\"cross-opt\"]\n");
        assert_eq!(e.memory_driver, Driver::Ticks);
    }

    #[test]
    fn a_manifest_and_a_trace_count_as_lower_bounds() {
        let e = estimate(
            "[content]\nkind = \"manifest\"\nmanifest = \"m.toml\"\n[workload]\narrivals = \"trace\"\ntrace = \"t.csv\"\n",
        );
        assert!(e.memory_bytes < 1e8, "{e:?}");
        assert!(e.block_transfers < 10.0, "{e:?}");
    }

    #[test]
    fn rack_locality_costs_a_second_holder_list_per_key_and_rack() {
        let flat = "policies = [\"cross-equ\"]\n[workload]\nrate_per_s = 20.0\n\
                    [topology]\nhosts_per_rack = 10\n";
        let rack = flat.replace("[topology]", "[peers]\nlocality = \"rack\"\n[topology]");
        let (f, r) = (estimate(flat), estimate(&rack));
        // About 6,000 requests x 1,024 blocks: a second 16-bit entry each
        // (6,000 hosts), and 600 racks' lists, first allocations, queues
        // and counts of ~4,700 keys.
        let entries = 6000.0 * 1024.0 * 2.2;
        let racks = 600.0 * 4700.0 * 92.0;
        let extra = r.memory_bytes - f.memory_bytes;
        assert!(
            (0.8 * (entries + racks)..1.3 * (entries + racks)).contains(&extra),
            "{extra} more bytes: {f:?} against {r:?}"
        );
    }

    #[test]
    fn a_streamed_run_costs_its_present_peers_not_its_requests() {
        let kept = |window_s: f64| {
            format!(
                "policies = [\"cross-equ\"]\n[workload]\nrate_per_s = 1000.0\nwindow_s = {window_s}\n"
            )
        };
        let streamed =
            |window_s: f64| kept(window_s).replace("[workload]\n", "[workload]\nstream = true\n");
        let (k1, k2) = (estimate(&kept(1000.0)), estimate(&kept(2000.0)));
        let (s1, s2) = (estimate(&streamed(1000.0)), estimate(&streamed(2000.0)));
        // Both hold the peers present, and those departed since a purge
        // (about 110,000 each, with 32-bit holder entries).
        assert!((1e9..3e9).contains(&s1.memory_bytes), "{s1:?}");
        assert!(
            s2.memory_bytes < 1.05 * s1.memory_bytes,
            "{s2:?} against {s1:?}"
        );
        // Kept, every request's records too: 10^6 more requests, 10^6
        // times their bytes more.
        let per_request = (k2.memory_bytes - k1.memory_bytes) / 1e6;
        assert!((300.0..1000.0).contains(&per_request), "{k1:?} {k2:?}");
        assert!(s1.memory_bytes < k1.memory_bytes, "{s1:?} against {k1:?}");
        assert_eq!(s1.block_transfers, k1.block_transfers);
    }

    #[test]
    fn a_run_shorter_than_a_purge_keeps_a_slot_per_request() {
        // Requests of 200 images, far fewer than a purge waits for: each
        // keeps its slot's bitsets of the 200 x 1,024 keys (3,200 words,
        // 24 bytes each) to the end, though at most ~170 are present at
        // once. So 300 more requests (same rate, twice the window) cost
        // 300 slots more (a run of 600 took 86 MB).
        let run = |window_s: f64| {
            let text = format!(
                "policies = [\"iso\"]\n[content]\nimages = 200\n[workload]\nwindow_s = {window_s}\n"
            );
            estimate(&text).memory_bytes
        };
        let slots = 300.0 * 3200.0 * 24.0;
        let more = run(300.0) - run(150.0);
        assert!((slots..1.5 * slots).contains(&more), "{more} bytes more");
    }

    #[test]
    fn a_burst_counts_every_leechers_waiting_entries() {
        // 3,000 requests either way, and no purge: the same slots and
        // holder entries. In a burst all 3,000 are leechers at once, each
        // waiting for up to 1,024 blocks: 12 MB of 4-byte queue entries
        // more than the few leechers of a Poisson run have.
        let burst = "policies = [\"iso\"]\n[workload]\narrivals = \"burst\"\nburst_count = 3000\n";
        let poisson = "policies = [\"iso\"]\n[workload]\nrate_per_s = 10.0\n";
        let (b, p) = (estimate(burst), estimate(poisson));
        let entries = 3000.0 * 1024.0 * 4.0;
        assert!(
            b.memory_bytes - p.memory_bytes > entries,
            "{b:?} against {p:?}"
        );
    }

    #[test]
    fn harmonic_sums_agree_with_their_limits() {
        // H_K(1) = ln K + 0.5772... + 1 / 2K; H_inf(2) = pi^2 / 6.
        let gamma = 0.577_215_664_901_532_9;
        assert!((harmonic(10.0, 1.0) - harmonic_by_terms(10, 1.0)).abs() < 1e-12);
        for k in [10_000.0, 1e6, 1e9] {
            let h = harmonic(k, 1.0);
            assert!(
                (h - (f64::ln(k) + gamma + 0.5 / k)).abs() < 1e-4,
                "{k}: {h}"
            );
        }
        let pi2_6 = std::f64::consts::PI.powi(2) / 6.0;
        assert!((harmonic(1e9, 2.0) - pi2_6).abs() < 1e-6);
        assert!((harmonic(20_000.0, 0.5) - harmonic_by_terms(20_000, 0.5)).abs() < 1e-4);
    }

    fn harmonic_by_terms(k: u64, s: f64) -> f64 {
        (1..=k).map(|i| (i as f64).powf(-s)).sum()
    }

    #[test]
    fn the_hottest_image_decides_the_rarity_levels() {
        // 100 images, isolated: one key's holders are at most the hottest
        // image's peers, 1 / H_100 = 19% of them under Zipf and 1% under
        // uniform popularity; a level is a bitset of 1,600 words and a
        // count for each of 1,600 chunks and 100 images.
        let run = |popularity: &str| {
            let text = format!(
                "policies = [\"iso\"]\n[content]\nimages = 100\n\
                 [workload]\npopularity = \"{popularity}\"\n"
            );
            estimate(&text).memory_bytes
        };
        let more = run("zipf") - run("uniform");
        // About 170 peers present.
        let level_bytes = 1600.0 * 8.0 + (1600.0 + 100.0) * 4.0;
        let levels = 170.0 * (1.0 / harmonic(100.0, 1.0) - 0.01) * level_bytes;
        assert!(
            (0.7 * levels..1.5 * levels).contains(&more),
            "{more} bytes more"
        );
    }

    #[test]
    fn holder_entries_stay_16_bits_while_the_slots_fit() {
        // 100 req/s for 600 s and for 1,000 s: 60,000 and 100,000 VMs, but
        // some 8,000 peers at once either way. Streamed, the longer run
        // costs its extra requests' records and ticks (about 2 MB), not
        // 32-bit holder entries (the rule by hosts added 50 MB).
        let run = |window_s: u32| {
            let text = format!(
                "policies = [\"cross-equ\"]\n[workload]\nrate_per_s = 100.0\n\
                 window_s = {window_s}.0\nstream = true\n"
            );
            estimate(&text).memory_bytes
        };
        let extra = run(1_000) - run(600);
        assert!(extra < 4e6, "{extra} bytes more");
    }

    #[test]
    fn holder_entries_take_32_bits_past_65536_hosts() {
        let crowd = |hosts: u32| {
            let text = format!(
                "policies = [\"cross-equ\"]\n[content]\nimages = 1\nchunks_per_image = 10\n\
                 blocks_per_chunk = 5\ncommon_ratio = 1.0\n\
                 [workload]\narrivals = \"burst\"\nburst_count = {hosts}\n"
            );
            estimate(&text).memory_bytes
        };
        let step = crowd(66_000) - crowd(65_000);
        let before = crowd(65_000) - crowd(64_000);
        // Every entry (50 a host) doubles, 2.2 -> 4.4 bytes.
        let widened = 65_000.0 * 50.0 * 2.2;
        assert!(
            step - before > 0.9 * widened,
            "{step} against {before} bytes"
        );
    }
}
