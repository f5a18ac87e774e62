//! The simulation's state: peers, flows, server groups, and the events that
//! move them.

use crate::input::config::MAX_UPLOAD_SLOTS;

use super::engine::EventId;
use super::rarity::Floor;
use super::transfer::{FairShare, FlowId, GROUP_FEW};

/// Index of a peer (a VM's host, or a preheated seeder): its slot in the
/// per-peer arrays. A departed peer's slot is taken by a later arrival (but
/// on a data center's hosts, see `Sim::reuses_slots`), only after the
/// lists that name departed peers lazily (holders, waiting queues) were
/// purged of it (see `holders`).
pub(super) type PeerId = u32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PeerState {
    Leecher,
    Seeder,
    Gone,
}

/// A peer's record. The fields a delivery and the requests after it read
/// come first, in declaration order (`repr(C)`), so that they share the
/// record's first cache line (64 bytes): with a crowd of hosts, the record
/// is a cache miss per delivery, and one line is one miss.
#[repr(C)]
pub(super) struct Peer {
    /// Where its rarest-first choices may start (see `rarity::Floor`).
    pub(super) floor: Floor,
    pub(super) from_peers_mb: f64,
    pub(super) image: u32,
    /// Blocks lacking, in flight included.
    pub(super) missing: u32,
    /// Block requests in flight to peers.
    pub(super) peer_downloads: u32,
    pub(super) state: PeerState,
    /// (group, flow) of the server flows in flight to this peer.
    pub(super) server_flows: Vec<(u32, FlowId)>,
    pub(super) upload_mbps: f64,
    /// Its place in each group of its image (in the order of
    /// `groups_of_image`).
    pub(super) membership: Vec<Membership>,
    /// Request index, `None` for a preheated seeder.
    pub(super) vm: Option<usize>,
    pub(super) lifetime_s: f64,
    /// When its request arrived (s): the time it joined, for a VM.
    pub(super) arrival_s: f64,
    pub(super) joined_s: f64,
    pub(super) completed_s: f64,
    /// Mb uploaded while a leecher.
    pub(super) sent_as_leecher_mb: f64,
    /// Whether it counts in the statistics (a VM arriving after the warm-up).
    pub(super) counted: bool,
    pub(super) from_server_mb: f64,
}

/// A peer's place in one group of its image.
#[derive(Clone, Copy, Debug)]
pub(super) struct Membership {
    /// Its index in the group's members (`peers::NOT_MEMBER` when it is
    /// not one), so leaving a group is O(1).
    pub(super) index: u32,
    /// Under chunk groups: the blocks of the group's chunk it does not
    /// hold. It leaves the group when none are left; counted, that is
    /// cheaper to learn at a delivery than from its bitsets.
    pub(super) lacking: u32,
}

/// A peer's upload: its capacity shared equally by its flows, and the
/// pending event of the first to finish. Kept apart from the peer's record,
/// in an array of its own, because the sender's side of a transfer needs
/// nothing else of the sender.
pub(super) struct Upload {
    pub(super) share: FairShare,
    pub(super) event: Option<EventId>,
}

/// What source choice reads of a peer, kept in an array of its own (2
/// bytes a peer) so that sampling holders touches little memory: the
/// uploads it can start now in the low 15 bits (`peers.upload_slots` is
/// at most `MAX_UPLOAD_SLOTS`), and whether it departed (its holder
/// entries are then stale) in the top bit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Uploader(u16);

/// The bit of a departed peer.
const GONE_BIT: u16 = 1 << 15;

const _: () = assert!(MAX_UPLOAD_SLOTS < GONE_BIT as u32);

impl Uploader {
    /// A departed peer.
    pub(super) const GONE: Uploader = Uploader(GONE_BIT);

    /// A present peer with `slots` upload slots, all free.
    pub(super) fn new(slots: u32) -> Uploader {
        debug_assert!(slots <= MAX_UPLOAD_SLOTS);
        Uploader(slots as u16)
    }

    /// Uploads it can start now (0 when gone or full).
    #[inline(always)]
    pub(super) fn free_slots(self) -> u16 {
        self.0 & !GONE_BIT
    }

    /// Whether it departed.
    #[inline(always)]
    pub(super) fn gone(self) -> bool {
        self.0 & GONE_BIT != 0
    }

    /// It starts an upload (a free slot taken).
    #[inline(always)]
    pub(super) fn take_slot(&mut self) {
        debug_assert!(self.free_slots() > 0);
        self.0 -= 1;
    }

    /// An upload of its ended (a slot freed).
    #[inline(always)]
    pub(super) fn return_slot(&mut self) {
        debug_assert!(!self.gone());
        self.0 += 1;
    }
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Source {
    Peer(PeerId),
    Server(u32),
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Flow {
    pub(super) receiver: PeerId,
    pub(super) source: Source,
    pub(super) key: u32,
    pub(super) size_mb: f64,
}

pub(super) struct Group {
    pub(super) share: FairShare<GROUP_FEW>,
    pub(super) event: Option<EventId>,
    /// Leechers that still lack data of the group.
    pub(super) members: Vec<PeerId>,
    pub(super) seeders: usize,
    pub(super) remaining_mb: f64,
    /// Mb peers delivered into the group since the last tick.
    pub(super) peer_mb_since_tick: f64,
    pub(super) popularity: f64,
    pub(super) sent_mb_at_tick: f64,
}

#[derive(Debug, Clone, Copy)]
pub(super) enum Event {
    /// Kept request `i` arrives (a `u32`, so that an event and its slot fit
    /// the 16 bytes beside a queue key; `Sim::run` checks the count).
    Arrival(u32),
    /// The streamed request drawn last arrives (`Sim::next_request`).
    StreamedArrival,
    Tick,
    /// Peer `p`'s first-finishing upload, flow `f`, completes. The flow is
    /// named so that its record is read while `p`'s is still on its way
    /// (on a large crowd both are cache misses).
    PeerUpload(PeerId, FlowId),
    ServerGroup(u32),
    Departure(PeerId),
    /// The next completion on the data center's network (`fabric`).
    Network,
    /// The network's batched exact re-solve (`fabric`).
    Resolve,
}

/// The blocks of a leecher's image it neither holds nor has requested, as
/// candidate words `(word index, bits)`: the slow reference of
/// `Holdings::unrequested`, which keeps them as they change.
#[cfg(test)]
pub(super) fn unrequested<'s>(
    space: &'s super::space::Space,
    holdings: &'s super::holdings::Holdings,
    p: PeerId,
    image: u32,
) -> impl Iterator<Item = (usize, u64)> + 's {
    let row = holdings.row(p);
    space
        .image_keys(image as usize)
        .map(move |(w, bits)| (w, row.lacking(w, bits)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn an_uploader_keeps_its_free_slots_and_departure_apart_in_two_bytes() {
        assert_eq!(size_of::<Uploader>(), 2);
        let mut u = Uploader::new(MAX_UPLOAD_SLOTS);
        assert_eq!((u.free_slots(), u.gone()), (MAX_UPLOAD_SLOTS as u16, false));
        for _ in 0..MAX_UPLOAD_SLOTS {
            u.take_slot();
        }
        assert_eq!((u.free_slots(), u.gone()), (0, false));
        u.return_slot();
        assert_eq!((u.free_slots(), u.gone()), (1, false));
        assert_eq!(
            (Uploader::GONE.free_slots(), Uploader::GONE.gone()),
            (0, true)
        );
    }

    #[test]
    fn a_delivery_reads_one_line_of_the_peer_record() {
        let end_of = |offset: usize, size: usize| offset + size;
        let hot_end = [
            end_of(offset_of!(Peer, floor), size_of::<Floor>()),
            end_of(offset_of!(Peer, from_peers_mb), 8),
            end_of(offset_of!(Peer, image), 4),
            end_of(offset_of!(Peer, missing), 4),
            end_of(offset_of!(Peer, peer_downloads), 4),
            end_of(offset_of!(Peer, state), size_of::<PeerState>()),
            end_of(
                offset_of!(Peer, server_flows),
                size_of::<Vec<(u32, FlowId)>>(),
            ),
        ];
        assert!(hot_end.iter().all(|&end| end <= 64), "{hot_end:?}");
    }

    #[test]
    fn an_event_fits_beside_its_slot_in_the_padding_of_a_queue_entry() {
        // A queue entry is a u128 key (16 bytes, 16-aligned) and the event's
        // slot (4 bytes) with the event: 12 bytes of event keep it at 32.
        assert!(size_of::<Event>() <= 12, "{} bytes", size_of::<Event>());
        assert_eq!(size_of::<(u128, (u32, Event))>(), 32);
    }
}
