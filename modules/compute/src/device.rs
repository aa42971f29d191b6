//! Devices and their stake: registration with self-stake by the per-device formula, updates,
//! deregistration into unbonding, co-staking by shares (so a slash lowers every staker at
//! once), rewards of the emission pool split between owner and stakers, attestations, and the
//! status and rank bookkeeping shared by heartbeats and leases.

use crate::error;
use crate::events::emit;
use crate::keeper::{amt, between, from_module, to_module, ComputeBank};
use crate::params::{self, ComputeParams};
use crate::state::*;
use crate::{REWARDS, STAKING};
use stoa_framework::fixed::{mul_div_ceil, mul_div_floor};
use stoa_framework::rewards::RewardPool;
use stoa_framework::{sdk, Address, Ctx, MsgHandler, StoaError};
use stoa_proto::compute::v1 as pb;
use stoa_proto::compute::v1::Device;

pub const ONLINE: &str = "online";
pub const OFFLINE: &str = "offline";
pub const RETIRED: &str = "retired";
/// Marked spoofed by an attestor: out of matching and emission until cleared.
pub const JAILED: &str = "jailed";

pub fn load_device(ctx: &mut Ctx<'_>, id: u64) -> Result<Device, StoaError> {
    DEVICES
        .get(ctx, &id)?
        .ok_or_else(|| sdk::NOT_FOUND.with(format!("device {id}")))
}

fn owned(ctx: &mut Ctx<'_>, id: u64, owner: &Address) -> Result<Device, StoaError> {
    let d = load_device(ctx, id)?;
    if d.owner != owner.to_string() {
        return Err(error::NOT_OWNER.with(format!("device {id}")));
    }
    if d.status == RETIRED {
        return Err(error::DEVICE_UNAVAILABLE.with(format!("device {id} is retired")));
    }
    Ok(d)
}

/// The device's share of the emission pool while online: multiplier x GPUs.
pub fn weight(p: &ComputeParams, d: &Device) -> u128 {
    u128::from(p.multiplier_bps(&d.gpu_model)) * u128::from(d.gpu_count)
}

pub fn total_stake(d: &Device) -> Result<u128, StoaError> {
    Ctx::checked(
        amt(&d.self_stake, "self stake")?.checked_add(amt(&d.co_stake, "co stake")?),
        "stake",
    )
}

/// The matching rank: whole COMP staked (capped) x (uptime ratio in bps + 1) x 2 when an
/// attestor vouched for the device. Higher is better; ties go to the lower id.
pub fn rank(d: &Device) -> Result<u64, StoaError> {
    let stake = (total_stake(d)? / 1_000_000).min(1 << 40) as u64;
    let h = d.health.unwrap_or_default();
    let seen = h.uptime_s.saturating_add(h.downtime_s);
    let uptime_bps = if seen == 0 {
        10_000
    } else {
        (u128::from(h.uptime_s) * 10_000 / u128::from(seen)) as u64
    };
    let attested = d.attestations.iter().any(|a| !a.spoofed) as u64 + 1;
    Ok(stake.max(1) * (uptime_bps + 1) * attested)
}

/// Files the device in the matching index when it can be matched (online, not spoofed, free
/// GPUs) under its current rank, and removes a stale entry. Call before saving a changed
/// device.
pub fn refile(ctx: &mut Ctx<'_>, d: &mut Device) -> Result<(), StoaError> {
    let eligible = d.status == ONLINE && !d.spoofed && d.gpus_leased < d.gpu_count;
    let r = rank(d)?;
    let key = eligible.then(|| AVAILABLE.key(&(d.gpu_model.clone(), u64::MAX - r, d.id)));
    let new = key.clone().unwrap_or_default();
    if new != d.rank_key {
        if !d.rank_key.is_empty() {
            ctx.delete(d.rank_key.clone())?;
        }
        if let Some(k) = key {
            ctx.set(k, vec![1])?;
        }
        d.rank_key = new;
    }
    d.rank = r;
    Ok(())
}

/// Pays out the device's emission so far: the stakers' share into their pool, the rest to
/// the owner. Run before anything changes the device's weight or its stakers.
pub fn pull_rewards(
    bank: &impl ComputeBank,
    ctx: &mut Ctx<'_>,
    p: &ComputeParams,
    d: &Device,
) -> Result<(), StoaError> {
    let mut pool = EMISSION_POOL.load_or_default(ctx)?;
    let mut holder = EMISSION_HOLDERS.get(ctx, &d.id)?.unwrap_or_default();
    let r = pool.claim(&mut holder)?;
    EMISSION_POOL.save(ctx, &pool)?;
    EMISSION_HOLDERS.save(ctx, &d.id, &holder)?;
    let owner = Address::parse(&d.owner)?;
    let to_stakers = share_to_stakers(ctx, d, &p.stake_denom, r)?;
    from_module(bank, ctx, REWARDS, &owner, r - to_stakers, &p.stake_denom)
}

/// Adds the stakers' part of `amount` (already in the rewards account) to the device's staker
/// pool; returns it (0 when the device has no co-stakers).
fn share_to_stakers(
    ctx: &mut Ctx<'_>,
    d: &Device,
    denom: &str,
    amount: u128,
) -> Result<u128, StoaError> {
    if amt(&d.co_shares, "co shares")? == 0 || amount == 0 {
        return Ok(0);
    }
    let part = Ctx::checked(
        mul_div_floor(amount, u128::from(d.staker_share_bps), 10_000),
        "staker share",
    )?;
    if part > 0 {
        let key = (d.id, denom.to_string());
        let mut sp = STAKER_POOLS.get(ctx, &key)?.unwrap_or_default();
        sp.add_reward(part)?;
        STAKER_POOLS.save(ctx, &key, &sp)?;
    }
    Ok(part)
}

/// Pays a supplier `amount` of `denom` held in module `from`: the stakers' share into their
/// pool (moved to the rewards account), the rest to the owner.
pub fn pay_supplier(
    bank: &impl ComputeBank,
    ctx: &mut Ctx<'_>,
    from: &str,
    d: &Device,
    denom: &str,
    amount: u128,
) -> Result<(), StoaError> {
    let to_stakers = share_to_stakers(ctx, d, denom, amount)?;
    between(bank, ctx, from, REWARDS, to_stakers, denom)?;
    let owner = Address::parse(&d.owner)?;
    from_module(bank, ctx, from, &owner, amount - to_stakers, denom)
}

/// Marks the device online (joins the emission pool and, if it fits, the matching index).
pub fn set_online(ctx: &mut Ctx<'_>, p: &ComputeParams, d: &mut Device) -> Result<(), StoaError> {
    if d.status == ONLINE {
        return Ok(());
    }
    let mut pool = EMISSION_POOL.load_or_default(ctx)?;
    let mut holder = EMISSION_HOLDERS.get(ctx, &d.id)?.unwrap_or_default();
    pool.add_shares(&mut holder, weight(p, d))?;
    EMISSION_POOL.save(ctx, &pool)?;
    EMISSION_HOLDERS.save(ctx, &d.id, &holder)?;
    d.status = ONLINE.into();
    emit(
        ctx,
        &pb::EventDeviceStatus {
            device_id: d.id,
            status: ONLINE.into(),
        },
    )
}

/// Takes the device out of the emission pool (paying what it earned) and marks it `status`.
pub fn set_not_online(
    bank: &impl ComputeBank,
    ctx: &mut Ctx<'_>,
    p: &ComputeParams,
    d: &mut Device,
    status: &str,
) -> Result<(), StoaError> {
    if d.status == ONLINE {
        pull_rewards(bank, ctx, p, d)?;
        let mut pool = EMISSION_POOL.load_or_default(ctx)?;
        let mut holder = EMISSION_HOLDERS.get(ctx, &d.id)?.unwrap_or_default();
        pool.remove_shares(&mut holder, weight(p, d))?;
        EMISSION_POOL.save(ctx, &pool)?;
        EMISSION_HOLDERS.save(ctx, &d.id, &holder)?;
    }
    d.status = status.into();
    emit(
        ctx,
        &pb::EventDeviceStatus {
            device_id: d.id,
            status: status.into(),
        },
    )
}

/// Slashes `bps` of the device's self- and co-stake (burned); the stakers' shares stay, so
/// each staker loses the same fraction.
pub fn slash(
    bank: &impl ComputeBank,
    ctx: &mut Ctx<'_>,
    p: &ComputeParams,
    d: &mut Device,
) -> Result<(), StoaError> {
    let own = amt(&d.self_stake, "self stake")?;
    let co = amt(&d.co_stake, "co stake")?;
    let bps = u128::from(p.downtime_slash_bps);
    let s_own = Ctx::checked(mul_div_floor(own, bps, 10_000), "slash")?;
    let s_co = Ctx::checked(mul_div_floor(co, bps, 10_000), "slash")?;
    d.self_stake = (own - s_own).to_string();
    d.co_stake = (co - s_co).to_string();
    crate::keeper::burn(bank, ctx, STAKING, s_own + s_co, &p.stake_denom)?;
    emit(
        ctx,
        &pb::EventSlashed {
            device_id: d.id,
            self_slashed: s_own.to_string(),
            co_slashed: s_co.to_string(),
        },
    )
}

fn check_key(k: &[u8], what: &str) -> Result<(), StoaError> {
    if k.len() != 32 {
        return Err(error::BAD_DEVICE.with(format!("{what} must be 32 bytes, got {}", k.len())));
    }
    Ok(())
}

fn check_prices(prices: &[pb::Price]) -> Result<(), StoaError> {
    if prices.is_empty() {
        return Err(error::BAD_DEVICE.with("a device needs at least one price"));
    }
    for (i, pr) in prices.iter().enumerate() {
        stoa_framework::validate_denom(&pr.denom)?;
        // At least one base unit per GPU-second, so every lease streams a positive rate.
        if amt(&pr.amount, "price")? < 3_600 {
            return Err(error::BAD_DEVICE.with(format!(
                "price {} {} per GPU-hour is below 3600 (one unit a second)",
                pr.amount, pr.denom
            )));
        }
        if prices[..i].iter().any(|q| q.denom == pr.denom) {
            return Err(error::BAD_DEVICE.with(format!("two prices in {}", pr.denom)));
        }
    }
    Ok(())
}

/// A worker URL: empty, or http(s):// and at most 256 bytes of printable ASCII.
pub fn check_endpoint(e: &str) -> Result<(), StoaError> {
    let ok = e.is_empty()
        || (e.len() <= 256
            && (e.starts_with("http://") || e.starts_with("https://"))
            && e.bytes().all(|b| b.is_ascii_graphic()));
    if ok {
        Ok(())
    } else {
        Err(error::BAD_DEVICE
            .with("endpoint must be an http:// or https:// URL of at most 256 bytes"))
    }
}

fn check_prices_accepted(p: &ComputeParams, prices: &[pb::Price]) -> Result<(), StoaError> {
    match prices.iter().find(|pr| !p.accepts(&pr.denom)) {
        Some(pr) => Err(error::BAD_DENOM.with(format!("prices in {} are not accepted", pr.denom))),
        None => Ok(()),
    }
}

pub struct RegisterDevice<B>(pub B);

impl<B: ComputeBank> MsgHandler for RegisterDevice<B> {
    type Msg = pb::MsgRegisterDevice;
    const AMINO_NAME: &'static str = "stoa/compute/MsgRegisterDevice";
    type Checked = (Address, pb::MsgRegisterDevice, u128);
    type Response = pb::MsgRegisterDeviceResponse;

    fn check(&self, m: Self::Msg) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let owner = Address::parse(&m.owner)?;
        check_key(&m.worker_key, "worker_key")?;
        check_key(&m.enc_key, "enc_key")?;
        if m.gpu_model.is_empty() || m.gpu_model.len() > 64 || m.region.len() > 64 {
            return Err(error::BAD_DEVICE.with("gpu_model must be 1-64 bytes, region at most 64"));
        }
        if m.gpu_count == 0 || m.gpu_count > 1_024 {
            return Err(error::BAD_DEVICE.with("gpu_count must be 1-1024"));
        }
        check_prices(&m.prices)?;
        check_endpoint(&m.endpoint)?;
        let stake = amt(&m.self_stake, "self_stake")?;
        Ok((vec![owner], (owner, m, stake)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (owner, m, stake): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let p = params::load(ctx)?;
        check_prices_accepted(&p, &m.prices)?;
        let need = p.required_stake(&m.gpu_model, m.gpu_count)?;
        if *stake < need {
            return Err(error::STAKE_TOO_LOW.with(format!(
                "{stake} {} staked, the formula asks {need} for {} x {}",
                p.stake_denom, m.gpu_count, m.gpu_model
            )));
        }
        if m.staker_share_bps > p.max_staker_share_bps {
            return Err(error::BAD_DEVICE.with(format!(
                "staker_share_bps at most {}",
                p.max_staker_share_bps
            )));
        }
        to_module(&self.0, ctx, owner, STAKING, *stake, &p.stake_denom)?;
        let id = NEXT_DEVICE.get(ctx)?.unwrap_or(0);
        NEXT_DEVICE.save(ctx, &Ctx::checked(id.checked_add(1), "device ids")?)?;
        let d = Device {
            id,
            owner: owner.to_string(),
            worker_key: m.worker_key.clone(),
            enc_key: m.enc_key.clone(),
            gpu_model: m.gpu_model.clone(),
            gpu_count: m.gpu_count,
            vram_gib: m.vram_gib,
            cpu_cores: m.cpu_cores,
            ram_gib: m.ram_gib,
            bandwidth_mbps: m.bandwidth_mbps,
            region: m.region.clone(),
            prices: m.prices.clone(),
            self_stake: stake.to_string(),
            co_stake: "0".into(),
            co_shares: "0".into(),
            status: OFFLINE.into(),
            health: Some(Default::default()),
            staker_share_bps: m.staker_share_bps,
            registered_at: ctx.block_time(),
            key_changed_height: ctx.height(),
            endpoint: m.endpoint.clone(),
            ..Default::default()
        };
        DEVICES.save(ctx, &id, &d)?;
        emit(
            ctx,
            &pb::EventDeviceRegistered {
                device_id: id,
                owner: d.owner.clone(),
                self_stake: d.self_stake.clone(),
            },
        )?;
        Ok(pb::MsgRegisterDeviceResponse { device_id: id })
    }
}

pub struct UpdateDevice<B>(pub B);

impl<B: ComputeBank> MsgHandler for UpdateDevice<B> {
    type Msg = pb::MsgUpdateDevice;
    const AMINO_NAME: &'static str = "stoa/compute/MsgUpdateDevice";
    type Checked = (Address, pb::MsgUpdateDevice, u128);
    type Response = pb::MsgUpdateDeviceResponse;

    fn check(&self, m: Self::Msg) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let owner = Address::parse(&m.owner)?;
        if !m.worker_key.is_empty() {
            check_key(&m.worker_key, "worker_key")?;
        }
        if !m.enc_key.is_empty() {
            check_key(&m.enc_key, "enc_key")?;
        }
        if !m.prices.is_empty() {
            check_prices(&m.prices)?;
        }
        check_endpoint(&m.endpoint)?;
        let add = amt(&m.add_self_stake, "add_self_stake")?;
        Ok((vec![owner], (owner, m, add)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (owner, m, add): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let p = params::load(ctx)?;
        let mut d = owned(ctx, m.device_id, owner)?;
        if !m.worker_key.is_empty() && m.worker_key != d.worker_key {
            d.worker_key = m.worker_key.clone();
            d.key_changed_height = ctx.height();
        }
        if !m.enc_key.is_empty() {
            d.enc_key = m.enc_key.clone();
        }
        if !m.prices.is_empty() {
            check_prices_accepted(&p, &m.prices)?;
            d.prices = m.prices.clone();
        }
        if !m.region.is_empty() {
            d.region = m.region.clone();
        }
        if !m.endpoint.is_empty() {
            d.endpoint = m.endpoint.clone();
        }
        if m.staker_share_bps > 0 {
            if m.staker_share_bps > p.max_staker_share_bps {
                return Err(error::BAD_DEVICE.with("staker_share_bps above the bound"));
            }
            pull_rewards(&self.0, ctx, &p, &d)?;
            d.staker_share_bps = m.staker_share_bps;
        }
        if *add > 0 {
            to_module(&self.0, ctx, owner, STAKING, *add, &p.stake_denom)?;
            let s = amt(&d.self_stake, "self stake")?;
            d.self_stake = Ctx::checked(s.checked_add(*add), "self stake")?.to_string();
        }
        refile(ctx, &mut d)?;
        DEVICES.save(ctx, &d.id, &d)?;
        Ok(pb::MsgUpdateDeviceResponse {})
    }
}

/// Starts an unbonding entry of `amount` for `staker`, paid out at `release_at`.
fn unbond(
    ctx: &mut Ctx<'_>,
    device: u64,
    staker: &Address,
    amount: u128,
    release_at: i64,
) -> Result<(), StoaError> {
    if amount == 0 {
        return Ok(());
    }
    let id = NEXT_UNBONDING.get(ctx)?.unwrap_or(0);
    NEXT_UNBONDING.save(ctx, &Ctx::checked(id.checked_add(1), "unbonding ids")?)?;
    UNBONDINGS.save(
        ctx,
        &id,
        &pb::Unbonding {
            id,
            device_id: device,
            staker: staker.to_string(),
            amount: amount.to_string(),
            release_at,
        },
    )?;
    UNBOND_QUEUE.push(ctx, release_at, &id.to_be_bytes())
}

/// End block: pays out unbonding entries whose time has come.
pub fn release_unbonded(bank: &impl ComputeBank, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
    let p = params::load(ctx)?;
    let now = ctx.block_time();
    for raw in UNBOND_QUEUE.pop_due(ctx, now)? {
        let id = crate::id_of(&raw)?;
        if let Some(u) = UNBONDINGS.get(ctx, &id)? {
            UNBONDINGS.remove(ctx, &id)?;
            let to = Address::parse(&u.staker)?;
            from_module(
                bank,
                ctx,
                STAKING,
                &to,
                amt(&u.amount, "unbonding")?,
                &p.stake_denom,
            )?;
        }
    }
    Ok(())
}

pub struct DeregisterDevice<B>(pub B);

impl<B: ComputeBank> MsgHandler for DeregisterDevice<B> {
    type Msg = pb::MsgDeregisterDevice;
    const AMINO_NAME: &'static str = "stoa/compute/MsgDeregisterDevice";
    type Checked = (Address, u64);
    type Response = pb::MsgDeregisterDeviceResponse;

    fn check(&self, m: Self::Msg) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let owner = Address::parse(&m.owner)?;
        Ok((vec![owner], (owner, m.device_id)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (owner, id): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let p = params::load(ctx)?;
        let mut d = owned(ctx, *id, owner)?;
        if d.gpus_leased > 0 {
            return Err(error::ACTIVE_LEASE.with(format!("device {id}")));
        }
        set_not_online(&self.0, ctx, &p, &mut d, RETIRED)?;
        let release_at = Ctx::checked(
            ctx.block_time().checked_add(p.unbonding_seconds),
            "release time",
        )?;
        unbond(
            ctx,
            *id,
            owner,
            amt(&d.self_stake, "self stake")?,
            release_at,
        )?;
        d.self_stake = "0".into();
        refile(ctx, &mut d)?;
        let last = d.health.as_ref().map_or(0, |h| h.last_heartbeat);
        OFFLINE_AT.remove(ctx, last.saturating_add(p.offline_after), &id.to_be_bytes())?;
        DEVICES.save(ctx, id, &d)?;
        Ok(pb::MsgDeregisterDeviceResponse { release_at })
    }
}

/// Settles a staker's rewards in every denom and pays them.
fn claim_staker(
    bank: &impl ComputeBank,
    ctx: &mut Ctx<'_>,
    p: &ComputeParams,
    device: u64,
    staker: &Address,
) -> Result<(), StoaError> {
    for denom in [p.stake_denom.clone(), p.stable_denom.clone()] {
        let pk = (device, denom.clone());
        let hk = (device, *staker, denom.clone());
        let Some(mut h) = STAKER_HOLDERS.get(ctx, &hk)? else {
            continue;
        };
        let mut pool = STAKER_POOLS.get(ctx, &pk)?.unwrap_or_default();
        let paid = pool.claim(&mut h)?;
        STAKER_POOLS.save(ctx, &pk, &pool)?;
        STAKER_HOLDERS.save(ctx, &hk, &h)?;
        from_module(bank, ctx, REWARDS, staker, paid, &denom)?;
    }
    Ok(())
}

/// Moves a staker's shares in every denom's pool by `delta` (added or removed).
fn move_shares(
    ctx: &mut Ctx<'_>,
    p: &ComputeParams,
    device: u64,
    staker: &Address,
    n: u128,
    add: bool,
) -> Result<(), StoaError> {
    for denom in [p.stake_denom.clone(), p.stable_denom.clone()] {
        let pk = (device, denom.clone());
        let hk = (device, *staker, denom);
        let mut pool: RewardPool = STAKER_POOLS.get(ctx, &pk)?.unwrap_or_default();
        let mut h = STAKER_HOLDERS.get(ctx, &hk)?.unwrap_or_default();
        if add {
            pool.add_shares(&mut h, n)?;
        } else {
            pool.remove_shares(&mut h, n)?;
        }
        STAKER_POOLS.save(ctx, &pk, &pool)?;
        STAKER_HOLDERS.save(ctx, &hk, &h)?;
    }
    Ok(())
}

pub struct StakeMsg<B>(pub B);

impl<B: ComputeBank> MsgHandler for StakeMsg<B> {
    type Msg = pb::MsgStake;
    const AMINO_NAME: &'static str = "stoa/compute/MsgStake";
    type Checked = (Address, u64, u128);
    type Response = pb::MsgStakeResponse;

    fn check(&self, m: Self::Msg) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let staker = Address::parse(&m.staker)?;
        let amount = amt(&m.amount, "amount")?;
        if amount == 0 {
            return Err(error::BAD_AMOUNT.with("stake a positive amount"));
        }
        Ok((vec![staker], (staker, m.device_id, amount)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (staker, id, amount): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let p = params::load(ctx)?;
        let mut d = load_device(ctx, *id)?;
        if d.status == RETIRED {
            return Err(error::DEVICE_UNAVAILABLE.with(format!("device {id} is retired")));
        }
        pull_rewards(&self.0, ctx, &p, &d)?;
        to_module(&self.0, ctx, staker, STAKING, *amount, &p.stake_denom)?;
        let co = amt(&d.co_stake, "co stake")?;
        let shares = amt(&d.co_shares, "co shares")?;
        let new_shares = if shares == 0 || co == 0 {
            *amount
        } else {
            Ctx::checked(mul_div_floor(*amount, shares, co), "shares")?
        };
        if new_shares == 0 {
            return Err(error::BAD_AMOUNT.with("stake too small for one share"));
        }
        claim_staker(&self.0, ctx, &p, *id, staker)?;
        move_shares(ctx, &p, *id, staker, new_shares, true)?;
        let key = (*id, *staker);
        let mut s = STAKES.get(ctx, &key)?.unwrap_or(pb::Stake {
            device_id: *id,
            staker: staker.to_string(),
            shares: "0".into(),
        });
        let mine = amt(&s.shares, "shares")?;
        s.shares = Ctx::checked(mine.checked_add(new_shares), "shares")?.to_string();
        STAKES.save(ctx, &key, &s)?;
        d.co_stake = Ctx::checked(co.checked_add(*amount), "co stake")?.to_string();
        d.co_shares = Ctx::checked(shares.checked_add(new_shares), "co shares")?.to_string();
        refile(ctx, &mut d)?;
        DEVICES.save(ctx, id, &d)?;
        Ok(pb::MsgStakeResponse {})
    }
}

pub struct Unstake<B>(pub B);

impl<B: ComputeBank> MsgHandler for Unstake<B> {
    type Msg = pb::MsgUnstake;
    const AMINO_NAME: &'static str = "stoa/compute/MsgUnstake";
    type Checked = (Address, u64, u128);
    type Response = pb::MsgUnstakeResponse;

    fn check(&self, m: Self::Msg) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let staker = Address::parse(&m.staker)?;
        let amount = amt(&m.amount, "amount")?;
        if amount == 0 {
            return Err(error::BAD_AMOUNT.with("unstake a positive amount"));
        }
        Ok((vec![staker], (staker, m.device_id, amount)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (staker, id, amount): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let p = params::load(ctx)?;
        let mut d = load_device(ctx, *id)?;
        let key = (*id, *staker);
        let mut s = STAKES
            .get(ctx, &key)?
            .ok_or_else(|| sdk::NOT_FOUND.with(format!("no stake of {staker} on {id}")))?;
        let co = amt(&d.co_stake, "co stake")?;
        let shares = amt(&d.co_shares, "co shares")?;
        let mine = amt(&s.shares, "shares")?;
        let have = Ctx::checked(mul_div_floor(mine, co, shares.max(1)), "stake")?;
        // During a lease the slashable part of the stake is locked.
        let locked = if d.gpus_leased > 0 {
            Ctx::checked(
                mul_div_ceil(have, u128::from(p.downtime_slash_bps), 10_000),
                "locked",
            )?
        } else {
            0
        };
        let free = have - locked;
        if *amount > free {
            return Err(error::UNSTAKE_LOCKED.with(format!(
                "{amount} asked, {free} of {have} is free (device {id} is leased)"
            )));
        }
        let burn_shares =
            Ctx::checked(mul_div_ceil(*amount, shares, co.max(1)), "shares")?.min(mine);
        pull_rewards(&self.0, ctx, &p, &d)?;
        claim_staker(&self.0, ctx, &p, *id, staker)?;
        move_shares(ctx, &p, *id, staker, burn_shares, false)?;
        let left = mine - burn_shares;
        if left == 0 {
            STAKES.remove(ctx, &key)?;
        } else {
            s.shares = left.to_string();
            STAKES.save(ctx, &key, &s)?;
        }
        d.co_stake = (co - amount).to_string();
        d.co_shares = (shares - burn_shares).to_string();
        let release_at = Ctx::checked(
            ctx.block_time().checked_add(p.unbonding_seconds),
            "release time",
        )?;
        unbond(ctx, *id, staker, *amount, release_at)?;
        refile(ctx, &mut d)?;
        DEVICES.save(ctx, id, &d)?;
        Ok(pb::MsgUnstakeResponse { release_at })
    }
}

pub struct ClaimRewards<B>(pub B);

impl<B: ComputeBank> MsgHandler for ClaimRewards<B> {
    type Msg = pb::MsgClaimRewards;
    const AMINO_NAME: &'static str = "stoa/compute/MsgClaimRewards";
    type Checked = (Address, u64);
    type Response = pb::MsgClaimRewardsResponse;

    fn check(&self, m: Self::Msg) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let staker = Address::parse(&m.staker)?;
        Ok((vec![staker], (staker, m.device_id)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (staker, id): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let p = params::load(ctx)?;
        let d = load_device(ctx, *id)?;
        pull_rewards(&self.0, ctx, &p, &d)?;
        claim_staker(&self.0, ctx, &p, *id, staker)?;
        Ok(pb::MsgClaimRewardsResponse {})
    }
}

pub struct Attest<B>(pub B);

impl<B: ComputeBank> MsgHandler for Attest<B> {
    type Msg = pb::MsgAttest;
    const AMINO_NAME: &'static str = "stoa/compute/MsgAttest";
    type Checked = (Address, pb::MsgAttest);
    type Response = pb::MsgAttestResponse;

    fn check(&self, m: Self::Msg) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let a = Address::parse(&m.attestor)?;
        Ok((vec![a], (a, m)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (a, m): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let p = params::load(ctx)?;
        if !p.attestors.iter().any(|x| *x == a.to_string()) {
            return Err(error::NOT_ATTESTOR.with(a.to_string()));
        }
        let mut d = load_device(ctx, m.device_id)?;
        if d.status == RETIRED {
            return Err(error::DEVICE_UNAVAILABLE.with(format!("device {} is retired", d.id)));
        }
        d.attestations.retain(|x| x.attestor != a.to_string());
        d.attestations.push(pb::Attestation {
            attestor: a.to_string(),
            spoofed: m.spoofed,
            time: ctx.block_time(),
            report_hash: m.report_hash.clone(),
        });
        d.spoofed = d.attestations.iter().any(|x| x.spoofed);
        // A spoofed device leaves matching and the emission pool (its leases run on: the
        // renter may close them); cleared, it comes back online with its next heartbeat.
        if d.spoofed && d.status != JAILED {
            set_not_online(&self.0, ctx, &p, &mut d, JAILED)?;
        } else if !d.spoofed && d.status == JAILED {
            d.status = OFFLINE.into();
        }
        refile(ctx, &mut d)?;
        DEVICES.save(ctx, &d.id, &d)?;
        Ok(pb::MsgAttestResponse {})
    }
}

#[cfg(test)]
mod endpoint_tests {
    use super::check_endpoint;

    #[test]
    fn an_endpoint_is_empty_or_a_short_http_url() {
        for ok in ["", "http://10.0.0.2:8700", "https://gpu.example.org/stoa"] {
            assert!(check_endpoint(ok).is_ok(), "{ok}");
        }
        let long = format!("http://{}", "a".repeat(250));
        for bad in [
            "ftp://x",
            "10.0.0.2:8700",
            "http://a b",
            "http://\n",
            long.as_str(),
        ] {
            assert!(check_endpoint(bad).is_err(), "{bad}");
        }
    }
}
