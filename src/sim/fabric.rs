//! The data center's links as one max-min network (docs/model.md section 9).
//!
//! When some capacity besides a sender's upload and a server group's rate
//! can limit a flow (a download cap `d_c`, or capped rack links), every flow
//! runs on a [`MaxMinNetwork`] instead of the senders' and groups'
//! [`FairShare`](super::transfer::FairShare)s. A peer flow from `a` to `b`
//! crosses `a`'s NIC up; between racks, `a`'s rack uplink and `b`'s rack
//! downlink (when capped); then `b`'s NIC down (when `d_c` is set). A server
//! flow crosses its group's rate `u_s^g`, `b`'s rack downlink and `b`'s NIC
//! down. The core is not a bottleneck.
//!
//! Rates are re-solved exactly (max-min, progressive filling) at most once
//! every `topology.resolve_s`, over the components of the links that changed;
//! in between, each change re-shares the flows of the hosts' NICs it touches
//! at once, and the rack links and group rates keep their allocation until
//! the next solve (see `maxmin::deferred`). A change of the server's rates
//! (a tick) re-solves at once. Without `d_c` and capped
//! racks there is no `Fabric`, and the per-sender processor sharing of
//! section 4 runs unchanged.

use crate::input::config::PeersConfig;
use crate::input::topology::TopologyConfig;

use super::engine::EventId;
use super::maxmin::{MaxMinNetwork, ResourceId};
use super::state::{Event, PeerId, Source};
use super::topology::Racks;
use super::transfer::FlowId;
use super::world::{Sim, refresh};

/// The resources a flow crosses (at most four).
#[derive(Debug, Clone, Copy)]
struct Path {
    ids: [ResourceId; 4],
    len: usize,
}

impl Path {
    fn new(first: ResourceId) -> Path {
        Path {
            ids: [first; 4],
            len: 1,
        }
    }

    fn push(&mut self, r: Option<ResourceId>) {
        if let Some(r) = r {
            self.ids[self.len] = r;
            self.len += 1;
        }
    }

    fn as_slice(&self) -> &[ResourceId] {
        &self.ids[..self.len]
    }
}

/// The network, its resources by host, rack and group, and the pending
/// events of its next completion and next solve.
pub(super) struct Fabric {
    pub(super) net: MaxMinNetwork,
    /// Per peer: NIC up (`u_j`) and, with `d_c`, NIC down.
    nic_up: Vec<ResourceId>,
    nic_down: Vec<Option<ResourceId>>,
    /// Per rack: uplink and downlink, when capped.
    rack_up: Vec<Option<ResourceId>>,
    rack_down: Vec<Option<ResourceId>>,
    /// Per server group: its rate `u_s^g`.
    group: Vec<ResourceId>,
    download_cap_mbps: Option<f64>,
    resolve_s: f64,
    last_solve_s: f64,
    solve_event: Option<EventId>,
    event: Option<EventId>,
}

impl Fabric {
    /// The network for a run, or `None` when nothing but uploads and group
    /// rates limits a flow (then processor sharing is exact).
    pub(super) fn build(
        peers: &PeersConfig,
        topology: Option<&TopologyConfig>,
        racks: &Racks,
        groups: usize,
    ) -> Option<Fabric> {
        let (up_mbps, down_mbps) = topology.map_or((None, None), |t| t.rack_links_mbps(peers));
        if peers.download_cap_mbps.is_none() && up_mbps.is_none() && down_mbps.is_none() {
            return None;
        }
        let mut net = MaxMinNetwork::new();
        let mut links = |c: Option<f64>| -> Vec<Option<ResourceId>> {
            (0..racks.count)
                .map(|_| c.map(|c| net.add_resource(c)))
                .collect()
        };
        let (rack_up, rack_down) = (links(up_mbps), links(down_mbps));
        let group = (0..groups).map(|_| net.add_resource(0.0)).collect();
        Some(Fabric {
            net,
            nic_up: Vec::new(),
            nic_down: Vec::new(),
            rack_up,
            rack_down,
            group,
            download_cap_mbps: peers.download_cap_mbps,
            resolve_s: topology.map_or(crate::input::topology::DEFAULT_RESOLVE_S, |t| t.resolve_s),
            last_solve_s: f64::NEG_INFINITY,
            solve_event: None,
            event: None,
        })
    }

    /// A new peer's host: its NICs (peers join in id order).
    pub(super) fn add_host(&mut self, upload_mbps: f64) {
        self.nic_up.push(self.net.add_resource(upload_mbps));
        let down = self.download_cap_mbps.map(|d| self.net.add_resource(d));
        self.nic_down.push(down);
    }

    fn peer_path(&self, racks: &Racks, from: PeerId, to: PeerId) -> Path {
        let mut path = Path::new(self.nic_up[from as usize]);
        if racks.crosses(from, to) {
            path.push(self.rack_up[racks.rack(from) as usize]);
            path.push(self.rack_down[racks.rack(to) as usize]);
        }
        path.push(self.nic_down[to as usize]);
        path
    }

    fn server_path(&self, racks: &Racks, g: u32, to: PeerId) -> Path {
        let mut path = Path::new(self.group[g as usize]);
        path.push(self.rack_down[racks.rack(to) as usize]);
        path.push(self.nic_down[to as usize]);
        path
    }

    /// Uploads in progress at `p`'s host.
    pub(super) fn uploads(&self, p: PeerId) -> usize {
        self.net.flow_count(self.nic_up[p as usize])
    }

    /// The rate a new flow on `path` would get as one more equal share of
    /// each resource: the end game's estimate (section 4's `u_h / (n_h + 1)`
    /// on every link of the path).
    fn estimate_mbps(&self, path: &Path) -> f64 {
        path.as_slice()
            .iter()
            .map(|&r| self.net.capacity_mbps(r) / (self.net.flow_count(r) + 1) as f64)
            .fold(f64::INFINITY, f64::min)
    }

    /// The highest load / capacity any link has had.
    pub(super) fn peak_utilisation(&self) -> f64 {
        self.net.peak_utilisation()
    }
}

impl Sim<'_> {
    fn fabric(&mut self) -> &mut Fabric {
        self.fabric.as_mut().expect("a run with a network")
    }

    /// Start peer flow `f` from `sender` to `receiver` on the network.
    pub(super) fn net_start_peer(
        &mut self,
        f: FlowId,
        sender: PeerId,
        receiver: PeerId,
        size_mb: f64,
    ) {
        let now = self.now();
        let fab = self.fabric.as_mut().expect("a run with a network");
        let path = fab.peer_path(&self.racks, sender, receiver);
        fab.net.add_flow_deferred(now, f, path.as_slice(), size_mb);
        self.net_changed();
    }

    /// Start server flow `f` of group `g` to `receiver` on the network.
    pub(super) fn net_start_server(&mut self, f: FlowId, g: u32, receiver: PeerId, size_mb: f64) {
        let now = self.now();
        let fab = self.fabric.as_mut().expect("a run with a network");
        let path = fab.server_path(&self.racks, g, receiver);
        fab.net.add_flow_deferred(now, f, path.as_slice(), size_mb);
        self.net_changed();
    }

    /// The network's next completion: a block arrives.
    pub(super) fn on_network(&mut self) {
        let now = self.now();
        let fab = self.fabric();
        fab.event = None;
        let Some(f) = fab.net.pop_completed_deferred(now) else {
            return;
        };
        self.net_changed();
        if let Source::Peer(s) = self.flows[f as usize].source {
            self.uploaders[s as usize].return_slot();
        }
        self.deliver(f);
    }

    /// The batched exact re-solve (at most once every `resolve_s`).
    pub(super) fn on_resolve(&mut self) {
        let now = self.now();
        let fab = self.fabric();
        fab.solve_event = None;
        fab.last_solve_s = now;
        fab.net.solve_dirty(now);
        self.net_changed();
    }

    /// After any change: point the completion event at the network's next
    /// completion, and make sure a solve is pending if anything changed.
    pub(super) fn net_changed(&mut self) {
        let now = self.now();
        let fab = self.fabric.as_mut().expect("a run with a network");
        let next = fab.net.next_completion().map(|(_, t)| t);
        refresh(&mut self.engine, &mut fab.event, next, Event::Network);
        if fab.solve_event.is_none() && fab.net.is_dirty() {
            let at_s = now.max(fab.last_solve_s + fab.resolve_s);
            fab.solve_event = Some(self.engine.schedule(at_s, Event::Resolve));
        }
    }

    /// New rates for the server's groups, solved at once.
    pub(super) fn net_set_group_rates(&mut self, rates_mbps: &[f64]) {
        let now = self.now();
        let fab = self.fabric();
        let capacities: Vec<(ResourceId, f64)> = fab
            .group
            .iter()
            .copied()
            .zip(rates_mbps.iter().copied())
            .collect();
        fab.net.set_capacities(now, &capacities);
        self.net_changed();
    }

    /// Uploads in progress at `p`.
    pub(super) fn upload_count(&self, p: PeerId) -> usize {
        match &self.fabric {
            Some(fab) => fab.uploads(p),
            None => self.uploads[p as usize].share.len(),
        }
    }

    /// Mb `p` has uploaded up to `now_s`.
    pub(super) fn upload_sent_mb(&mut self, p: PeerId, now_s: f64) -> f64 {
        match &self.fabric {
            Some(fab) => fab.net.sent_mb(fab.nic_up[p as usize], now_s),
            None => {
                let uploads = &mut self.uploads[p as usize].share;
                uploads.advance(now_s);
                uploads.sent_mb()
            }
        }
    }

    /// Mb group `g` has sent up to `now_s`.
    pub(super) fn group_sent_mb(&mut self, g: u32, now_s: f64) -> f64 {
        match &self.fabric {
            Some(fab) => fab.net.sent_mb(fab.group[g as usize], now_s),
            None => {
                let share = &mut self.groups[g as usize].share;
                share.advance(now_s);
                share.sent_mb()
            }
        }
    }

    /// Stop every upload of `p` (it leaves), first-finishing first, with
    /// the Mb each still lacked.
    pub(super) fn drain_uploads(&mut self, p: PeerId) -> Vec<(FlowId, f64)> {
        let now = self.now();
        let Some(fab) = &mut self.fabric else {
            return self.uploads[p as usize].share.drain(now);
        };
        let drained = fab
            .net
            .remove_flows_of_deferred(now, fab.nic_up[p as usize]);
        self.net_changed();
        drained
    }

    /// Stop every flow of group `g` (its rate fell to zero).
    pub(super) fn drain_group(&mut self, g: u32) -> Vec<(FlowId, f64)> {
        let now = self.now();
        let Some(fab) = &mut self.fabric else {
            return self.groups[g as usize].share.drain(now);
        };
        let drained = fab.net.remove_flows_of_deferred(now, fab.group[g as usize]);
        self.net_changed();
        drained
    }

    /// Stop server flow `f` of group `g`; the Mb it still lacked.
    pub(super) fn remove_server_flow(&mut self, g: u32, f: FlowId) -> Option<f64> {
        let now = self.now();
        let Some(fab) = &mut self.fabric else {
            return self.groups[g as usize].share.remove(now, f);
        };
        let left_mb = fab.net.remove_flow_deferred(now, f);
        self.net_changed();
        left_mb
    }

    /// A server flow's Mb left and its rate now.
    pub(super) fn server_flow_progress(&self, g: u32, f: FlowId) -> (f64, f64) {
        let now = self.now();
        match &self.fabric {
            Some(fab) => (
                fab.net.remaining_mb(f, now).unwrap_or(0.0),
                fab.net.rate_mbps(f).unwrap_or(0.0),
            ),
            None => {
                let share = &self.groups[g as usize].share;
                (
                    share.remaining_mb(now, f).unwrap_or(0.0),
                    share.rate_per_flow_mbps(),
                )
            }
        }
    }

    /// The rate a new flow from holder `h` to `p` would start at, as the
    /// end game estimates it.
    pub(super) fn new_peer_flow_mbps(&self, h: PeerId, p: PeerId) -> f64 {
        match &self.fabric {
            Some(fab) => fab.estimate_mbps(&fab.peer_path(&self.racks, h, p)),
            None => {
                let flows = self.uploads[h as usize].share.len();
                self.peers[h as usize].upload_mbps / (flows + 1) as f64
            }
        }
    }
}
