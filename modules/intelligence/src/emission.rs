//! End block: MIND minted up to the issuance due by the block's time, credited to subnets by
//! their shares, and each subnet's epoch when due: root's sets the subnets' shares by Yuma over
//! the root validators' weights; any other pays its owner's cut and splits the rest by Yuma
//! (incentive to miners, dividends to validators: the take to the hotkey's owner, the rest into
//! its stake pool, which raises every nominator's shares in value).

use crate::issuance::{issuance_due, MAX_ISSUANCE};
use crate::keeper::{self, IntelBank};
use crate::params::IntelligenceParams;
use crate::state::{DELEGATES, ISSUED, NEURONS, SUBNETS, UNDISTRIBUTED, WEIGHTS};
use crate::subnet::{epoch_due, hp};
use crate::yuma::{epoch_with_extra, EpochInput, LiquidAlpha};
use crate::{EMISSION_ACCOUNT, STAKE_ACCOUNT};
use stoa_framework::block_record::genesis_time;
use stoa_framework::fixed::mul_div_floor;
use stoa_framework::{params, Address, Ctx, Event, Order, StoaError};
use stoa_proto::intelligence::v1::{EventEpoch, Neuron, Subnet, WeightEntry};

/// Seconds since genesis (None before the chain recorded its genesis time).
pub fn elapsed(ctx: &mut Ctx<'_>) -> Result<Option<i64>, StoaError> {
    let now = ctx.block_time();
    Ok(genesis_time(ctx)?.map(|(g, _)| now.saturating_sub(g)))
}

pub fn end_block(bank: &impl IntelBank, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
    mint_and_credit(bank, ctx)?;
    let block = ctx.height();
    let subnets: Vec<(u16, Subnet)> = SUBNETS
        .iter(ctx, Order::Ascending)
        .collect::<Result<_, _>>()?;
    for (net, s) in subnets {
        if !epoch_due(net, hp(&s)?.tempo, block) {
            continue;
        }
        if net == 0 {
            root_epoch(ctx, block)?;
        } else {
            subnet_epoch(bank, ctx, net, s, block)?;
        }
    }
    Ok(())
}

/// Mints what is due and not yet minted (never past the cap), and credits it with any dust left
/// from earlier blocks to the subnets by share (equal shares while root has set none).
fn mint_and_credit(bank: &impl IntelBank, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
    let due = elapsed(ctx)?.map(issuance_due).unwrap_or(0);
    let issued = ISSUED.get(ctx)?.unwrap_or(0);
    let mut undistributed = UNDISTRIBUTED.get(ctx)?.unwrap_or(0);
    if due > issued {
        let d = keeper::denom(ctx)?;
        let room = MAX_ISSUANCE.saturating_sub(bank.supply_of(ctx, &d)?);
        let amount = (due - issued).min(room);
        if amount > 0 {
            let c = keeper::coins(ctx, amount)?;
            bank.mint(ctx, EMISSION_ACCOUNT, &c)?;
            ISSUED.save(ctx, &(issued + amount))?;
            undistributed += amount;
        }
    }
    if undistributed == 0 {
        return Ok(());
    }
    let mut subnets: Vec<(u16, Subnet)> = SUBNETS
        .iter(ctx, Order::Ascending)
        .collect::<Result<Vec<_>, _>>()?;
    subnets.retain(|(n, _)| *n != 0);
    if subnets.is_empty() {
        UNDISTRIBUTED.save(ctx, &undistributed)?;
        return Ok(());
    }
    let total: u128 = subnets.iter().map(|(_, s)| s.emission_share as u128).sum();
    let mut credited = 0u128;
    for (net, mut s) in subnets.iter().cloned() {
        let part = if total == 0 {
            undistributed / subnets.len() as u128
        } else {
            Ctx::checked(
                mul_div_floor(undistributed, s.emission_share as u128, total),
                "subnet share",
            )?
        };
        if part == 0 {
            continue;
        }
        s.pending_emission = Ctx::checked(
            u64::try_from(s.pending_emission as u128 + part).ok(),
            "pending emission",
        )?;
        SUBNETS.save(ctx, &net, &s)?;
        credited += part;
    }
    UNDISTRIBUTED.save(ctx, &(undistributed - credited))
}

fn neurons(ctx: &mut Ctx<'_>, net: u16, n: u32) -> Result<Vec<Neuron>, StoaError> {
    let mut out = Vec::with_capacity(n as usize);
    for uid in 0..n {
        out.push(NEURONS.get(ctx, &(net, uid as u16))?.unwrap_or_default());
    }
    Ok(out)
}

fn stake_of(ctx: &mut Ctx<'_>, hotkey: &str) -> Result<u64, StoaError> {
    let hk = Address::parse(hotkey)?;
    Ok(DELEGATES.get(ctx, &hk)?.map(|d| d.total_stake).unwrap_or(0))
}

fn base_input(s: &Subnet, block: u64, n: usize) -> Result<EpochInput, StoaError> {
    let h = hp(s)?;
    Ok(EpochInput {
        n: u16::try_from(n).unwrap_or(u16::MAX),
        block,
        tempo: h.tempo,
        last_mechanism_step_block: s.last_epoch_block,
        activity_cutoff: h.activity_cutoff,
        max_allowed_validators: u16::try_from(h.max_allowed_validators).unwrap_or(u16::MAX),
        kappa: h.kappa as u16,
        bonds_moving_average: h.bonds_moving_average,
        bonds_penalty: h.bonds_penalty as u16,
        yuma3: h.yuma3,
        liquid_alpha: LiquidAlpha {
            enabled: h.liquid_alpha_enabled,
            low: h.alpha_low as u16,
            high: h.alpha_high as u16,
            steepness: h.alpha_steepness as u16,
        },
        emission: 0,
        stake: Vec::with_capacity(n),
        last_update: Vec::with_capacity(n),
        block_at_registration: Vec::with_capacity(n),
        validator_permit: Vec::with_capacity(n),
        weights: Vec::with_capacity(n),
        bonds: Vec::with_capacity(n),
    })
}

fn bonds_of(n: &Neuron) -> Vec<(u16, u16)> {
    n.bonds
        .iter()
        .map(|b| (b.uid as u16, b.value as u16))
        .collect()
}

/// Root: rows are the root validators, columns after them the subnets; the subnets' incentive
/// becomes their emission shares (unchanged while root reaches no consensus).
fn root_epoch(ctx: &mut Ctx<'_>, block: u64) -> Result<(), StoaError> {
    let Some(mut root) = SUBNETS.get(ctx, &0)? else {
        return Ok(());
    };
    let nets: Vec<u16> = SUBNETS
        .iter(ctx, Order::Ascending)
        .map(|r| r.map(|(k, _)| k))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter(|k| *k != 0)
        .collect();
    let rows = neurons(ctx, 0, root.n)?;
    let r = rows.len();
    let col_of = |net: u16| nets.binary_search(&net).ok().map(|k| (r + k) as u16);
    let mut input = base_input(&root, block, r + nets.len())?;
    for nr in &rows {
        input.stake.push(stake_of(ctx, &nr.hotkey)?);
        input.last_update.push(nr.last_update);
        input.block_at_registration.push(nr.block_at_registration);
        input.validator_permit.push(nr.validator_permit);
        let w = WEIGHTS.get(ctx, &(0, nr.uid as u16))?.unwrap_or_default();
        input.weights.push(
            w.iter()
                .filter_map(|(net, v)| Some((col_of(*net)?, *v)))
                .collect(),
        );
        input.bonds.push(
            bonds_of(nr)
                .iter()
                .filter_map(|(net, v)| Some((col_of(*net)?, *v)))
                .collect(),
        );
    }
    for _ in &nets {
        input.stake.push(0);
        input.last_update.push(0);
        input.block_at_registration.push(0);
        input.validator_permit.push(false);
        input.weights.push(vec![]);
        input.bonds.push(vec![]);
    }
    let (out, extra) = epoch_with_extra(&input)?;
    let shares: Vec<u64> = out.incentive[r..].iter().map(|x| *x as u64).collect();
    let total: u64 = shares.iter().sum();
    if let Some(total) = std::num::NonZeroU64::new(total) {
        for (k, net) in nets.iter().enumerate() {
            if let Some(mut s) = SUBNETS.get(ctx, net)? {
                s.emission_share = (shares[k] << 32) / total;
                SUBNETS.save(ctx, net, &s)?;
            }
        }
    }
    for (i, mut nr) in rows.into_iter().enumerate() {
        store_results(&mut nr, &out, &extra, i, 0);
        nr.bonds = out.bonds[i]
            .iter()
            .filter_map(|(c, v)| {
                let k = (*c as usize).checked_sub(r)?;
                Some(WeightEntry {
                    uid: *nets.get(k)? as u32,
                    value: *v as u32,
                })
            })
            .collect();
        NEURONS.save(ctx, &(0, nr.uid as u16), &nr)?;
    }
    root.last_epoch_block = block;
    SUBNETS.save(ctx, &0, &root)
}

fn store_results(
    nr: &mut Neuron,
    out: &crate::yuma::EpochOutput,
    extra: &crate::yuma::EpochExtra,
    i: usize,
    paid: u64,
) {
    nr.consensus = out.consensus[i] as u32;
    nr.incentive = out.incentive[i] as u32;
    nr.rank = out.incentive[i] as u32;
    nr.dividends = out.dividends[i] as u32;
    nr.validator_trust = out.validator_trust[i] as u32;
    nr.validator_permit = out.validator_permit[i];
    nr.active = extra.active[i];
    nr.stake_weight = extra.stake_weight[i] as u32;
    nr.emission = paid;
    nr.bonds = out.bonds[i]
        .iter()
        .map(|(j, v)| WeightEntry {
            uid: *j as u32,
            value: *v as u32,
        })
        .collect();
}

fn subnet_epoch(
    bank: &impl IntelBank,
    ctx: &mut Ctx<'_>,
    net: u16,
    mut s: Subnet,
    block: u64,
) -> Result<(), StoaError> {
    let p = params::load::<IntelligenceParams>(ctx)?;
    let pending = s.pending_emission as u128;
    let owner_cut = pending * p.owner_cut_permille as u128 / 1000;
    let owner = Address::parse(&s.owner)?;
    keeper::pay(bank, ctx, EMISSION_ACCOUNT, &owner, owner_cut)?;
    let rest = pending - owner_cut;

    let rows = neurons(ctx, net, s.n)?;
    let mut input = base_input(&s, block, rows.len())?;
    input.emission = u64::try_from(rest).unwrap_or(u64::MAX);
    for nr in &rows {
        input.stake.push(stake_of(ctx, &nr.hotkey)?);
        input.last_update.push(nr.last_update);
        input.block_at_registration.push(nr.block_at_registration);
        input.validator_permit.push(nr.validator_permit);
        let w = WEIGHTS.get(ctx, &(net, nr.uid as u16))?.unwrap_or_default();
        input
            .weights
            .push(w.into_iter().filter(|(j, _)| (*j as u32) < s.n).collect());
        input.bonds.push(
            bonds_of(nr)
                .into_iter()
                .filter(|(j, _)| (*j as u32) < s.n)
                .collect(),
        );
    }
    let (out, extra) = epoch_with_extra(&input)?;
    let (mut to_miners, mut to_validators) = (0u128, 0u128);
    for (i, mut nr) in rows.into_iter().enumerate() {
        let server = out.server_emission[i] as u128;
        let validator = out.validator_emission[i] as u128;
        if !nr.coldkey.is_empty() {
            let coldkey = Address::parse(&nr.coldkey)?;
            keeper::pay(bank, ctx, EMISSION_ACCOUNT, &coldkey, server)?;
            to_miners += server;
            if validator > 0 {
                pay_dividends(bank, ctx, &nr, &coldkey, validator)?;
                to_validators += validator;
            }
        }
        let paid = u64::try_from(server + validator).unwrap_or(u64::MAX);
        store_results(&mut nr, &out, &extra, i, paid);
        NEURONS.save(ctx, &(net, nr.uid as u16), &nr)?;
    }
    let paid = owner_cut + to_miners + to_validators;
    // Yuma pays at most what it was given (a property test holds it to that); the dust stays
    // pending for the next epoch.
    let left = Ctx::checked(pending.checked_sub(paid), "epoch payouts")?;
    s.pending_emission = u64::try_from(left).unwrap_or(0);
    s.last_epoch_block = block;
    SUBNETS.save(ctx, &net, &s)?;
    ctx.emit(Event::typed(&EventEpoch {
        netuid: net as u32,
        block,
        paid_owner: owner_cut as u64,
        paid_miners: to_miners as u64,
        paid_validators: to_validators as u64,
    })?);
    Ok(())
}

/// A validator's dividends: its take to the hotkey's owner, the rest into the hotkey's stake
/// pool (to the owner as new shares if the pool has none).
fn pay_dividends(
    bank: &impl IntelBank,
    ctx: &mut Ctx<'_>,
    nr: &Neuron,
    coldkey: &Address,
    amount: u128,
) -> Result<(), StoaError> {
    let hk = Address::parse(&nr.hotkey)?;
    let mut d = DELEGATES.get(ctx, &hk)?.unwrap_or_default();
    let take = amount * d.take_bps as u128 / 10_000;
    keeper::pay(bank, ctx, EMISSION_ACCOUNT, coldkey, take)?;
    let rest = amount - take;
    keeper::move_between(bank, ctx, EMISSION_ACCOUNT, STAKE_ACCOUNT, rest)?;
    if keeper::total_shares(&d)? == 0 {
        keeper::add_stake(ctx, &mut d, coldkey, rest)?;
    } else {
        d.total_stake = Ctx::checked(u64::try_from(d.total_stake as u128 + rest).ok(), "stake")?;
        DELEGATES.save(ctx, &hk, &d)?;
    }
    Ok(())
}
