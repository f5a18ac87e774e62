//! The end game (the model's section on transfers): a block in flight from
//! the server is not held hostage. A leecher with nothing left to request
//! from peers moves a server block in flight to a free holder when that
//! holder would deliver it sooner, at the rates of that moment; the server
//! flow is cancelled and its partial data counted as waste. Without it, a
//! leecher's last block can crawl from a server group with a tiny rate while
//! idle peers hold it, so more server bandwidth could make downloads slower.

use crate::input::config::Endgame;

use super::state::PeerId;
use super::world::Sim;

impl Sim<'_> {
    /// Move one of leecher `p`'s server blocks in flight to a holder that
    /// would deliver it sooner: `holder` when given (a holder offering its
    /// free slot), else the chosen source of each block in turn. Whether one
    /// moved.
    pub(super) fn endgame_switch(&mut self, p: PeerId, holder: Option<PeerId>) -> bool {
        if self.setup.peers.endgame == Endgame::Off {
            return false;
        }
        let in_flight = self.peers[p as usize].server_flows.clone();
        for (g, f) in in_flight {
            let key = self.flows[f as usize].key;
            if self.rarity.count(key) == 0 {
                continue;
            }
            let h = match holder {
                Some(h) if self.can_serve(h, p, key) => h,
                Some(_) => continue,
                None => match self.choose_source(key, p).holder() {
                    Some(h) => h,
                    None => continue,
                },
            };
            let (left_mb, server_rate) = self.server_flow_progress(g, f);
            let server_s = if server_rate > 0.0 {
                left_mb / server_rate
            } else {
                f64::INFINITY
            };
            let peer_rate = self.new_peer_flow_mbps(h, p);
            if self.flows[f as usize].size_mb / peer_rate < server_s {
                return self.move_to_peer(p, g, f, h);
            }
        }
        false
    }

    /// Whether leecher `p` has server blocks in flight that some present
    /// peer holds, which a holder's free slot could later take over.
    pub(super) fn endgame_pending(&self, p: PeerId) -> bool {
        self.setup.peers.endgame == Endgame::Switch
            && self.peers[p as usize]
                .server_flows
                .iter()
                .any(|&(_, f)| self.rarity.count(self.flows[f as usize].key) > 0)
    }

    /// Whether holder `h` can serve `key` to `p` now.
    fn can_serve(&self, h: PeerId, p: PeerId, key: u32) -> bool {
        let holder = &self.peers[h as usize];
        h != p
            && self.holdings.holds(h, key)
            && holder.upload_mbps > 0.0
            && self.upload_count(h) < self.setup.peers.upload_slots as usize
    }

    /// Cancel server flow `f` of group `g` to `p` and request its block
    /// from `h`; the group may then push `p` another block.
    fn move_to_peer(&mut self, p: PeerId, g: u32, f: u32, h: PeerId) -> bool {
        let key = self.flows[f as usize].key;
        let Some(left_mb) = self.remove_server_flow(g, f) else {
            return false;
        };
        self.cut_flows(vec![(f, left_mb)]);
        self.note_group_flows_changed(g);
        self.counters.endgame_switches += 1;
        self.start_peer_flow(p, h, key);
        self.start_server_flow(p, g);
        true
    }
}
