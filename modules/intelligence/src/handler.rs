//! One handler per message: subnets (register, dissolve, hyperparameters), burned registration
//! with pruning, axons, weights (direct or commit-reveal), stake and take.

use crate::keeper::{self, IntelBank};
use crate::params::{validate_hyperparams, IntelligenceParams};
use crate::state::{WeightCommit, COMMITS, DELEGATES, NEURONS, SHARES, SUBNETS, UIDS, WEIGHTS};
use crate::subnet::{self, hp, netuid};
use crate::{error, EMISSION_ACCOUNT, LOCK_ACCOUNT, STAKE_ACCOUNT};
use sha2::{Digest, Sha256};
use stoa_framework::{params, Address, Ctx, Event, MsgHandler, Order, StoaError};
use stoa_proto::intelligence::v1::*;

/// The hash a weight commit carries: sha256(hotkey || netuid || uids || values || salt ||
/// version_key), integers big-endian (uids and values as u16).
pub fn commit_hash(
    hotkey: &Address,
    netuid: u16,
    uids: &[u16],
    values: &[u16],
    salt: &[u8],
    version_key: u64,
) -> Vec<u8> {
    let mut h = Sha256::new();
    h.update(hotkey.as_bytes());
    h.update(netuid.to_be_bytes());
    for u in uids {
        h.update(u.to_be_bytes());
    }
    for v in values {
        h.update(v.to_be_bytes());
    }
    h.update(salt);
    h.update(version_key.to_be_bytes());
    h.finalize().to_vec()
}

fn load_subnet(ctx: &mut Ctx<'_>, net: u16) -> Result<Subnet, StoaError> {
    SUBNETS
        .get(ctx, &net)?
        .ok_or_else(|| error::SUBNET_NOT_FOUND.with(format!("netuid {net}")))
}

fn owned_subnet(ctx: &mut Ctx<'_>, owner: &Address, net: u16) -> Result<Subnet, StoaError> {
    let s = load_subnet(ctx, net)?;
    if net == 0 {
        return Err(error::ROOT_SUBNET.with("root has no owner"));
    }
    if s.owner != owner.to_string() {
        return Err(error::NOT_OWNER.with(format!("subnet {net}")));
    }
    Ok(s)
}

fn uid_of(ctx: &mut Ctx<'_>, net: u16, hotkey: &Address) -> Result<u16, StoaError> {
    UIDS.get(ctx, &(net, *hotkey))?
        .map(|u| u as u16)
        .ok_or_else(|| error::NOT_REGISTERED.with(format!("{hotkey} on subnet {net}")))
}

/// The subnet with a new hotkey's defaults, registered at `block`.
pub fn new_subnet(
    net: u16,
    owner: String,
    locked: u64,
    p: &IntelligenceParams,
    block: u64,
) -> Subnet {
    let h = p.default_hyperparams.to_proto();
    Subnet {
        netuid: net as u32,
        owner,
        locked,
        burn: h.min_burn,
        burn_block: block,
        hyperparams: Some(h),
        registered_at: block,
        last_epoch_block: 0,
        ..Default::default()
    }
}

pub struct RegisterSubnet<B>(pub B);

impl<B: IntelBank> MsgHandler for RegisterSubnet<B> {
    type Msg = MsgRegisterSubnet;
    const AMINO_NAME: &'static str = "stoa/intelligence/MsgRegisterSubnet";
    type Checked = Address;
    type Response = MsgRegisterSubnetResponse;

    fn check(&self, msg: MsgRegisterSubnet) -> Result<(Vec<Address>, Address), StoaError> {
        let owner = Address::parse(&msg.owner)?;
        Ok((vec![owner], owner))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        owner: &Address,
    ) -> Result<MsgRegisterSubnetResponse, StoaError> {
        let p = params::load::<IntelligenceParams>(ctx)?;
        let mut net = None;
        for candidate in 1..=p.max_subnets {
            let c = candidate as u16;
            if !SUBNETS.has(ctx, &c)? {
                net = Some(c);
                break;
            }
        }
        let net =
            net.ok_or_else(|| error::TOO_MANY_SUBNETS.with(format!("{} subnets", p.max_subnets)))?;
        keeper::collect(
            &self.0,
            ctx,
            owner,
            LOCK_ACCOUNT,
            p.network_min_lock as u128,
        )?;
        let s = new_subnet(net, owner.to_string(), p.network_min_lock, &p, ctx.height());
        SUBNETS.save(ctx, &net, &s)?;
        ctx.emit(Event::typed(&EventSubnetRegistered {
            netuid: net as u32,
            owner: owner.to_string(),
            locked: p.network_min_lock,
        })?);
        Ok(MsgRegisterSubnetResponse { netuid: net as u32 })
    }
}

pub struct DissolveSubnet<B>(pub B);

impl<B: IntelBank> MsgHandler for DissolveSubnet<B> {
    type Msg = MsgDissolveSubnet;
    const AMINO_NAME: &'static str = "stoa/intelligence/MsgDissolveSubnet";
    type Checked = (Address, u16);
    type Response = MsgDissolveSubnetResponse;

    fn check(&self, msg: MsgDissolveSubnet) -> Result<(Vec<Address>, (Address, u16)), StoaError> {
        let owner = Address::parse(&msg.owner)?;
        Ok((vec![owner], (owner, netuid(msg.netuid)?)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (owner, net): &(Address, u16),
    ) -> Result<MsgDissolveSubnetResponse, StoaError> {
        let s = owned_subnet(ctx, owner, *net)?;
        for uid in 0..s.n {
            if let Some(n) = NEURONS.get(ctx, &(*net, uid as u16))? {
                subnet::clear_neuron(ctx, *net, &n)?;
            }
        }
        keeper::pay(&self.0, ctx, LOCK_ACCOUNT, owner, s.locked as u128)?;
        // Emission accrued and not yet paid is burned: it was issued to a subnet that is gone.
        if s.pending_emission > 0 {
            let c = keeper::coins(ctx, s.pending_emission as u128)?;
            self.0.burn(ctx, EMISSION_ACCOUNT, &c)?;
        }
        SUBNETS.remove(ctx, net)?;
        Ok(MsgDissolveSubnetResponse {})
    }
}

pub struct SetHyperparams;

impl MsgHandler for SetHyperparams {
    type Msg = MsgSetHyperparams;
    const AMINO_NAME: &'static str = "stoa/intelligence/MsgSetHyperparams";
    type Checked = (Address, u16, Hyperparams);
    type Response = MsgSetHyperparamsResponse;

    fn check(&self, msg: MsgSetHyperparams) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let owner = Address::parse(&msg.owner)?;
        let h = msg
            .hyperparams
            .ok_or_else(|| error::BAD_HYPERPARAMS.with("hyperparams missing"))?;
        validate_hyperparams(&h)?;
        Ok((vec![owner], (owner, netuid(msg.netuid)?, h)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (owner, net, h): &Self::Checked,
    ) -> Result<MsgSetHyperparamsResponse, StoaError> {
        let mut s = owned_subnet(ctx, owner, *net)?;
        if h.max_allowed_uids < s.n {
            return Err(error::BAD_HYPERPARAMS
                .with(format!("max_allowed_uids below the {} registered", s.n)));
        }
        s.hyperparams = Some(*h);
        SUBNETS.save(ctx, net, &s)?;
        Ok(MsgSetHyperparamsResponse {})
    }
}

pub struct BurnedRegister<B>(pub B);

impl<B: IntelBank> MsgHandler for BurnedRegister<B> {
    type Msg = MsgBurnedRegister;
    const AMINO_NAME: &'static str = "stoa/intelligence/MsgBurnedRegister";
    type Checked = (Address, u16, Address);
    type Response = MsgBurnedRegisterResponse;

    fn check(&self, msg: MsgBurnedRegister) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let coldkey = Address::parse(&msg.coldkey)?;
        let hotkey = Address::parse(&msg.hotkey)?;
        Ok((vec![coldkey], (coldkey, netuid(msg.netuid)?, hotkey)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (coldkey, net, hotkey): &Self::Checked,
    ) -> Result<MsgBurnedRegisterResponse, StoaError> {
        let mut s = load_subnet(ctx, *net)?;
        let block = ctx.height();
        let p = params::load::<IntelligenceParams>(ctx)?;
        // A hotkey belongs to the coldkey that first registered it.
        let delegate = DELEGATES.get(ctx, hotkey)?;
        if let Some(d) = &delegate {
            if d.owner != coldkey.to_string() {
                return Err(
                    error::HOTKEY_OTHER_COLDKEY.with(format!("{hotkey} belongs to {}", d.owner))
                );
            }
        }
        if UIDS.has(ctx, &(*net, *hotkey))? {
            return Err(error::ALREADY_REGISTERED.with(format!("{hotkey} on subnet {net}")));
        }
        let burn = subnet::current_burn(&s, block)?;
        let max_uids = hp(&s)?.max_allowed_uids;
        let (uid, pruned) = if s.n < max_uids {
            s.n += 1;
            ((s.n - 1) as u16, String::new())
        } else {
            let victim = subnet::prune_candidate(ctx, &s, *net, block)?
                .ok_or_else(|| error::SUBNET_FULL.with(format!("subnet {net}")))?;
            subnet::clear_neuron(ctx, *net, &victim)?;
            (victim.uid as u16, victim.hotkey)
        };
        keeper::collect(&self.0, ctx, coldkey, EMISSION_ACCOUNT, burn as u128)?;
        if burn > 0 {
            let c = keeper::coins(ctx, burn as u128)?;
            self.0.burn(ctx, EMISSION_ACCOUNT, &c)?;
        }
        s.burn = subnet::raised_burn(&s, block)?;
        s.burn_block = block;
        SUBNETS.save(ctx, net, &s)?;
        if delegate.is_none() {
            DELEGATES.save(
                ctx,
                hotkey,
                &Delegate {
                    hotkey: hotkey.to_string(),
                    owner: coldkey.to_string(),
                    take_bps: p.max_take_bps,
                    total_stake: 0,
                    total_shares: "0".into(),
                },
            )?;
        }
        UIDS.save(ctx, &(*net, *hotkey), &(uid as u32))?;
        NEURONS.save(
            ctx,
            &(*net, uid),
            &Neuron {
                netuid: *net as u32,
                uid: uid as u32,
                hotkey: hotkey.to_string(),
                coldkey: coldkey.to_string(),
                block_at_registration: block,
                last_update: block,
                active: true,
                ..Default::default()
            },
        )?;
        ctx.emit(Event::typed(&EventNeuronRegistered {
            netuid: *net as u32,
            uid: uid as u32,
            hotkey: hotkey.to_string(),
            burned: burn,
            pruned,
        })?);
        Ok(MsgBurnedRegisterResponse {
            uid: uid as u32,
            burned: burn,
        })
    }
}

pub struct ServeAxon;

impl MsgHandler for ServeAxon {
    type Msg = MsgServeAxon;
    const AMINO_NAME: &'static str = "stoa/intelligence/MsgServeAxon";
    type Checked = (Address, MsgServeAxon);
    type Response = MsgServeAxonResponse;

    fn check(&self, msg: MsgServeAxon) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let hotkey = Address::parse(&msg.hotkey)?;
        if msg.ip.is_empty() || msg.ip.len() > 64 || msg.port == 0 || msg.port > 65_535 {
            return Err(error::VALUE_OUT_OF_RANGE.with("axon ip or port"));
        }
        Ok((vec![hotkey], (hotkey, msg)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (hotkey, msg): &Self::Checked,
    ) -> Result<MsgServeAxonResponse, StoaError> {
        let net = netuid(msg.netuid)?;
        let s = load_subnet(ctx, net)?;
        let uid = uid_of(ctx, net, hotkey)?;
        let mut n = NEURONS.load(ctx, &(net, uid))?;
        let block = ctx.height();
        let limit = hp(&s)?.serving_rate_limit;
        if let Some(a) = &n.axon {
            if block.saturating_sub(a.block) < limit {
                return Err(error::RATE_LIMITED
                    .with(format!("axon served at {}, limit {limit} blocks", a.block)));
            }
        }
        n.axon = Some(AxonInfo {
            ip: msg.ip.clone(),
            port: msg.port,
            protocol: msg.protocol,
            version: msg.version,
            block,
        });
        NEURONS.save(ctx, &(net, uid), &n)?;
        Ok(MsgServeAxonResponse {})
    }
}

/// Weights after their stateless checks.
pub struct CheckedWeights {
    hotkey: Address,
    netuid: u16,
    uids: Vec<u16>,
    values: Vec<u16>,
    version_key: u64,
    salt: Vec<u8>,
}

fn check_weights(
    hotkey: &str,
    net: u32,
    uids: &[u32],
    values: &[u32],
    version_key: u64,
    salt: Vec<u8>,
) -> Result<CheckedWeights, StoaError> {
    let hotkey = Address::parse(hotkey)?;
    if uids.len() != values.len() {
        return Err(error::LENGTH_MISMATCH.with(format!(
            "{} uids, {} values",
            uids.len(),
            values.len()
        )));
    }
    let mut seen = std::collections::BTreeSet::new();
    let mut u16s = Vec::with_capacity(uids.len());
    for u in uids {
        let u = u16::try_from(*u).map_err(|_| error::UID_OUT_OF_RANGE.with(format!("uid {u}")))?;
        if !seen.insert(u) {
            return Err(error::DUPLICATE_UID.with(format!("uid {u}")));
        }
        u16s.push(u);
    }
    let vals = values
        .iter()
        .map(|v| {
            u16::try_from(*v).map_err(|_| error::VALUE_OUT_OF_RANGE.with(format!("weight {v}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(CheckedWeights {
        hotkey,
        netuid: netuid(net)?,
        uids: u16s,
        values: vals,
        version_key,
        salt,
    })
}

/// Stores weights after the stateful checks (uids in range, version key), as of `block`.
fn store_weights(
    ctx: &mut Ctx<'_>,
    w: &CheckedWeights,
    s: &Subnet,
    uid: u16,
) -> Result<(), StoaError> {
    let h = hp(s)?;
    if w.version_key < h.weights_version_key {
        return Err(
            error::VERSION_KEY_LOW.with(format!("{} < {}", w.version_key, h.weights_version_key))
        );
    }
    for u in &w.uids {
        let ok = if w.netuid == 0 {
            *u != 0 && SUBNETS.has(ctx, u)?
        } else {
            (*u as u32) < s.n
        };
        if !ok {
            return Err(error::UID_OUT_OF_RANGE.with(format!("uid {u} on subnet {}", w.netuid)));
        }
    }
    let up = subnet::max_upscale(&w.values);
    WEIGHTS.save(
        ctx,
        &(w.netuid, uid),
        &w.uids.iter().copied().zip(up).collect(),
    )?;
    let mut n = NEURONS.load(ctx, &(w.netuid, uid))?;
    n.last_update = ctx.height();
    NEURONS.save(ctx, &(w.netuid, uid), &n)
}

/// Weights may be set once per `weights_rate_limit` blocks (the first time at any block).
fn rate_limit(
    ctx: &mut Ctx<'_>,
    s: &Subnet,
    net: u16,
    uid: u16,
    since: u64,
) -> Result<(), StoaError> {
    let n = NEURONS.load(ctx, &(net, uid))?;
    let limit = hp(s)?.weights_rate_limit;
    let block = ctx.height();
    if since != n.block_at_registration && block.saturating_sub(since) < limit {
        return Err(error::RATE_LIMITED.with(format!(
            "last set at {since}, now {block}, limit {limit} blocks"
        )));
    }
    Ok(())
}

pub struct SetWeights;

impl MsgHandler for SetWeights {
    type Msg = MsgSetWeights;
    const AMINO_NAME: &'static str = "stoa/intelligence/MsgSetWeights";
    type Checked = CheckedWeights;
    type Response = MsgSetWeightsResponse;

    fn check(&self, m: MsgSetWeights) -> Result<(Vec<Address>, CheckedWeights), StoaError> {
        let w = check_weights(
            &m.hotkey,
            m.netuid,
            &m.uids,
            &m.values,
            m.version_key,
            vec![],
        )?;
        Ok((vec![w.hotkey], w))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        w: &CheckedWeights,
    ) -> Result<MsgSetWeightsResponse, StoaError> {
        let s = load_subnet(ctx, w.netuid)?;
        let uid = uid_of(ctx, w.netuid, &w.hotkey)?;
        if w.netuid != 0 && hp(&s)?.commit_reveal {
            return Err(error::COMMIT_REVEAL_ON.with(format!("subnet {}", w.netuid)));
        }
        let last = NEURONS.load(ctx, &(w.netuid, uid))?.last_update;
        rate_limit(ctx, &s, w.netuid, uid, last)?;
        store_weights(ctx, w, &s, uid)?;
        Ok(MsgSetWeightsResponse {})
    }
}

pub struct CommitWeights;

impl MsgHandler for CommitWeights {
    type Msg = MsgCommitWeights;
    const AMINO_NAME: &'static str = "stoa/intelligence/MsgCommitWeights";
    type Checked = (Address, u16, Vec<u8>);
    type Response = MsgCommitWeightsResponse;

    fn check(&self, m: MsgCommitWeights) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let hotkey = Address::parse(&m.hotkey)?;
        if m.hash.len() != 32 {
            return Err(error::VALUE_OUT_OF_RANGE.with("hash must be 32 bytes"));
        }
        Ok((vec![hotkey], (hotkey, netuid(m.netuid)?, m.hash)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (hotkey, net, hash): &Self::Checked,
    ) -> Result<MsgCommitWeightsResponse, StoaError> {
        let s = load_subnet(ctx, *net)?;
        let uid = uid_of(ctx, *net, hotkey)?;
        let h = hp(&s)?;
        if !h.commit_reveal {
            return Err(error::COMMIT_REVEAL_OFF.with(format!("subnet {net}")));
        }
        let since = match COMMITS.get(ctx, &(*net, *hotkey))? {
            Some(c) => c.block,
            None => NEURONS.load(ctx, &(*net, uid))?.last_update,
        };
        rate_limit(ctx, &s, *net, uid, since)?;
        let block = ctx.height();
        COMMITS.save(
            ctx,
            &(*net, *hotkey),
            &WeightCommit {
                hash: hash.clone(),
                epoch: subnet::epoch_index(*net, h.tempo, block),
                block,
            },
        )?;
        Ok(MsgCommitWeightsResponse {})
    }
}

pub struct RevealWeights;

impl MsgHandler for RevealWeights {
    type Msg = MsgRevealWeights;
    const AMINO_NAME: &'static str = "stoa/intelligence/MsgRevealWeights";
    type Checked = CheckedWeights;
    type Response = MsgRevealWeightsResponse;

    fn check(&self, m: MsgRevealWeights) -> Result<(Vec<Address>, CheckedWeights), StoaError> {
        let w = check_weights(
            &m.hotkey,
            m.netuid,
            &m.uids,
            &m.values,
            m.version_key,
            m.salt,
        )?;
        Ok((vec![w.hotkey], w))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        w: &CheckedWeights,
    ) -> Result<MsgRevealWeightsResponse, StoaError> {
        let s = load_subnet(ctx, w.netuid)?;
        let uid = uid_of(ctx, w.netuid, &w.hotkey)?;
        let commit = COMMITS
            .get(ctx, &(w.netuid, w.hotkey))?
            .ok_or_else(|| error::NO_COMMIT.with(format!("{} on subnet {}", w.hotkey, w.netuid)))?;
        let now = subnet::epoch_index(w.netuid, hp(&s)?.tempo, ctx.height());
        if now != commit.epoch + 1 {
            return Err(error::REVEAL_WINDOW
                .with(format!("committed in epoch {}, now {now}", commit.epoch)));
        }
        let hash = commit_hash(
            &w.hotkey,
            w.netuid,
            &w.uids,
            &w.values,
            &w.salt,
            w.version_key,
        );
        if hash != commit.hash {
            return Err(error::REVEAL_MISMATCH.with("hash differs"));
        }
        store_weights(ctx, w, &s, uid)?;
        COMMITS.remove(ctx, &(w.netuid, w.hotkey))?;
        Ok(MsgRevealWeightsResponse {})
    }
}

pub struct AddStake<B>(pub B);

impl<B: IntelBank> MsgHandler for AddStake<B> {
    type Msg = MsgAddStake;
    const AMINO_NAME: &'static str = "stoa/intelligence/MsgAddStake";
    type Checked = (Address, Address, u64);
    type Response = MsgAddStakeResponse;

    fn check(&self, m: MsgAddStake) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let coldkey = Address::parse(&m.coldkey)?;
        let hotkey = Address::parse(&m.hotkey)?;
        if m.amount == 0 {
            return Err(error::ZERO_AMOUNT.with("stake"));
        }
        Ok((vec![coldkey], (coldkey, hotkey, m.amount)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (coldkey, hotkey, amount): &Self::Checked,
    ) -> Result<MsgAddStakeResponse, StoaError> {
        let mut d = DELEGATES.get(ctx, hotkey)?.ok_or_else(|| {
            error::NOT_REGISTERED.with(format!("{hotkey} is not a registered hotkey"))
        })?;
        keeper::collect(&self.0, ctx, coldkey, STAKE_ACCOUNT, *amount as u128)?;
        let shares = keeper::add_stake(ctx, &mut d, coldkey, *amount as u128)?;
        Ok(MsgAddStakeResponse {
            shares: shares.to_string(),
        })
    }
}

pub struct RemoveStake<B>(pub B);

impl<B: IntelBank> MsgHandler for RemoveStake<B> {
    type Msg = MsgRemoveStake;
    const AMINO_NAME: &'static str = "stoa/intelligence/MsgRemoveStake";
    type Checked = (Address, Address, u64);
    type Response = MsgRemoveStakeResponse;

    fn check(&self, m: MsgRemoveStake) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let coldkey = Address::parse(&m.coldkey)?;
        let hotkey = Address::parse(&m.hotkey)?;
        if m.amount == 0 {
            return Err(error::ZERO_AMOUNT.with("stake"));
        }
        Ok((vec![coldkey], (coldkey, hotkey, m.amount)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (coldkey, hotkey, amount): &Self::Checked,
    ) -> Result<MsgRemoveStakeResponse, StoaError> {
        let mut d = DELEGATES
            .get(ctx, hotkey)?
            .ok_or_else(|| error::INSUFFICIENT_STAKE.with(format!("no stake on {hotkey}")))?;
        keeper::remove_stake(ctx, &mut d, coldkey, *amount as u128)?;
        keeper::pay(&self.0, ctx, STAKE_ACCOUNT, coldkey, *amount as u128)?;
        Ok(MsgRemoveStakeResponse {})
    }
}

pub struct SetTake;

impl MsgHandler for SetTake {
    type Msg = MsgSetTake;
    const AMINO_NAME: &'static str = "stoa/intelligence/MsgSetTake";
    type Checked = (Address, Address, u32);
    type Response = MsgSetTakeResponse;

    fn check(&self, m: MsgSetTake) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let coldkey = Address::parse(&m.coldkey)?;
        let hotkey = Address::parse(&m.hotkey)?;
        Ok((vec![coldkey], (coldkey, hotkey, m.take_bps)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (coldkey, hotkey, take): &Self::Checked,
    ) -> Result<MsgSetTakeResponse, StoaError> {
        let max = params::load::<IntelligenceParams>(ctx)?.max_take_bps;
        if *take > max {
            return Err(error::TAKE_TOO_HIGH.with(format!("{take} bps, at most {max}")));
        }
        let mut d = DELEGATES
            .get(ctx, hotkey)?
            .ok_or_else(|| error::NOT_REGISTERED.with(format!("{hotkey}")))?;
        if d.owner != coldkey.to_string() {
            return Err(error::NOT_OWNER.with(format!("{hotkey} belongs to {}", d.owner)));
        }
        d.take_bps = *take;
        DELEGATES.save(ctx, hotkey, &d)?;
        Ok(MsgSetTakeResponse {})
    }
}

/// Every stake entry of a coldkey: (hotkey, shares).
pub fn stakes_of(ctx: &mut Ctx<'_>, coldkey: &Address) -> Result<Vec<(Address, u128)>, StoaError> {
    SHARES
        .prefix_iter(ctx, coldkey, Order::Ascending)
        .map(|r| r.map(|((_, hk), s)| (hk, s)))
        .collect()
}
