//! Peer requests: which block a leecher asks for, from which holder, and
//! how waiting leechers are offered a holder's free slot.

use super::holders::Found;
use super::state::{PeerId, PeerState};
use super::world::{SOURCE_ATTEMPTS, Sim};

impl Sim<'_> {
    /// A leecher lost or finished an incoming flow: let the server group `g`
    /// (whose block it wants, if any) push again, then its peer requests.
    pub(super) fn refill(&mut self, p: PeerId, g: Option<u32>) {
        if let Some(g) = g {
            self.start_server_flow(p, g);
        }
        self.fill_downloads(p);
    }

    /// Keep up to `max_downloads` peer requests in flight for leecher `p`,
    /// rarest (or random, sequential) block first, from a holder with a free
    /// upload slot. A leecher that finds none waits (see `waiting`) until a
    /// holder offers it a block.
    ///
    /// Forced inline (a delivery calls it, four call sites in all): its
    /// call's register saves and restores were some 19 instructions a
    /// call; inlined, 1,917 -> 1,906 instructions a block on cross-opt's
    /// paper default, 1,667 -> 1,656 on cross-equ's (`icount.sh --quick`).
    #[inline(always)]
    pub(super) fn fill_downloads(&mut self, p: PeerId) {
        let max_downloads = self.setup.peers.max_downloads;
        // The blocks whose holders were all busy, at most SOURCE_ATTEMPTS:
        // on the stack, as a `Vec` cost an allocation per call that
        // excluded one (common in a saturated crowd).
        let mut excluded = [0u32; SOURCE_ATTEMPTS];
        let mut n_excluded = 0;
        loop {
            let peer = &self.peers[p as usize];
            if peer.state != PeerState::Leecher {
                self.waiting.stop(p);
                return;
            }
            if peer.peer_downloads >= max_downloads {
                self.waiting.stop(p);
                return;
            }
            let key = self.pick_request(p, &excluded[..n_excluded]);
            let Some(key) = key else {
                // Nothing left to request from peers: the end game may move a
                // server block to a peer; otherwise wait, unless nothing is
                // left that a holder could ever give.
                if self.endgame_switch(p, None) {
                    continue;
                }
                if self.needs_unrequested(p) || self.endgame_pending(p) {
                    self.wait(p);
                } else {
                    self.waiting.stop(p);
                }
                return;
            };
            match self.choose_source(key, p) {
                Found::Holder(h) => self.start_peer_flow(p, h, key),
                Found::NoneFree => {
                    excluded[n_excluded] = key;
                    n_excluded += 1;
                    if n_excluded >= SOURCE_ATTEMPTS {
                        self.wait(p);
                        return;
                    }
                }
                // Holders with free slots are rare: rather than sample
                // more, wait for one to offer (it will, when it frees).
                Found::Saturated => {
                    self.wait(p);
                    return;
                }
            }
        }
    }

    /// Whether leecher `p` lacks a block it has not requested.
    pub(super) fn needs_unrequested(&self, p: PeerId) -> bool {
        !self.holdings.unrequested(p).is_empty()
    }
}
