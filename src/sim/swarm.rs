//! The swarm and transfer model (MODEL.md sections 3-4): peers, swarms,
//! block selection, upload slots, the server's groups, and the events that
//! move blocks between them.
//!
//! Both swarm models run on one mechanism. Each policy gets a *block space*:
//! in the `cross` model a key per block of each unique chunk, so peers of any
//! image holding a chunk can serve it; in the `isolated` model every image
//! gets private copies of its chunks, so a chunk shared by two images is two
//! separate swarms and peers only help peers of their own image.

use std::collections::BTreeSet;
use std::time::Instant;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

use crate::input::config::{
    Grouping, LimitsConfig, PeersConfig, PieceSelection, PolicyDef, RuleKind, ServerConfig,
    SwarmModel,
};
use crate::input::content::Content;
use crate::input::workload::Workload;
use crate::policy::{
    AllocationRule, Equal, Exact, ExactAvailable, Fixed, GroupState, Proportional, Snapshot,
    Subgradient, SubgradientParams, water_fill,
};
use crate::sim::engine::{Engine, EventId};
use crate::sim::metrics::{RunCounters, TickRecord, VmRecord};
use crate::sim::transfer::{FairShare, FlowId};

/// Index of a peer (a VM's host, or a preheated seeder).
type PeerId = u32;

/// Everything one simulation run needs.
#[derive(Debug, Clone, Copy)]
pub struct RunSetup<'a> {
    /// The images.
    pub content: &'a Content,
    /// The requests (shared by every policy of a seed).
    pub workload: &'a Workload,
    /// Host parameters.
    pub peers: &'a PeersConfig,
    /// Server parameters.
    pub server: &'a ServerConfig,
    /// The policy to run.
    pub policy: &'a PolicyDef,
    /// Parameters of the subgradient rule, if the policy uses it.
    pub subgradient: SubgradientParams,
    /// Seed of the simulation's own draws (tie-breaks, source choice).
    pub seed: u64,
    /// Guards: stop with an error past this many events or this time.
    pub limits: &'a LimitsConfig,
}

/// Why a run did not produce a result.
#[derive(Debug, Clone, PartialEq)]
pub enum RunError {
    /// A guard of `[limits]` stopped it.
    Limit {
        /// The policy.
        policy: String,
        /// The run's seed.
        seed: u64,
        /// Which limit, and where the run was.
        message: String,
    },
    /// An end-of-run invariant failed: a bug, never a result.
    Invariant {
        /// The policy.
        policy: String,
        /// The run's seed.
        seed: u64,
        /// The invariant and the values that broke it.
        message: String,
    },
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Limit {
                policy,
                seed,
                message,
            } => {
                write!(
                    f,
                    "run of policy `{policy}` with seed {seed} stopped: {message}"
                )
            }
            RunError::Invariant {
                policy,
                seed,
                message,
            } => write!(
                f,
                "run of policy `{policy}` with seed {seed} broke an invariant (a bug; please report it with the config): {message}"
            ),
        }
    }
}

impl std::error::Error for RunError {}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct RunOutput {
    /// One record per VM request, in request order.
    pub vms: Vec<VmRecord>,
    /// Per tick and group.
    pub ticks: Vec<TickRecord>,
    /// Totals and counters.
    pub counters: RunCounters,
    /// A label per server group (image name, or chunk id).
    pub group_labels: Vec<String>,
    /// Mb peers delivered per swarm chunk. In the cross model swarm chunks
    /// are the content's chunks, in order; in the isolated model each
    /// image's chunks in turn.
    pub peer_mb_by_chunk: Vec<f64>,
}

/// Number of server groups a policy has on this content: images, or the
/// swarm model's chunks (unique chunks for `cross`, every image's chunks for
/// `isolated`).
pub fn group_count(content: &Content, policy: &PolicyDef) -> usize {
    match (policy.groups, policy.swarms) {
        (Grouping::Image, _) => content.images.len(),
        (Grouping::Chunk, SwarmModel::Cross) => content.chunks.len(),
        (Grouping::Chunk, SwarmModel::Isolated) => {
            content.images.iter().map(|im| im.chunks.len()).sum()
        }
    }
}

/// The block space of a swarm model: which keys exist and who holds what.
struct Space {
    /// First key of each swarm chunk.
    chunk_first: Vec<u32>,
    /// Blocks per swarm chunk.
    chunk_blocks: Vec<u32>,
    /// Block size per swarm chunk (Mb).
    chunk_block_mb: Vec<f64>,
    /// Label per swarm chunk.
    chunk_label: Vec<String>,
    /// The swarm chunk of each key.
    key_chunk: Vec<u32>,
    /// Bitset words per peer.
    words: usize,
    /// Per image: the bitset of its keys.
    image_mask: Vec<Vec<u64>>,
    /// Per image: indices of the non-zero words of its mask.
    image_words: Vec<Vec<u32>>,
    /// Per image: its swarm chunks in image order.
    image_chunks: Vec<Vec<u32>>,
    /// Per image: the position of each swarm chunk in the image (or u32::MAX).
    chunk_pos: Vec<Vec<u32>>,
    /// Per image: blocks in the image.
    image_blocks: Vec<u32>,
}

impl Space {
    fn new(content: &Content, model: SwarmModel) -> Space {
        // (content chunk, label) per swarm chunk, and each image's swarm chunks.
        let (swarm_chunks, image_chunks): (Vec<(usize, String)>, Vec<Vec<u32>>) = match model {
            SwarmModel::Cross => (
                content
                    .chunks
                    .iter()
                    .enumerate()
                    .map(|(i, c)| (i, c.id.clone()))
                    .collect(),
                content
                    .images
                    .iter()
                    .map(|im| im.chunks.iter().map(|&c| c as u32).collect())
                    .collect(),
            ),
            SwarmModel::Isolated => {
                let mut chunks = Vec::new();
                let mut per_image = Vec::new();
                for im in &content.images {
                    let mine = im
                        .chunks
                        .iter()
                        .map(|&c| {
                            chunks.push((c, format!("{}/{}", im.name, content.chunks[c].id)));
                            (chunks.len() - 1) as u32
                        })
                        .collect();
                    per_image.push(mine);
                }
                (chunks, per_image)
            }
        };
        let mut chunk_first = Vec::new();
        let mut key_chunk = Vec::new();
        for (sc, &(c, _)) in swarm_chunks.iter().enumerate() {
            chunk_first.push(key_chunk.len() as u32);
            key_chunk.extend(std::iter::repeat_n(
                sc as u32,
                content.chunks[c].blocks as usize,
            ));
        }
        let words = key_chunk.len().div_ceil(64);
        let mut image_mask = Vec::new();
        let mut image_words = Vec::new();
        let mut chunk_pos = Vec::new();
        let mut image_blocks = Vec::new();
        for chunks in &image_chunks {
            let mut mask = vec![0u64; words];
            let mut pos = vec![u32::MAX; swarm_chunks.len()];
            let mut blocks = 0;
            for (p, &sc) in chunks.iter().enumerate() {
                pos[sc as usize] = p as u32;
                let first = chunk_first[sc as usize];
                let n = content.chunks[swarm_chunks[sc as usize].0].blocks;
                for k in first..first + n {
                    mask[k as usize / 64] |= 1 << (k % 64);
                }
                blocks += n;
            }
            image_words.push(
                (0..words as u32)
                    .filter(|&w| mask[w as usize] != 0)
                    .collect(),
            );
            image_mask.push(mask);
            chunk_pos.push(pos);
            image_blocks.push(blocks);
        }
        Space {
            chunk_blocks: swarm_chunks
                .iter()
                .map(|&(c, _)| content.chunks[c].blocks)
                .collect(),
            chunk_block_mb: swarm_chunks
                .iter()
                .map(|&(c, _)| content.chunks[c].block_mb)
                .collect(),
            chunk_label: swarm_chunks.into_iter().map(|(_, l)| l).collect(),
            chunk_first,
            key_chunk,
            words,
            image_mask,
            image_words,
            image_chunks,
            chunk_pos,
            image_blocks,
        }
    }

    /// The words of image `image`'s key mask, as `(word index, bits)`.
    fn image_keys(&self, image: usize) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.image_words[image]
            .iter()
            .map(move |&w| (w as usize, self.image_mask[image][w as usize]))
    }

    fn block_mb(&self, key: u32) -> f64 {
        self.chunk_block_mb[self.key_chunk[key as usize] as usize]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PeerState {
    Leecher,
    Seeder,
    Gone,
}

struct Peer {
    image: u32,
    upload_mbps: f64,
    state: PeerState,
    have: Vec<u64>,
    /// Blocks in flight to this peer (never requested twice).
    pending: Vec<u64>,
    /// Blocks lacking, in flight included.
    missing: u32,
    /// Blocks lacking per chunk of the image (image order).
    chunk_missing: Vec<u32>,
    /// Block requests in flight to peers.
    peer_downloads: u32,
    /// All incoming flows, peer and server.
    incoming: u32,
    uploads: FairShare,
    upload_event: Option<EventId>,
    /// (group, flow) of the server flows in flight to this peer.
    server_flows: Vec<(u32, FlowId)>,
    /// Request index, `None` for a preheated seeder.
    vm: Option<usize>,
    lifetime_s: f64,
    joined_s: f64,
    completed_s: f64,
    /// Mb uploaded while a leecher.
    sent_as_leecher_mb: f64,
    /// Whether it counts in the statistics (a VM arriving after the warm-up).
    counted: bool,
    from_server_mb: f64,
    from_peers_mb: f64,
}

#[derive(Debug, Clone, Copy)]
enum Source {
    Peer(PeerId),
    Server(u32),
}

#[derive(Debug, Clone, Copy)]
struct Flow {
    receiver: PeerId,
    source: Source,
    key: u32,
    size_mb: f64,
}

struct Group {
    share: FairShare,
    event: Option<EventId>,
    /// Leechers that still lack data of the group.
    members: Vec<PeerId>,
    seeders: usize,
    remaining_mb: f64,
    /// Mb peers delivered into the group since the last tick.
    peer_mb_since_tick: f64,
    popularity: f64,
    sent_mb_at_tick: f64,
}

#[derive(Debug, Clone, Copy)]
enum Event {
    Arrival(usize),
    Tick,
    PeerUpload(PeerId),
    ServerGroup(u32),
    Departure(PeerId),
}

/// Seed of an independent random stream derived from a base seed.
pub fn stream_seed(seed: u64, stream: u64) -> u64 {
    // SplitMix64 finaliser: nearby (seed, stream) pairs give unrelated seeds.
    let mut z = seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Attempts a leecher makes at finding a free source for its rarest blocks
/// before it waits to be offered one.
const SOURCE_ATTEMPTS: usize = 4;

struct Sim<'a> {
    setup: RunSetup<'a>,
    space: Space,
    engine: Engine<Event>,
    picker: Picker,
    rule: Box<dyn AllocationRule>,
    peers: Vec<Peer>,
    flows: Vec<Flow>,
    free_flows: Vec<FlowId>,
    /// Present holders per key.
    count: Vec<u32>,
    /// Holders per key; departed peers are dropped lazily.
    holders: Vec<Vec<PeerId>>,
    groups: Vec<Group>,
    /// Leechers with a free download slot that found no source.
    starved: BTreeSet<PeerId>,
    max_incoming: u32,
    completed: usize,
    vms: Vec<Option<VmRecord>>,
    ticks: Vec<TickRecord>,
    counters: RunCounters,
    peer_mb_by_chunk: Vec<f64>,
    scratch: Vec<PeerId>,
}

/// Run one policy on one workload.
///
/// The run is checked at its end ([`check_invariants`]); a violation, or a
/// guard of `[limits]`, is an error carrying the policy and the seed.
pub fn simulate(setup: RunSetup, on_vm_done: &mut dyn FnMut()) -> Result<RunOutput, RunError> {
    let started = Instant::now();
    let mut sim = Sim::new(setup);
    if let Err(message) = sim.run(on_vm_done) {
        return Err(RunError::Limit {
            policy: setup.policy.name.clone(),
            seed: setup.seed,
            message,
        });
    }
    let mut out = sim.finish();
    out.counters.wall_s = started.elapsed().as_secs_f64();
    check_invariants(&out, setup.workload.requests.len(), setup.server).map_err(|message| {
        RunError::Invariant {
            policy: setup.policy.name.clone(),
            seed: setup.seed,
            message,
        }
    })?;
    Ok(out)
}

/// The cheap invariants every run must satisfy (MODEL.md section 4): every
/// VM completes; no block reaches a leecher twice; every Mb sent is received
/// or counted as waste; no peer sends above its upload; at every tick the
/// allocation stays within `u_s` and no group sent more than its rate.
pub fn check_invariants(
    out: &RunOutput,
    requests: usize,
    server: &ServerConfig,
) -> Result<(), String> {
    let c = &out.counters;
    if out.vms.len() != requests {
        return Err(format!("{} of {requests} VMs completed", out.vms.len()));
    }
    if c.duplicate_deliveries > 0 {
        return Err(format!(
            "{} blocks were delivered twice to one leecher",
            c.duplicate_deliveries
        ));
    }
    let sent = c.server_sent_mb + c.peer_sent_mb;
    if (sent - (c.received_mb + c.waste_mb)).abs() > 1e-6 * sent.max(1.0) {
        return Err(format!(
            "{sent} Mb sent but {} received and {} wasted",
            c.received_mb, c.waste_mb
        ));
    }
    if c.max_peer_utilisation > 1.0 + 1e-9 {
        return Err(format!(
            "a peer sent {} times its upload capacity",
            c.max_peer_utilisation
        ));
    }
    let eps = 1e-9;
    let mut previous: std::collections::HashMap<usize, f64> = std::collections::HashMap::new();
    let mut current: std::collections::HashMap<usize, f64> = std::collections::HashMap::new();
    let mut tick_time = f64::NAN;
    let mut tick_rate = 0.0;
    for t in &out.ticks {
        if t.time_s != tick_time {
            if tick_rate > server.u_s_mbps * (1.0 + eps) {
                return Err(format!(
                    "allocation of {tick_rate} Mb/s above u_s at t = {tick_time} s"
                ));
            }
            previous = std::mem::take(&mut current);
            tick_time = t.time_s;
            tick_rate = 0.0;
        }
        tick_rate += t.u_s_g_mbps;
        current.insert(t.group, t.u_s_g_mbps);
        let allowed = previous.get(&t.group).copied().unwrap_or(0.0) * server.tick_s;
        if t.server_sent_mb > allowed * (1.0 + eps) + 1e-6 {
            return Err(format!(
                "group {} sent {} Mb in the tick before t = {} s, above its {allowed} Mb",
                t.group, t.server_sent_mb, t.time_s
            ));
        }
    }
    if tick_rate > server.u_s_mbps * (1.0 + eps) {
        return Err(format!(
            "allocation of {tick_rate} Mb/s above u_s at t = {tick_time} s"
        ));
    }
    Ok(())
}

impl<'a> Sim<'a> {
    fn new(setup: RunSetup<'a>) -> Sim<'a> {
        let space = Space::new(setup.content, setup.policy.swarms);
        let k = setup.content.images.len();
        let popularity = &setup.workload.popularity;
        let (n_groups, group_pop): (usize, Vec<f64>) = match setup.policy.groups {
            Grouping::Image => (k, popularity.clone()),
            Grouping::Chunk => {
                let mut pop = vec![0.0; space.chunk_first.len()];
                for (i, chunks) in space.image_chunks.iter().enumerate() {
                    for &c in chunks {
                        pop[c as usize] += popularity[i];
                    }
                }
                (pop.len(), pop)
            }
        };
        let groups = (0..n_groups)
            .map(|g| Group {
                share: FairShare::new(0.0),
                event: None,
                members: Vec::new(),
                seeders: 0,
                remaining_mb: 0.0,
                peer_mb_since_tick: 0.0,
                popularity: group_pop[g],
                sent_mb_at_tick: 0.0,
            })
            .collect();
        let rule: Box<dyn AllocationRule> = match setup.policy.rule {
            RuleKind::Equal => Box::new(Equal),
            RuleKind::Proportional => Box::new(Proportional),
            RuleKind::Subgradient => Box::new(Subgradient::new(setup.subgradient)),
            RuleKind::Exact => Box::new(Exact::new()),
            RuleKind::ExactAvailable => Box::new(ExactAvailable),
            RuleKind::Fixed => {
                Box::new(Fixed::new(setup.policy.shares.clone().unwrap_or_default()))
            }
        };
        // A download cap is approximated by a cap on concurrent incoming
        // flows: as many as fit at the rate of one busy upload slot.
        let max_incoming = match setup.peers.download_cap_mbps {
            Some(d) => {
                let slot_mbps = setup.peers.upload_mbps / setup.peers.upload_slots as f64;
                if slot_mbps > 0.0 {
                    ((d / slot_mbps).floor() as u32).max(1)
                } else {
                    u32::MAX
                }
            }
            None => u32::MAX,
        };
        let n_keys = space.key_chunk.len();
        Sim {
            engine: Engine::new(),
            picker: Picker {
                order: setup.peers.piece_selection,
                rng: Xoshiro256PlusPlus::seed_from_u64(stream_seed(setup.seed, 3)),
                ties: Vec::new(),
            },
            rule,
            peers: Vec::new(),
            flows: Vec::new(),
            free_flows: Vec::new(),
            count: vec![0; n_keys],
            holders: vec![Vec::new(); n_keys],
            groups,
            starved: BTreeSet::new(),
            max_incoming,
            completed: 0,
            vms: vec![None; setup.workload.requests.len()],
            ticks: Vec::new(),
            counters: RunCounters::default(),
            peer_mb_by_chunk: vec![0.0; space.chunk_first.len()],
            scratch: Vec::new(),
            space,
            setup,
        }
    }

    fn now(&self) -> f64 {
        self.engine.now_s()
    }

    /// Process events until every VM has completed; `Err` when a guard of
    /// `[limits]` stops the run first.
    fn run(&mut self, on_vm_done: &mut dyn FnMut()) -> Result<(), String> {
        for s in &self.setup.workload.initial_seeders {
            let id = self.add_peer(s.image, s.upload_mbps, None, f64::INFINITY);
            self.become_holder_of_all(id);
        }
        for (i, r) in self.setup.workload.requests.iter().enumerate() {
            self.engine.schedule(r.arrival_s, Event::Arrival(i));
        }
        self.engine.schedule(0.0, Event::Tick);
        let total = self.setup.workload.requests.len();
        while self.completed < total {
            let Some((_, event)) = self.engine.pop() else {
                break;
            };
            let before = self.completed;
            match event {
                Event::Arrival(i) => self.on_arrival(i),
                Event::Tick => self.on_tick(),
                Event::PeerUpload(p) => self.on_peer_upload(p),
                Event::ServerGroup(g) => self.on_server_group(g),
                Event::Departure(p) => self.on_departure(p),
            }
            for _ in before..self.completed {
                on_vm_done();
            }
            let limits = self.setup.limits;
            if limits
                .max_events
                .is_some_and(|m| self.engine.processed() >= m)
            {
                return Err(format!(
                    "{} events processed at t = {:.1} s with {} of {total} VMs complete (limits.max_events, --max-events)",
                    self.engine.processed(),
                    self.now(),
                    self.completed
                ));
            }
            if limits.max_sim_time_s.is_some_and(|m| self.now() > m) {
                return Err(format!(
                    "simulated time passed {} s with {} of {total} VMs complete (limits.max_sim_time_s, --max-sim-time)",
                    self.now(),
                    self.completed
                ));
            }
        }
        self.counters.events = self.engine.processed();
        Ok(())
    }

    fn finish(mut self) -> RunOutput {
        let end = self.now();
        self.counters.makespan_s = end;
        for g in &mut self.groups {
            g.share.advance(end);
            self.counters.server_sent_mb += g.share.sent_mb();
        }
        for p in 0..self.peers.len() {
            if self.peers[p].state != PeerState::Gone {
                self.account_peer_upload(p as PeerId, end);
            }
        }
        let group_labels = match self.setup.policy.groups {
            Grouping::Image => self
                .setup
                .content
                .images
                .iter()
                .map(|im| im.name.clone())
                .collect(),
            Grouping::Chunk => self.space.chunk_label.clone(),
        };
        RunOutput {
            vms: self.vms.into_iter().flatten().collect(),
            ticks: self.ticks,
            counters: self.counters,
            group_labels,
            peer_mb_by_chunk: self.peer_mb_by_chunk,
        }
    }

    // ----- peers and groups -------------------------------------------------

    fn add_peer(
        &mut self,
        image: usize,
        upload_mbps: f64,
        vm: Option<usize>,
        lifetime_s: f64,
    ) -> PeerId {
        let id = self.peers.len() as PeerId;
        let words = self.space.words;
        self.peers.push(Peer {
            image: image as u32,
            upload_mbps,
            state: PeerState::Leecher,
            have: vec![0; words],
            pending: vec![0; words],
            missing: self.space.image_blocks[image],
            chunk_missing: self.space.image_chunks[image]
                .iter()
                .map(|&c| self.space.chunk_blocks[c as usize])
                .collect(),
            peer_downloads: 0,
            incoming: 0,
            uploads: FairShare::new(upload_mbps),
            upload_event: None,
            server_flows: Vec::new(),
            vm,
            lifetime_s,
            joined_s: self.now(),
            completed_s: f64::NAN,
            sent_as_leecher_mb: 0.0,
            counted: vm.is_some_and(|i| {
                self.setup.workload.requests[i].arrival_s >= self.setup.workload.warmup_s
            }),
            from_server_mb: 0.0,
            from_peers_mb: 0.0,
        });
        id
    }

    /// The server groups a peer of `image` belongs to while it lacks their data.
    fn groups_of_image(&self, image: usize) -> Vec<u32> {
        match self.setup.policy.groups {
            Grouping::Image => vec![image as u32],
            Grouping::Chunk => self.space.image_chunks[image].clone(),
        }
    }

    fn group_of_key(&self, image: u32, key: u32) -> u32 {
        match self.setup.policy.groups {
            Grouping::Image => image,
            Grouping::Chunk => self.space.key_chunk[key as usize],
        }
    }

    /// A preheated seeder holds every block of its image from the start.
    fn become_holder_of_all(&mut self, p: PeerId) {
        let image = self.peers[p as usize].image as usize;
        let peer = &mut self.peers[p as usize];
        peer.have.clone_from(&self.space.image_mask[image]);
        peer.missing = 0;
        peer.chunk_missing.iter_mut().for_each(|m| *m = 0);
        peer.state = PeerState::Seeder;
        for key in keys(self.space.image_keys(image)) {
            self.count[key as usize] += 1;
            self.holders[key as usize].push(p);
        }
        for g in self.groups_of_image(image) {
            self.groups[g as usize].seeders += 1;
        }
    }

    fn on_arrival(&mut self, i: usize) {
        let r = self.setup.workload.requests[i];
        let p = self.add_peer(r.image, r.upload_mbps, Some(i), r.lifetime_s);
        for g in self.groups_of_image(r.image) {
            let chunk_mb = match self.setup.policy.groups {
                Grouping::Image => self.image_mb(r.image),
                Grouping::Chunk => self.chunk_mb(g),
            };
            let group = &mut self.groups[g as usize];
            group.members.push(p);
            group.remaining_mb += chunk_mb;
            self.start_server_flow(p, g);
        }
        self.fill_downloads(p);
    }

    fn image_mb(&self, image: usize) -> f64 {
        self.space.image_chunks[image]
            .iter()
            .map(|&c| self.chunk_mb(c))
            .sum()
    }

    fn chunk_mb(&self, c: u32) -> f64 {
        self.space.chunk_blocks[c as usize] as f64 * self.space.chunk_block_mb[c as usize]
    }

    fn on_departure(&mut self, p: PeerId) {
        let now = self.now();
        let image = self.peers[p as usize].image as usize;
        self.account_peer_upload(p, now);
        self.peers[p as usize].state = PeerState::Gone;
        // Uploads in flight are cut off: their receivers lose the partial block.
        let drained = self.peers[p as usize].uploads.drain(now);
        let cut = self.cut_flows(drained);
        if let Some(e) = self.peers[p as usize].upload_event.take() {
            self.engine.cancel(e);
        }
        for key in keys(self.space.image_keys(image)) {
            self.count[key as usize] -= 1;
        }
        for g in self.groups_of_image(image) {
            self.groups[g as usize].seeders -= 1;
        }
        let peer = &mut self.peers[p as usize];
        peer.have = Vec::new();
        peer.pending = Vec::new();
        for flow in cut {
            let r = flow.receiver;
            let g = self.group_of_key(self.peers[r as usize].image, flow.key);
            self.refill(r, Some(g));
        }
    }

    /// Add a peer's capacity-time to the totals and check it never sent more
    /// than its upload allows.
    fn account_peer_upload(&mut self, p: PeerId, now: f64) {
        let peer = &mut self.peers[p as usize];
        peer.uploads.advance(now);
        let sent = peer.uploads.sent_mb();
        let capacity = peer.upload_mbps * (now - peer.joined_s);
        self.counters.peer_sent_mb += sent;
        self.counters.peer_capacity_mb += capacity;
        if peer.counted && peer.state == PeerState::Seeder {
            self.counters.seeder_sent_mb += sent - peer.sent_as_leecher_mb;
            self.counters.seeder_capacity_mb += peer.upload_mbps * (now - peer.completed_s);
        }
        if capacity > 0.0 {
            self.counters.max_peer_utilisation =
                self.counters.max_peer_utilisation.max(sent / capacity);
        } else if sent > 0.0 {
            self.counters.max_peer_utilisation = f64::INFINITY;
        }
    }

    // ----- flows --------------------------------------------------------------

    /// Flows cut off before completion, with the Mb each still lacked: the
    /// partial data is waste, the blocks go back to the receivers' wants.
    fn cut_flows(&mut self, drained: Vec<(FlowId, f64)>) -> Vec<Flow> {
        drained
            .into_iter()
            .map(|(f, left_mb)| {
                let flow = self.flows[f as usize];
                self.counters.waste_mb += flow.size_mb - left_mb;
                self.release_flow(f);
                let r = &mut self.peers[flow.receiver as usize];
                r.pending[flow.key as usize / 64] &= !(1 << (flow.key % 64));
                r.incoming -= 1;
                match flow.source {
                    Source::Peer(_) => r.peer_downloads -= 1,
                    Source::Server(g) => r.server_flows.retain(|&(g2, f2)| !(g2 == g && f2 == f)),
                }
                flow
            })
            .collect()
    }

    fn new_flow(&mut self, flow: Flow) -> FlowId {
        match self.free_flows.pop() {
            Some(f) => {
                self.flows[f as usize] = flow;
                f
            }
            None => {
                self.flows.push(flow);
                (self.flows.len() - 1) as FlowId
            }
        }
    }

    fn release_flow(&mut self, f: FlowId) {
        self.free_flows.push(f);
    }

    fn refresh_peer_event(&mut self, p: PeerId) {
        let next = self.peers[p as usize]
            .uploads
            .next_completion()
            .map(|(_, t)| t);
        let slot = &mut self.peers[p as usize].upload_event;
        refresh(&mut self.engine, slot, next, Event::PeerUpload(p));
    }

    fn refresh_group_event(&mut self, g: u32) {
        let next = self.groups[g as usize]
            .share
            .next_completion()
            .map(|(_, t)| t);
        let slot = &mut self.groups[g as usize].event;
        refresh(&mut self.engine, slot, next, Event::ServerGroup(g));
    }

    fn start_peer_flow(&mut self, receiver: PeerId, sender: PeerId, key: u32) {
        let size_mb = self.space.block_mb(key);
        let f = self.new_flow(Flow {
            receiver,
            source: Source::Peer(sender),
            key,
            size_mb,
        });
        let r = &mut self.peers[receiver as usize];
        r.pending[key as usize / 64] |= 1 << (key % 64);
        r.peer_downloads += 1;
        r.incoming += 1;
        let now = self.now();
        self.peers[sender as usize].uploads.add(now, f, size_mb);
        self.refresh_peer_event(sender);
    }

    /// Push the next block of group `g` to leecher `p`, if the group has a
    /// rate, `p` has no server block of `g` in flight, and needs one.
    fn start_server_flow(&mut self, p: PeerId, g: u32) {
        let peer = &self.peers[p as usize];
        if peer.state != PeerState::Leecher
            || self.groups[g as usize].share.capacity_mbps() <= 0.0
            || peer.incoming >= self.max_incoming
            || peer.server_flows.iter().any(|&(sg, _)| sg == g)
        {
            return;
        }
        let key = match self.setup.policy.groups {
            Grouping::Image => {
                let candidates = unrequested(&self.space, peer);
                self.picker.pick(&self.count, candidates, false)
            }
            Grouping::Chunk => {
                let first = self.space.chunk_first[g as usize];
                let end = first + self.space.chunk_blocks[g as usize];
                let candidates = (first as usize / 64..(end as usize).div_ceil(64)).map(|w| {
                    (
                        w,
                        range_mask(w, first, end) & !peer.have[w] & !peer.pending[w],
                    )
                });
                self.picker.pick(&self.count, candidates, false)
            }
        };
        let Some(key) = key else {
            return;
        };
        let size_mb = self.space.block_mb(key);
        let f = self.new_flow(Flow {
            receiver: p,
            source: Source::Server(g),
            key,
            size_mb,
        });
        let peer = &mut self.peers[p as usize];
        peer.pending[key as usize / 64] |= 1 << (key % 64);
        peer.incoming += 1;
        peer.server_flows.push((g, f));
        let now = self.now();
        self.groups[g as usize].share.add(now, f, size_mb);
        self.refresh_group_event(g);
    }

    /// A leecher lost or finished an incoming flow: let the server group `g`
    /// (whose block it wants, if any) push again, then its peer requests.
    /// Under a download cap a freed incoming slot may be what any of its
    /// groups was waiting for, so all are offered it.
    fn refill(&mut self, p: PeerId, g: Option<u32>) {
        if self.max_incoming != u32::MAX {
            let image = self.peers[p as usize].image as usize;
            for g in self.groups_of_image(image) {
                self.start_server_flow(p, g);
            }
        } else if let Some(g) = g {
            self.start_server_flow(p, g);
        }
        self.fill_downloads(p);
    }

    /// Keep up to `max_downloads` peer requests in flight for leecher `p`,
    /// rarest (or random, sequential) block first, from a holder with a free
    /// upload slot. A leecher that finds none waits in `starved` until a
    /// holder offers it a block.
    fn fill_downloads(&mut self, p: PeerId) {
        let max_downloads = self.setup.peers.max_downloads;
        let mut excluded: Vec<u32> = Vec::new();
        loop {
            let peer = &self.peers[p as usize];
            if peer.state != PeerState::Leecher {
                self.starved.remove(&p);
                return;
            }
            if peer.peer_downloads >= max_downloads || peer.incoming >= self.max_incoming {
                self.starved.remove(&p);
                return;
            }
            let candidates = unrequested(&self.space, peer);
            let key = self
                .picker
                .pick(&self.count, excluding(candidates, &excluded), true);
            let Some(key) = key else {
                // Nothing a present peer holds: wait, unless nothing is left to ask for.
                if self.needs_unrequested(p) {
                    self.starved.insert(p);
                } else {
                    self.starved.remove(&p);
                }
                return;
            };
            match self.free_holder(key, p) {
                Some(h) => self.start_peer_flow(p, h, key),
                None => {
                    excluded.push(key);
                    if excluded.len() >= SOURCE_ATTEMPTS {
                        self.starved.insert(p);
                        return;
                    }
                }
            }
        }
    }

    fn needs_unrequested(&self, p: PeerId) -> bool {
        unrequested(&self.space, &self.peers[p as usize]).any(|(_, bits)| bits != 0)
    }

    /// A present holder of `key` with a free upload slot, searched from a
    /// random position; departed holders are dropped from the list on the way.
    fn free_holder(&mut self, key: u32, asker: PeerId) -> Option<PeerId> {
        let slots = self.setup.peers.upload_slots as usize;
        let list = &mut self.holders[key as usize];
        if list.is_empty() {
            return None;
        }
        let mut i = self.picker.rng.random_range(0..list.len());
        let mut checked = 0;
        while checked < list.len() {
            if i >= list.len() {
                i = 0;
            }
            let h = list[i];
            let peer = &self.peers[h as usize];
            if peer.state == PeerState::Gone {
                list.swap_remove(i);
                continue;
            }
            if h != asker && peer.upload_mbps > 0.0 && peer.uploads.len() < slots {
                return Some(h);
            }
            i += 1;
            checked += 1;
        }
        None
    }

    /// Holder `h` has a free slot or a new block: serve waiting leechers
    /// their rarest block among those `h` holds.
    fn offer(&mut self, h: PeerId) {
        let slots = self.setup.peers.upload_slots as usize;
        let max_downloads = self.setup.peers.max_downloads;
        {
            let holder = &self.peers[h as usize];
            if holder.state == PeerState::Gone
                || holder.upload_mbps <= 0.0
                || holder.uploads.len() >= slots
                || self.starved.is_empty()
            {
                return;
            }
        }
        let mut waiting = std::mem::take(&mut self.scratch);
        waiting.clear();
        waiting.extend(self.starved.iter().copied());
        for &l in &waiting {
            if self.peers[h as usize].uploads.len() >= slots {
                break;
            }
            if l == h {
                continue;
            }
            loop {
                let leecher = &self.peers[l as usize];
                if leecher.peer_downloads >= max_downloads || leecher.incoming >= self.max_incoming
                {
                    self.starved.remove(&l);
                    break;
                }
                if self.peers[h as usize].uploads.len() >= slots {
                    break;
                }
                let holder = &self.peers[h as usize];
                let image = leecher.image as usize;
                let candidates = self.space.image_words[image].iter().map(|&w| {
                    let w = w as usize;
                    (
                        w,
                        self.space.image_mask[image][w]
                            & holder.have[w]
                            & !leecher.have[w]
                            & !leecher.pending[w],
                    )
                });
                match self.picker.pick(&self.count, candidates, false) {
                    Some(key) => self.start_peer_flow(l, h, key),
                    None => break,
                }
            }
        }
        self.scratch = waiting;
    }

    // ----- events ---------------------------------------------------------------

    fn on_peer_upload(&mut self, p: PeerId) {
        self.peers[p as usize].upload_event = None;
        let now = self.now();
        let Some(f) = self.peers[p as usize].uploads.pop_completed(now) else {
            return;
        };
        self.refresh_peer_event(p);
        self.deliver(f);
    }

    fn on_server_group(&mut self, g: u32) {
        self.groups[g as usize].event = None;
        let now = self.now();
        let Some(f) = self.groups[g as usize].share.pop_completed(now) else {
            return;
        };
        self.refresh_group_event(g);
        self.deliver(f);
    }

    /// A block arrives whole at its receiver.
    fn deliver(&mut self, f: FlowId) {
        let flow = self.flows[f as usize];
        self.release_flow(f);
        let r = flow.receiver;
        let key = flow.key;
        let image = self.peers[r as usize].image;
        let g = self.group_of_key(image, key);
        let pos = self.space.chunk_pos[image as usize][self.space.key_chunk[key as usize] as usize];
        {
            let peer = &mut self.peers[r as usize];
            let (w, bit) = (key as usize / 64, 1u64 << (key % 64));
            peer.pending[w] &= !bit;
            if peer.have[w] & bit != 0 {
                self.counters.duplicate_deliveries += 1;
            } else {
                peer.have[w] |= bit;
                peer.missing -= 1;
                peer.chunk_missing[pos as usize] -= 1;
            }
            peer.incoming -= 1;
            match flow.source {
                Source::Peer(_) => {
                    peer.peer_downloads -= 1;
                    peer.from_peers_mb += flow.size_mb;
                }
                Source::Server(sg) => {
                    peer.server_flows.retain(|&(g2, f2)| !(g2 == sg && f2 == f));
                    peer.from_server_mb += flow.size_mb;
                }
            }
        }
        self.count[key as usize] += 1;
        self.holders[key as usize].push(r);
        self.counters.block_transfers += 1;
        self.counters.received_mb += flow.size_mb;
        let group = &mut self.groups[g as usize];
        group.remaining_mb = (group.remaining_mb - flow.size_mb).max(0.0);
        if let Source::Peer(_) = flow.source {
            group.peer_mb_since_tick += flow.size_mb;
            self.peer_mb_by_chunk[self.space.key_chunk[key as usize] as usize] += flow.size_mb;
        }
        if self.setup.policy.groups == Grouping::Chunk
            && self.peers[r as usize].chunk_missing[pos as usize] == 0
        {
            let members = &mut self.groups[g as usize].members;
            if let Some(i) = members.iter().position(|&m| m == r) {
                members.swap_remove(i);
            }
        }

        if self.peers[r as usize].missing == 0 {
            self.complete(r);
        } else {
            let group = match flow.source {
                Source::Server(sg) => Some(sg),
                Source::Peer(_) => None,
            };
            self.refill(r, group);
        }
        if let Source::Peer(s) = flow.source {
            self.offer(s);
        }
        self.offer(r);
    }

    /// A leecher holds its whole image: it becomes a seeder for its lifetime.
    fn complete(&mut self, p: PeerId) {
        let now = self.now();
        let image = self.peers[p as usize].image as usize;
        self.starved.remove(&p);
        let peer = &mut self.peers[p as usize];
        peer.state = PeerState::Seeder;
        peer.pending = Vec::new();
        peer.completed_s = now;
        peer.uploads.advance(now);
        peer.sent_as_leecher_mb = peer.uploads.sent_mb();
        if peer.counted {
            self.counters.leecher_sent_mb += peer.sent_as_leecher_mb;
            self.counters.leecher_capacity_mb += peer.upload_mbps * (now - peer.joined_s);
        }
        if let Some(vm) = peer.vm {
            let r = self.setup.workload.requests[vm];
            self.vms[vm] = Some(VmRecord {
                vm,
                image,
                arrival_s: r.arrival_s,
                completion_s: now,
                from_server_mb: peer.from_server_mb,
                from_peers_mb: peer.from_peers_mb,
                uploaded_as_leecher_mb: peer.sent_as_leecher_mb,
                upload_mbps: peer.upload_mbps,
                counted: peer.counted,
            });
            self.completed += 1;
        }
        let lifetime = peer.lifetime_s;
        for g in self.groups_of_image(image) {
            let group = &mut self.groups[g as usize];
            if let Some(i) = group.members.iter().position(|&m| m == p) {
                group.members.swap_remove(i);
            }
            group.seeders += 1;
        }
        if lifetime.is_finite() {
            self.engine.schedule(now + lifetime, Event::Departure(p));
        }
    }

    /// `S^g`: Mb of group `g`'s remaining data in blocks no present peer
    /// holds (in flight from the server included, as in `R^g`).
    fn server_only_mb(&self, g: u32) -> f64 {
        let mut total = 0.0;
        for &m in &self.groups[g as usize].members {
            let peer = &self.peers[m as usize];
            let image = peer.image as usize;
            let unheld = |w: usize, bits: u64| (w, bits & !peer.have[w]);
            let missing: Box<dyn Iterator<Item = (usize, u64)>> = match self.setup.policy.groups {
                Grouping::Image => {
                    Box::new(self.space.image_keys(image).map(|(w, b)| unheld(w, b)))
                }
                Grouping::Chunk => {
                    let first = self.space.chunk_first[g as usize];
                    let end = first + self.space.chunk_blocks[g as usize];
                    Box::new(
                        (first as usize / 64..(end as usize).div_ceil(64))
                            .map(move |w| unheld(w, range_mask(w, first, end))),
                    )
                }
            };
            total += keys(missing)
                .filter(|&k| self.count[k as usize] == 0)
                .map(|k| self.space.block_mb(k))
                .sum::<f64>();
        }
        total
    }

    /// Re-set every group's rate by the policy's rule (MODEL.md section 5).
    fn on_tick(&mut self) {
        let now = self.now();
        let tick_s = self.setup.server.tick_s;
        let u_s = self.setup.server.u_s_mbps;
        let mut sent = Vec::with_capacity(self.groups.len());
        let server_only: Vec<f64> = (0..self.groups.len() as u32)
            .map(|g| self.server_only_mb(g))
            .collect();
        let states: Vec<GroupState> = self
            .groups
            .iter_mut()
            .zip(&server_only)
            .map(|(g, &server_only_mb)| {
                g.share.advance(now);
                sent.push(g.share.sent_mb() - g.sent_mb_at_tick);
                g.sent_mb_at_tick = g.share.sent_mb();
                GroupState {
                    remaining_mb: g.remaining_mb,
                    peer_upload_mbps: g.peer_mb_since_tick / tick_s,
                    popularity: g.popularity,
                    server_only_mb,
                }
            })
            .collect();
        let snapshot = Snapshot {
            u_s_mbps: u_s,
            groups: &states,
        };
        let allocation = self.rule.allocate(&snapshot);
        let gap = (self.setup.policy.rule == RuleKind::Subgradient).then(|| {
            let (_, best) = water_fill(&snapshot);
            let m = snapshot.max_remaining_time_s(&allocation.rates_mbps);
            if best > 0.0 && best.is_finite() {
                (m - best) / best
            } else {
                0.0
            }
        });
        for (g, state) in states.iter().enumerate() {
            let group = &self.groups[g];
            let rate = allocation.rates_mbps[g];
            if !group.members.is_empty() || rate > 0.0 || sent[g] > 0.0 {
                self.ticks.push(TickRecord {
                    time_s: now,
                    group: g,
                    u_s_g_mbps: rate,
                    leechers: group.members.len(),
                    seeders: group.seeders,
                    remaining_mb: state.remaining_mb,
                    peer_upload_mbps: state.peer_upload_mbps,
                    server_only_mb: state.server_only_mb,
                    t_r_s: state.remaining_time_s(rate),
                    server_sent_mb: sent[g],
                    iterations: allocation.iterations,
                    gap,
                });
            }
        }
        for g in 0..self.groups.len() {
            let rate = allocation.rates_mbps[g];
            let old = self.groups[g].share.capacity_mbps();
            self.groups[g].share.set_capacity(now, rate);
            self.groups[g].peer_mb_since_tick = 0.0;
            if rate <= 0.0 && old > 0.0 {
                self.preempt_group(g as u32);
            } else if rate > 0.0 && old <= 0.0 {
                let members = self.groups[g].members.clone();
                for m in members {
                    self.start_server_flow(m, g as u32);
                }
            }
            self.refresh_group_event(g as u32);
        }
        self.engine.schedule(now + tick_s, Event::Tick);
    }

    /// A group whose rate fell to zero drops its flows: their blocks go back
    /// to the leechers' wants, so peers may serve them, and the partial data
    /// counts as waste.
    fn preempt_group(&mut self, g: u32) {
        let now = self.now();
        let drained = self.groups[g as usize].share.drain(now);
        let receivers: Vec<PeerId> = self.cut_flows(drained).iter().map(|f| f.receiver).collect();
        for r in receivers {
            self.refill(r, None);
        }
    }
}

/// The blocks of a leecher's image it neither holds nor has requested, as
/// candidate words `(word index, bits)`.
fn unrequested<'s>(space: &'s Space, peer: &'s Peer) -> impl Iterator<Item = (usize, u64)> + 's {
    space
        .image_keys(peer.image as usize)
        .map(|(w, bits)| (w, bits & !peer.have[w] & !peer.pending[w]))
}

/// Point `slot` at an event for `next` (or cancel it when `None`).
fn refresh(
    engine: &mut Engine<Event>,
    slot: &mut Option<EventId>,
    next: Option<f64>,
    event: Event,
) {
    match (next, *slot) {
        (Some(t), Some(id)) => {
            if !engine.reschedule(id, t) {
                *slot = Some(engine.schedule(t, event));
            }
        }
        (Some(t), None) => *slot = Some(engine.schedule(t, event)),
        (None, Some(id)) => {
            engine.cancel(id);
            *slot = None;
        }
        (None, None) => {}
    }
}

/// Bits of word `w` that fall in keys `[first, end)`.
fn range_mask(w: usize, first: u32, end: u32) -> u64 {
    let lo = (w * 64) as u32;
    let hi = lo + 64;
    let from = first.max(lo) - lo;
    let to = end.min(hi).saturating_sub(lo);
    if to <= from {
        return 0;
    }
    let width = to - from;
    let ones = if width == 64 {
        u64::MAX
    } else {
        (1u64 << width) - 1
    };
    ones << from
}

/// The keys of candidate words `(word index, bits)`, in increasing order.
fn keys(candidates: impl Iterator<Item = (usize, u64)>) -> impl Iterator<Item = u32> {
    candidates.flat_map(|(w, mut bits)| {
        std::iter::from_fn(move || {
            (bits != 0).then(|| {
                let key = (w * 64) as u32 + bits.trailing_zeros();
                bits &= bits - 1;
                key
            })
        })
    })
}

/// Block choice: the selection order, the simulation's random stream, and a
/// buffer for ties.
struct Picker {
    order: PieceSelection,
    rng: Xoshiro256PlusPlus,
    ties: Vec<u32>,
}

impl Picker {
    /// Pick a key among candidate bits by the selection order. With
    /// `need_holder`, keys nobody holds are skipped (peers cannot serve
    /// them). Ties (and `random`) are broken uniformly with one draw among
    /// the tied keys, collected in key order in one pass.
    fn pick(
        &mut self,
        count: &[u32],
        candidates: impl Iterator<Item = (usize, u64)>,
        need_holder: bool,
    ) -> Option<u32> {
        let held = |key: &u32| !need_holder || count[*key as usize] > 0;
        self.ties.clear();
        match self.order {
            PieceSelection::Sequential => return keys(candidates).find(held),
            PieceSelection::Random => self.ties.extend(keys(candidates).filter(held)),
            PieceSelection::Rarest => {
                let mut rarest = u32::MAX;
                for key in keys(candidates).filter(held) {
                    let c = count[key as usize];
                    if c < rarest {
                        rarest = c;
                        self.ties.clear();
                        self.ties.push(key);
                    } else if c == rarest {
                        self.ties.push(key);
                    }
                }
            }
        }
        if self.ties.is_empty() {
            return None;
        }
        let pick = self.rng.random_range(0..self.ties.len());
        Some(self.ties[pick])
    }
}

/// Candidate words with the `excluded` keys' bits cleared.
fn excluding(
    candidates: impl Iterator<Item = (usize, u64)>,
    excluded: &[u32],
) -> impl Iterator<Item = (usize, u64)> {
    candidates.map(move |(w, mut bits)| {
        for &k in excluded {
            if k as usize / 64 == w {
                bits &= !(1u64 << (k % 64));
            }
        }
        (w, bits)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_mask_covers_exactly_the_range() {
        assert_eq!(range_mask(0, 0, 64), u64::MAX);
        assert_eq!(range_mask(0, 2, 4), 0b1100);
        assert_eq!(range_mask(1, 60, 70), 0b11_1111);
        assert_eq!(range_mask(2, 60, 70), 0);
    }

    #[test]
    fn stream_seeds_differ() {
        assert_ne!(stream_seed(1, 1), stream_seed(1, 2));
        assert_ne!(stream_seed(1, 1), stream_seed(2, 1));
    }
}
