//! The compute module's state under `compute/`: devices (indexed by GPU model, status and
//! owner), the matching index of available devices by (GPU model, rank), stakes and unbonding
//! entries, orders and the open-order queue, leases (indexed by renter) and each device's
//! leases, jobs, health history, reward pools (emission and each device's stakers), the
//! buyback auction and the emission record, and the due queues.

use crate::MODULE_NAME;
use stoa_framework::rewards::{RewardHolder, RewardPool};
use stoa_framework::schedule::DueQueue;
use stoa_framework::typed::{BigEndian, IndexedMap, Item, Map, MultiIndex, Raw};
use stoa_framework::Address;
use stoa_proto::compute::v1::{
    Buyback, Device, Emission, HealthSample, Job, Lease, Order, Stake, Unbonding,
};

pub static DEVICES: IndexedMap<u64, Device> = IndexedMap::new(
    MODULE_NAME,
    "devices",
    &[&DEVICES_BY_MODEL, &DEVICES_BY_STATUS, &DEVICES_BY_OWNER],
);
pub static DEVICES_BY_MODEL: MultiIndex<String, u64, Device> =
    MultiIndex::new(MODULE_NAME, "devices_by_model", |d| d.gpu_model.clone());
pub static DEVICES_BY_STATUS: MultiIndex<String, u64, Device> =
    MultiIndex::new(MODULE_NAME, "devices_by_status", |d| d.status.clone());
pub static DEVICES_BY_OWNER: MultiIndex<String, u64, Device> =
    MultiIndex::new(MODULE_NAME, "devices_by_owner", |d| d.owner.clone());

/// `(gpu_model, u64::MAX - rank, device id)` for every device that can be matched now
/// (online, not spoofed, with free GPUs): matching reads the best-ranked first and never scans
/// the other devices.
pub const AVAILABLE: Map<(String, u64, u64), Vec<u8>, Raw> = Map::new(MODULE_NAME, "available");

pub const NEXT_DEVICE: Item<u64, BigEndian<u64>> = Item::new(MODULE_NAME, "next_device");
pub const NEXT_ORDER: Item<u64, BigEndian<u64>> = Item::new(MODULE_NAME, "next_order");
pub const NEXT_LEASE: Item<u64, BigEndian<u64>> = Item::new(MODULE_NAME, "next_lease");
pub const NEXT_UNBONDING: Item<u64, BigEndian<u64>> = Item::new(MODULE_NAME, "next_unbonding");

pub static STAKES: IndexedMap<(u64, Address), Stake> =
    IndexedMap::new(MODULE_NAME, "stakes", &[&STAKES_BY_STAKER]);
pub static STAKES_BY_STAKER: MultiIndex<String, (u64, Address), Stake> =
    MultiIndex::new(MODULE_NAME, "stakes_by_staker", |s| s.staker.clone());
pub const UNBONDINGS: Map<u64, Unbonding> = Map::new(MODULE_NAME, "unbondings");

pub const ORDERS: Map<u64, Order> = Map::new(MODULE_NAME, "orders");
/// Open orders in id order (matching tries the oldest first).
pub const OPEN_ORDERS: Map<u64, Vec<u8>, Raw> = Map::new(MODULE_NAME, "open_orders");
/// The last open order end block tried (matching goes round from there).
pub const MATCH_CURSOR: Item<u64, BigEndian<u64>> = Item::new(MODULE_NAME, "match_cursor");

pub static LEASES: IndexedMap<u64, Lease> =
    IndexedMap::new(MODULE_NAME, "leases", &[&LEASES_BY_RENTER]);
pub static LEASES_BY_RENTER: MultiIndex<String, u64, Lease> =
    MultiIndex::new(MODULE_NAME, "leases_by_renter", |l| l.renter.clone());
/// `(device, lease)` for every active lease a device is on.
pub const DEVICE_LEASES: Map<(u64, u64), Vec<u8>, Raw> = Map::new(MODULE_NAME, "device_leases");

pub const JOBS: Map<(u64, u64), Job> = Map::new(MODULE_NAME, "jobs");
/// `(device, slot)`: a ring of `history_len` health samples, the slot of a sample being its
/// challenge's index (`challenge_time / heartbeat_interval`) modulo `history_len`.
pub const HISTORY: Map<(u64, u64), HealthSample> = Map::new(MODULE_NAME, "history");

/// The emission pool's books: devices hold shares (multiplier x GPUs) while online.
pub const EMISSION_POOL: Item<RewardPool> = Item::new(MODULE_NAME, "emission_pool");
pub const EMISSION_HOLDERS: Map<u64, RewardHolder> = Map::new(MODULE_NAME, "emission_holders");
pub const EMISSION: Item<Emission> = Item::new(MODULE_NAME, "emission");
/// Each device's stakers' pool per denom (shares = stake shares).
pub const STAKER_POOLS: Map<(u64, String), RewardPool> = Map::new(MODULE_NAME, "staker_pools");
pub const STAKER_HOLDERS: Map<(u64, Address, String), RewardHolder> =
    Map::new(MODULE_NAME, "staker_holders");

pub const BUYBACK: Item<Buyback> = Item::new(MODULE_NAME, "buyback");

/// Devices by the time they go offline unless a heartbeat comes (id as 8 bytes).
pub const OFFLINE_AT: DueQueue<'static> = DueQueue {
    prefix: b"compute/offline_at/",
};
/// Leases by the time their escrow runs dry.
pub const LEASE_END: DueQueue<'static> = DueQueue {
    prefix: b"compute/lease_end/",
};
pub const UNBOND_QUEUE: DueQueue<'static> = DueQueue {
    prefix: b"compute/unbond/",
};
