//! The storage module's state under `storage/`: providers, escrow balances, deals (indexed by
//! client and provider), pre-commits, sectors, deadlines' sector lists and randomness, network
//! power, rewards, and the due queues end block reads (only what is due).

use crate::MODULE_NAME;
use stoa_framework::rewards::RewardHolder;
use stoa_framework::schedule::DueQueue;
use stoa_framework::typed::{BigEndian, IndexedMap, Item, Json, Map, MultiIndex};
use stoa_framework::Address;
use stoa_proto::storage::v1::{
    DeadlineRandomness, Deal, EscrowBalance, NetworkPower, PreCommit, Provider, RewardState, Sector,
};

/// `storage/providers/<owner>`.
pub const PROVIDERS: Map<Address, Provider> = Map::new(MODULE_NAME, "providers");
/// `storage/escrow/<address>`: market balances (total and locked).
pub const ESCROW: Map<Address, EscrowBalance> = Map::new(MODULE_NAME, "escrow");
pub static DEALS: IndexedMap<u64, Deal> = IndexedMap::new(
    MODULE_NAME,
    "deals",
    &[&DEALS_BY_CLIENT, &DEALS_BY_PROVIDER],
);
pub static DEALS_BY_CLIENT: MultiIndex<String, u64, Deal> =
    MultiIndex::new(MODULE_NAME, "deals_by_client", |d| {
        d.proposal
            .as_ref()
            .map(|p| p.client.clone())
            .unwrap_or_default()
    });
pub static DEALS_BY_PROVIDER: MultiIndex<String, u64, Deal> =
    MultiIndex::new(MODULE_NAME, "deals_by_provider", |d| {
        d.proposal
            .as_ref()
            .map(|p| p.provider.clone())
            .unwrap_or_default()
    });
pub const NEXT_DEAL_ID: Item<u64, BigEndian<u64>> = Item::new(MODULE_NAME, "next_deal_id");
/// Hashes of live proposals: a signed proposal is published once.
pub const PROPOSALS: Map<Vec<u8>, u64, BigEndian<u64>> = Map::new(MODULE_NAME, "proposals");
/// Deals named by a pre-commit, with its sector number.
pub const DEAL_SECTOR: Map<u64, u64, BigEndian<u64>> = Map::new(MODULE_NAME, "deal_sector");
pub const PRECOMMITS: Map<(Address, u64), PreCommit> = Map::new(MODULE_NAME, "precommits");
pub const SECTORS: Map<(Address, u64), Sector> = Map::new(MODULE_NAME, "sectors");
/// Sector numbers ever used by a provider (never reused).
pub const USED_NUMBERS: Map<(Address, u64), u64, BigEndian<u64>> =
    Map::new(MODULE_NAME, "used_numbers");
/// The sectors assigned to each deadline of a provider.
pub const DEADLINE_SECTORS: Map<(Address, u64), Vec<u64>, Json<Vec<u64>>> =
    Map::new(MODULE_NAME, "deadline_sectors");
pub const DEADLINE_RAND: Map<(Address, u64), DeadlineRandomness> =
    Map::new(MODULE_NAME, "deadline_rand");
pub const POWER: Item<NetworkPower> = Item::new(MODULE_NAME, "power");
pub const REWARDS: Item<RewardState> = Item::new(MODULE_NAME, "rewards");
pub const HOLDERS: Map<Address, RewardHolder> = Map::new(MODULE_NAME, "reward_holders");
/// A vesting tranche: (total, start, claimed), amounts as decimal strings.
pub type Tranche = (String, i64, String);
/// Vesting rewards per provider and day bucket.
pub const VESTING: Map<(Address, i64), Tranche, Json<Tranche>> = Map::new(MODULE_NAME, "vesting");

/// Deals not yet activated, by start time (slashed if still not active then).
pub const DEAL_START: DueQueue<'static> = DueQueue {
    prefix: b"storage/q_deal_start/",
};
/// Active deals by end time.
pub const DEAL_END: DueQueue<'static> = DueQueue {
    prefix: b"storage/q_deal_end/",
};
/// Pre-commits by the time their interactive seed is drawn.
pub const SEED: DueQueue<'static> = DueQueue {
    prefix: b"storage/q_seed/",
};
/// Pre-commits by their prove-commit deadline.
pub const PRECOMMIT_EXPIRY: DueQueue<'static> = DueQueue {
    prefix: b"storage/q_pc_expiry/",
};
/// Sectors by expiration.
pub const SECTOR_EXPIRY: DueQueue<'static> = DueQueue {
    prefix: b"storage/q_sector_expiry/",
};
/// Deadlines by challenge time (randomness drawn) and by close time (proofs checked).
pub const CHALLENGE: DueQueue<'static> = DueQueue {
    prefix: b"storage/q_challenge/",
};
pub const CLOSE: DueQueue<'static> = DueQueue {
    prefix: b"storage/q_close/",
};

/// Queue id of a provider's sector or deadline: 20-byte address then the number.
pub fn qid(provider: &Address, n: u64) -> Vec<u8> {
    let mut v = provider.as_bytes().to_vec();
    v.extend_from_slice(&n.to_be_bytes());
    v
}

pub fn parse_qid(raw: &[u8]) -> Option<(Address, u64)> {
    if raw.len() != 28 {
        return None;
    }
    let addr = Address::from_slice(&raw[..20]).ok()?;
    let n = u64::from_be_bytes(raw[20..].try_into().ok()?);
    Some((addr, n))
}
