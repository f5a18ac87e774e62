//! The simulation: its state, the event loop, and the end of a run.

use std::sync::atomic::Ordering;

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

use crate::input::config::{Grouping, PieceSelection};
use crate::input::seed::stream_seed;
use crate::input::topology::Locality;
use crate::input::workload::{RequestStream, VmRequest};
use crate::policy::{AllocationRule, build_rule};

use super::changed::Changed;
use super::engine::{Engine, EventId};
use super::fabric::Fabric;
use super::holder_lists::HolderLists;
use super::holdings::Holdings;
use super::locality::RackHolders;
use super::metrics::{Download, RunCounters, TickRecord, VmRecord};
use super::prefetch::prefetch;
use super::rarity::Rarity;
use super::space::Space;
use super::state::{Event, Flow, Group, Peer, PeerId, PeerState, Upload, Uploader};
use super::topology::Racks;
use super::transfer::{FairShare, FlowId};
use super::waiting::Waiting;
use super::{RunOutput, RunSetup};

/// Attempts a leecher makes at finding a free source for its rarest blocks
/// before it waits to be offered one.
pub(super) const SOURCE_ATTEMPTS: usize = 4;

/// Events between two looks at the run's stop flags.
const STOP_CHECK_EVENTS: u64 = 4096;

/// Random streams of a run, derived from its seed (the scenario's content
/// and workload use streams 1 and 2).
const PICKER_STREAM: u64 = 3;
const SOURCE_STREAM: u64 = 4;

pub(super) struct Sim<'a> {
    pub(super) setup: RunSetup<'a>,
    pub(super) space: Space,
    pub(super) engine: Engine<Event>,
    /// `peers.piece_selection`.
    pub(super) order: PieceSelection,
    /// Tie-breaks of block choice.
    pub(super) block_rng: Xoshiro256PlusPlus,
    /// Draws of source choice, a stream of its own so that block choice's
    /// draws do not shift with it.
    pub(super) source_rng: Xoshiro256PlusPlus,
    pub(super) rule: Box<dyn AllocationRule>,
    pub(super) peers: Vec<Peer>,
    /// Per peer slot: the blocks it holds and has in flight.
    pub(super) holdings: Holdings,
    /// Peers joined and not departed.
    pub(super) present_peers: usize,
    /// Where slots are reused (`reuses_slots`): slots of peers departed
    /// since the last purge of the lists (`holders`), and slots free for
    /// the next arrivals.
    pub(super) departed: Vec<PeerId>,
    pub(super) free_peers: Vec<PeerId>,
    pub(super) departed_since_purge: usize,
    /// Under `workload.stream`: the requests still to be drawn, in order,
    /// and the next one, scheduled. (Kept requests are all scheduled at
    /// the start, from the workload.)
    pub(super) stream: Option<RequestStream>,
    pub(super) next_request: Option<VmRequest>,
    /// Streamed requests scheduled so far.
    pub(super) scheduled: usize,
    /// Per peer slot: its free upload slots and whether it left, the
    /// little that source choice reads (see `holders::Choice`).
    pub(super) uploaders: Vec<Uploader>,
    /// Per peer slot: its upload (see `state::Upload`).
    pub(super) uploads: Vec<Upload>,
    /// Peers whose uploads and server groups whose flows changed during the
    /// event being handled: their completion events move once it ends.
    pub(super) uploads_changed: Changed,
    pub(super) groups_changed: Changed,
    pub(super) flows: Vec<Flow>,
    pub(super) free_flows: Vec<FlowId>,
    /// Present holders per key, bucketed by rarity level.
    pub(super) rarity: Rarity,
    /// Holders per key; departed peers are dropped lazily.
    pub(super) holders: HolderLists,
    /// Entries in `holders`, and those of them naming departed peers.
    pub(super) holder_entries: usize,
    pub(super) stale_holders: usize,
    pub(super) groups: Vec<Group>,
    /// Leechers with a free download slot that found no source, by the
    /// blocks they wait for.
    pub(super) waiting: Waiting,
    pub(super) completed: usize,
    /// Records of the VMs completed by the event being handled.
    pub(super) done: Vec<VmRecord>,
    /// Every VM's record, kept unless `workload.stream`.
    pub(super) vms: Vec<Option<VmRecord>>,
    pub(super) downloads: Vec<Download>,
    pub(super) ticks: Vec<TickRecord>,
    pub(super) counters: RunCounters,
    pub(super) peer_mb_by_chunk: Vec<f64>,
    /// Candidate words of a block choice that is not a leecher's whole
    /// unrequested list (some blocks excluded; those a holder, a rack or a
    /// chunk has), reused: `[word index, bits]`, the lists' own form.
    pub(super) candidates: Vec<[u64; 2]>,
    /// The rack of every host (one rack without `[topology]`).
    pub(super) racks: Racks,
    /// The links as a max-min network, when a download cap or a capped rack
    /// link can limit a flow (docs/model.md section 9).
    pub(super) fabric: Option<Fabric>,
    /// Holders by rack, kept only under `peers.locality = "rack"`.
    pub(super) by_rack: RackHolders,
}

impl<'a> Sim<'a> {
    pub(super) fn new(setup: RunSetup<'a>) -> Sim<'a> {
        let space = Space::new(setup.content, setup.policy.swarms);
        let groups = server_groups(&setup, &space);
        let n_groups = groups.len();
        let rule = build_rule(setup.policy, setup.subgradient, setup.server.tick_s);
        let hosts = setup.workload.request_count() + setup.workload.initial_seeders.len();
        let racks = match setup.topology {
            Some(t) => Racks::place(t, hosts, setup.seed),
            None => Racks::single(),
        };
        let fabric = Fabric::build(setup.peers, setup.topology, &racks, n_groups);
        let n_keys = space.key_chunk.len();
        let locality_racks = match setup.peers.locality {
            Locality::Rack => racks.count as usize,
            Locality::None => 1,
        };
        Sim {
            engine: Engine::new(),
            order: setup.peers.piece_selection,
            block_rng: Xoshiro256PlusPlus::seed_from_u64(stream_seed(setup.seed, PICKER_STREAM)),
            source_rng: Xoshiro256PlusPlus::seed_from_u64(stream_seed(setup.seed, SOURCE_STREAM)),
            rule,
            peers: Vec::new(),
            holdings: Holdings::new(space.words, space.max_image_words()),
            present_peers: 0,
            departed: Vec::new(),
            free_peers: Vec::new(),
            departed_since_purge: 0,
            stream: setup.workload.stream.clone(),
            next_request: None,
            scheduled: 0,
            uploaders: Vec::new(),
            uploads: Vec::new(),
            uploads_changed: Changed::default(),
            groups_changed: Changed::default(),
            flows: Vec::new(),
            free_flows: Vec::new(),
            // Only chunk groups choose among one chunk's blocks.
            rarity: Rarity::new(&space, setup.policy.groups == Grouping::Chunk),
            holders: HolderLists::new(n_keys),
            holder_entries: 0,
            stale_holders: 0,
            groups,
            waiting: Waiting::new(n_keys, locality_racks),
            completed: 0,
            done: Vec::new(),
            vms: vec![None; setup.workload.requests.len()],
            downloads: Vec::new(),
            ticks: Vec::new(),
            counters: RunCounters::default(),
            peer_mb_by_chunk: vec![0.0; space.chunk_first.len()],
            candidates: Vec::new(),
            by_rack: match setup.peers.locality {
                Locality::Rack => RackHolders::new(n_keys, space.words, locality_racks),
                Locality::None => RackHolders::default(),
            },
            racks,
            fabric,
            space,
            setup,
        }
    }

    pub(super) fn now(&self) -> f64 {
        self.engine.now_s()
    }

    /// Whether a departed peer's slot goes to a later arrival (once no list
    /// names it, see `holders`): always but on a data center's hosts, which
    /// keep their rack and links for the whole run (`workload.stream` is
    /// refused there at validation). Kept runs reuse slots too, so that
    /// per-slot state (`holdings`) follows the peers present at once.
    pub(super) fn reuses_slots(&self) -> bool {
        self.fabric.is_none() && self.setup.topology.is_none()
    }

    /// Whether requests are streamed (`workload.stream`): drawn as the run
    /// reaches them, records not kept.
    pub(super) fn streamed(&self) -> bool {
        self.setup.workload.stream.is_some()
    }

    /// Schedule the first arrival, or every arrival at once when the
    /// requests are kept (so that their order among events at equal times
    /// stays that of the requests).
    fn schedule_arrivals(&mut self) {
        if self.streamed() {
            self.schedule_next_arrival();
            return;
        }
        for (i, r) in (0..).zip(&self.setup.workload.requests) {
            self.engine
                .schedule_in_order(r.arrival_s, Event::Arrival(i));
        }
    }

    /// Draw the next streamed request and schedule its arrival.
    pub(super) fn schedule_next_arrival(&mut self) {
        self.next_request = self.stream.as_mut().and_then(Iterator::next);
        if let Some(r) = self.next_request {
            self.engine.schedule(r.arrival_s, Event::StreamedArrival);
            self.scheduled += 1;
        }
    }

    /// Process events until every VM has completed; `Err` when a guard of
    /// `[limits]` stops the run first.
    pub(super) fn run(&mut self, on_vm_done: &mut dyn FnMut(&VmRecord)) -> Result<(), String> {
        let kept = self.setup.workload.requests.len();
        if u32::try_from(kept).is_err() {
            return Err(format!(
                "{kept} requests kept in memory; at most {} can be (set workload.stream = true)",
                u32::MAX
            ));
        }
        for s in &self.setup.workload.initial_seeders {
            let id = self.add_peer(s.image, s.upload_mbps, None, f64::INFINITY, false);
            self.become_holder_of_all(id);
        }
        self.schedule_arrivals();
        self.engine.schedule(0.0, Event::Tick);
        let total = self.setup.workload.request_count();
        // Unset limits as bounds no run reaches.
        let max_events = self.setup.limits.max_events.unwrap_or(u64::MAX);
        let max_sim_time_s = self.setup.limits.max_sim_time_s.unwrap_or(f64::INFINITY);
        while self.completed < total {
            let Some((_, event)) = self.engine.pop() else {
                break;
            };
            let before = self.completed;
            let next = self
                .engine
                .hints()
                .then(|| self.prefetch_sender())
                .flatten();
            match event {
                Event::Arrival(i) => self.on_arrival(i as usize),
                Event::StreamedArrival => self.on_arrival(self.scheduled - 1),
                Event::Tick => self.on_tick(),
                Event::PeerUpload(p, f) => self.on_peer_upload(p, f),
                Event::ServerGroup(g) => self.on_server_group(g),
                Event::Departure(p) => self.on_departure(p),
                Event::Network => self.on_network(),
                Event::Resolve => self.on_resolve(),
            }
            self.move_changed_events();
            if let Some(f) = next {
                self.prefetch_receiver(f);
            }
            debug_assert_eq!(self.done.len(), self.completed - before);
            // One event in a thousand completes a VM on the paper's
            // default: the rest skip setting up a drain.
            if !self.done.is_empty() {
                for record in self.done.drain(..) {
                    on_vm_done(&record);
                    if let Some(slot) = self.vms.get_mut(record.vm) {
                        *slot = Some(record);
                    }
                }
            }
            // One test an event; the limits' own checks (and their errors)
            // only when one may apply.
            let processed = self.engine.processed();
            if processed >= max_events
                || self.now() > max_sim_time_s
                || processed.is_multiple_of(STOP_CHECK_EVENTS)
            {
                self.check_limits(total, max_events, max_sim_time_s)?;
            }
        }
        self.counters.events = self.engine.processed();
        Ok(())
    }

    /// The run's error if it passed `max_events` (`limits.max_events`),
    /// was asked to stop, or passed `max_sim_time_s`
    /// (`limits.max_sim_time_s`), checked in that order; unset limits are
    /// bounds no run reaches, as `Sim::run` makes them.
    #[cold]
    fn check_limits(
        &self,
        total: usize,
        max_events: u64,
        max_sim_time_s: f64,
    ) -> Result<(), String> {
        if self.engine.processed() >= max_events {
            return Err(format!(
                "{} events processed at t = {:.1} s with {} of {total} VMs complete (limits.max_events, --max-events)",
                self.engine.processed(),
                self.now(),
                self.completed
            ));
        }
        if self.engine.processed().is_multiple_of(STOP_CHECK_EVENTS)
            && self.setup.stop.iter().any(|f| f.load(Ordering::Relaxed))
        {
            return Err(format!(
                "interrupted at t = {:.1} s with {} of {total} VMs complete",
                self.now(),
                self.completed
            ));
        }
        if self.now() > max_sim_time_s {
            return Err(format!(
                "simulated time passed {} s with {} of {total} VMs complete (limits.max_sim_time_s, --max-sim-time)",
                self.now(),
                self.completed
            ));
        }
        Ok(())
    }

    pub(super) fn finish(mut self) -> RunOutput {
        let end = self.now();
        self.counters.makespan_s = end;
        self.counters.peer_slots = self.peers.len();
        for g in 0..self.groups.len() as u32 {
            self.counters.server_sent_mb += self.group_sent_mb(g, end);
        }
        if let Some(fab) = &self.fabric {
            self.counters.max_link_utilisation = Some(fab.peak_utilisation());
        }
        // In the order peers joined (preheated seeders, then VMs by
        // request), whichever slots they hold, so sums do not depend on
        // slot reuse.
        let mut present: Vec<PeerId> = (0..self.peers.len() as PeerId)
            .filter(|&p| self.peers[p as usize].state != PeerState::Gone)
            .collect();
        present.sort_by_key(|&p| {
            let vm = self.peers[p as usize].vm;
            (vm.is_some(), vm.unwrap_or(p as usize))
        });
        for p in present {
            self.account_peer_upload(p, end);
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
            vms_streamed: self.setup.workload.stream.is_some(),
            completed: self.completed,
            downloads: self.downloads,
            ticks: self.ticks,
            counters: self.counters,
            group_labels,
            peer_mb_by_chunk: self.peer_mb_by_chunk,
        }
    }

    /// Note that `p`'s uploads changed; its completion event moves when
    /// the event being handled ends (see `changed`).
    pub(super) fn note_uploads_changed(&mut self, p: PeerId) {
        self.uploads_changed.mark(p);
    }

    /// Note that group `g`'s server flows changed (see `changed`).
    pub(super) fn note_group_flows_changed(&mut self, g: u32) {
        self.groups_changed.mark(g);
    }

    /// Move the completion events of the peers and groups that changed.
    fn move_changed_events(&mut self) {
        // Moving an event marks nothing: each list is read whole, then
        // cleared.
        let peers = self.uploads_changed.len();
        for i in 0..peers {
            self.move_upload_event(self.uploads_changed.get(i));
        }
        debug_assert_eq!(peers, self.uploads_changed.len());
        self.uploads_changed.clear();
        let groups = self.groups_changed.len();
        for i in 0..groups {
            self.move_group_event(self.groups_changed.get(i));
        }
        debug_assert_eq!(groups, self.groups_changed.len());
        self.groups_changed.clear();
    }

    /// Before handling an event: ask for the records the next one (if the
    /// engine can name it) reads first, the flow and the sender's upload,
    /// so that their loads overlap this event's work (see `prefetch`).
    /// Returns the next event's flow, if it is a peer's upload. Apart from
    /// the event loop, which it would slow on a small queue.
    #[inline(never)]
    fn prefetch_sender(&self) -> Option<FlowId> {
        let Some(Event::PeerUpload(p, f)) = self.engine.peek_hint() else {
            return None;
        };
        prefetch(&self.flows[f as usize]);
        prefetch(&self.uploads[p as usize]);
        // Its offer to waiting leechers reads its image and holdings.
        prefetch(&self.peers[p as usize].image);
        prefetch(self.holdings.row(p).words());
        Some(f)
    }

    /// After handling an event: the flow `f` of the next is in the caches
    /// by now (`prefetch_sender`); ask for its receiver's records. (The
    /// flow may have been cut meanwhile: the hint is then merely wasted.)
    #[inline(never)]
    fn prefetch_receiver(&self, f: FlowId) {
        // A flow's receiver is a peer slot, whatever became of the flow.
        let r = self.flows[f as usize].receiver;
        prefetch(&self.peers[r as usize]);
        // Its bits, and the list of unrequested words its next request
        // reads.
        prefetch(self.holdings.slot_words(r));
    }

    fn move_upload_event(&mut self, p: PeerId) {
        let upload = &mut self.uploads[p as usize];
        let next = upload.share.next_completion();
        refresh(
            &mut self.engine,
            &mut upload.event,
            next.map(|(_, t)| t),
            Event::PeerUpload(p, next.map_or(0, |(f, _)| f)),
        );
    }

    fn move_group_event(&mut self, g: u32) {
        let next = self.groups[g as usize]
            .share
            .next_completion()
            .map(|(_, t)| t);
        let slot = &mut self.groups[g as usize].event;
        refresh(&mut self.engine, slot, next, Event::ServerGroup(g));
    }
}

/// The server's groups (docs/model.md section 5): one per image, or one per
/// swarm chunk, each with the popularity of the requests it serves.
fn server_groups(setup: &RunSetup, space: &Space) -> Vec<Group> {
    let popularity = &setup.workload.popularity;
    let group_pop: Vec<f64> = match setup.policy.groups {
        Grouping::Image => popularity.clone(),
        Grouping::Chunk => {
            let mut pop = vec![0.0; space.chunk_first.len()];
            for (i, chunks) in space.image_chunks.iter().enumerate() {
                for &c in chunks {
                    pop[c as usize] += popularity[i];
                }
            }
            pop
        }
    };
    group_pop
        .into_iter()
        .map(|popularity| Group {
            share: FairShare::with_inline_flows(0.0),
            event: None,
            members: Vec::new(),
            seeders: 0,
            remaining_mb: 0.0,
            peer_mb_since_tick: 0.0,
            popularity,
            sent_mb_at_tick: 0.0,
        })
        .collect()
}

/// Point `slot` at an event for `next` (or cancel it when `None`). A slot
/// holds a handle only while its event is pending: every handler of such
/// an event empties the slot first. Forced inline into its callers (about
/// 1.4 calls a block): 1.1-1.4% fewer instructions a block on the paper's
/// default, 0.2% more on the flash crowd. Forcing `KeyQueue::push` in as
/// well cost 0.5-1.0%.
#[inline(always)]
pub(super) fn refresh(
    engine: &mut Engine<Event>,
    slot: &mut Option<EventId>,
    next: Option<f64>,
    event: Event,
) {
    match (next, *slot) {
        (Some(t), Some(id)) => *slot = Some(engine.reschedule_pending(id, t, event)),
        (Some(t), None) => *slot = Some(engine.schedule(t, event)),
        (None, Some(id)) => {
            engine.cancel(id);
            *slot = None;
        }
        (None, None) => {}
    }
}
