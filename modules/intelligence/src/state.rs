//! The module's state under `intelligence/`: subnets, neurons by (netuid, uid), the uid of each
//! (netuid, hotkey), weights and weight commits, delegates (a hotkey's owner, take and stake
//! pool), nominator shares by (coldkey, hotkey), and the issuance counters.

use crate::MODULE_NAME;
use serde::{Deserialize, Serialize};
use stoa_framework::typed::{BigEndian, Item, Json, Map};
use stoa_framework::Address;
use stoa_proto::intelligence::v1::{Delegate, Neuron, Subnet};

/// `subnets/<netuid>`.
pub const SUBNETS: Map<u16, Subnet> = Map::new(MODULE_NAME, "subnets");
/// `neurons/<netuid><uid>`.
pub const NEURONS: Map<(u16, u16), Neuron> = Map::new(MODULE_NAME, "neurons");
/// `uids/<netuid><hotkey>` -> uid.
pub const UIDS: Map<(u16, Address), u32, BigEndian<u32>> = Map::new(MODULE_NAME, "uids");
/// One uid's weights: `[uid, value]` pairs.
pub type WeightRow = Vec<(u16, u16)>;
/// `weights/<netuid><uid>` -> `[uid, value]` pairs, values max-upscaled to 65535.
pub const WEIGHTS: Map<(u16, u16), WeightRow, Json<WeightRow>> = Map::new(MODULE_NAME, "weights");
/// `commits/<netuid><hotkey>`.
pub const COMMITS: Map<(u16, Address), WeightCommit, Json<WeightCommit>> =
    Map::new(MODULE_NAME, "commits");
/// `delegates/<hotkey>`: created at the hotkey's first registration.
pub const DELEGATES: Map<Address, Delegate> = Map::new(MODULE_NAME, "delegates");
/// `shares/<coldkey><hotkey>` -> nominator shares of the hotkey's pool.
pub const SHARES: Map<(Address, Address), u128, BigEndian<u128>> = Map::new(MODULE_NAME, "shares");
/// umind minted so far.
pub const ISSUED: Item<u128, BigEndian<u128>> = Item::new(MODULE_NAME, "issued");
/// Minted umind not yet credited to a subnet (rounding dust, or no subnet yet).
pub const UNDISTRIBUTED: Item<u128, BigEndian<u128>> = Item::new(MODULE_NAME, "undistributed");

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeightCommit {
    pub hash: Vec<u8>,
    /// The subnet's epoch index at the commit; the reveal belongs to the next one.
    pub epoch: u64,
    pub block: u64,
}
