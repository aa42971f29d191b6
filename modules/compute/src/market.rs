//! Orders, matching and leases: `MsgCreateOrder` escrows the cost at the renter's highest
//! price; end block matches open orders, oldest first, to the best-ranked online devices of
//! the asked GPU model that fit (from the rank index, never a scan of all devices), across
//! several devices when one is not enough; `MsgBookDevice` books a named device. A lease
//! holds one payment stream per device, settled lazily (`MsgSettleLease`, at close), closed
//! when its escrow runs dry. Fees: the renter pays the booking fee on top of the cost, the
//! supplier is charged it on each payout; ucomp fees are burned, stable-token fees go to the
//! buyback pool, sold in a descending-price auction for ucomp that is burned. Also the job
//! records and the hourly emission.

use crate::device::{load_device, pay_supplier, refile, ONLINE};
use crate::emission::emitted_by;
use crate::error;
use crate::events::emit;
use crate::keeper::{amt, between, burn, from_module, to_module, ComputeBank};
use crate::params::{self, ComputeParams};
use crate::state::*;
use crate::{BUYBACK_ACCOUNT, ESCROW, MODULE_NAME, REWARDS};
use prost::Message;
use std::ops::Bound;
use stoa_framework::fixed::{mul_div_floor, Dec};
use stoa_framework::schedule::{due, Every};
use stoa_framework::stream::Stream;
use stoa_framework::{sdk, Address, Ctx, MsgHandler, Order, StoaError};
use stoa_proto::compute::v1 as pb;

/// `amount x bps / 10,000`, rounded down.
fn bps_of(amount: u128, bps: u32) -> Result<u128, StoaError> {
    Ctx::checked(mul_div_floor(amount, u128::from(bps), 10_000), "fee")
}

fn price_in(d: &pb::Device, denom: &str) -> Option<u128> {
    d.prices
        .iter()
        .find(|p| p.denom == denom)
        .and_then(|p| p.amount.parse().ok())
}

/// Per-second rate of `gpus` at `price` per GPU-hour, rounded down.
fn rate(price: u128, gpus: u32) -> Result<u128, StoaError> {
    Ctx::checked(mul_div_floor(price, u128::from(gpus), 3_600), "rate")
}

/// The cost at `max_price` plus the renter's fee: what an order escrows.
fn order_deposit(p: &ComputeParams, m: &pb::MsgCreateOrder, max: u128) -> Result<u128, StoaError> {
    let cost = Ctx::checked(
        rate(max, m.gpu_count)?.checked_mul(u128::from(m.duration_s)),
        "order cost",
    )?;
    Ctx::checked(
        cost.checked_add(bps_of(cost, p.fee_bps(&m.denom))?),
        "deposit",
    )
}

fn next_id(
    ctx: &mut Ctx<'_>,
    item: &stoa_framework::typed::Item<u64, stoa_framework::typed::BigEndian<u64>>,
) -> Result<u64, StoaError> {
    let id = item.get(ctx)?.unwrap_or(0);
    item.save(ctx, &Ctx::checked(id.checked_add(1), "ids")?)?;
    Ok(id)
}

/// A fee in `denom` held by module `from`: burned when it is the stake token, else moved to
/// the buyback pool (whose round starts when it was empty).
fn take_fee(
    bank: &impl ComputeBank,
    ctx: &mut Ctx<'_>,
    p: &ComputeParams,
    from: &str,
    denom: &str,
    fee: u128,
) -> Result<(), StoaError> {
    if fee == 0 {
        return Ok(());
    }
    if denom == p.stake_denom {
        return burn(bank, ctx, from, fee, denom);
    }
    between(bank, ctx, from, BUYBACK_ACCOUNT, fee, denom)?;
    let mut b = BUYBACK.load_or_default(ctx)?;
    let pool = amt(&b.pool, "buyback pool")?;
    if pool == 0 {
        b.round_start = ctx.block_time();
        b.start_price = p.buyback_start_price.to_string();
    }
    b.pool = Ctx::checked(pool.checked_add(fee), "buyback pool")?.to_string();
    BUYBACK.save(ctx, &b)
}

fn check_order_shape(gpu_count: u32, duration_s: u64, max_price: &str) -> Result<u128, StoaError> {
    if gpu_count == 0 || gpu_count > 4_096 {
        return Err(error::BAD_ORDER.with("gpu_count must be 1-4096"));
    }
    if duration_s == 0 {
        return Err(error::BAD_ORDER.with("duration_s must be positive"));
    }
    let max = amt(max_price, "max_price")?;
    if max < 3_600 {
        return Err(error::PRICE_TOO_LOW.with(format!(
            "max_price {max} per GPU-hour is below any device's (at least 3600)"
        )));
    }
    Ok(max)
}

pub struct CreateOrder<B>(pub B);

impl<B: ComputeBank> MsgHandler for CreateOrder<B> {
    type Msg = pb::MsgCreateOrder;
    const AMINO_NAME: &'static str = "stoa/compute/MsgCreateOrder";
    type Checked = (Address, pb::MsgCreateOrder, u128);
    type Response = pb::MsgCreateOrderResponse;

    fn check(&self, m: Self::Msg) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let renter = Address::parse(&m.renter)?;
        if m.gpu_model.is_empty() {
            return Err(error::BAD_ORDER.with("gpu_model must be given"));
        }
        let max = check_order_shape(m.gpu_count, m.duration_s, &m.max_price)?;
        Ok((vec![renter], (renter, m, max)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (renter, m, max): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let p = params::load(ctx)?;
        if !p.accepts(&m.denom) {
            return Err(error::BAD_DENOM.with(m.denom.clone()));
        }
        if m.duration_s > p.max_lease_seconds {
            return Err(error::BAD_ORDER.with(format!("at most {} s", p.max_lease_seconds)));
        }
        let deposit = order_deposit(&p, m, *max)?;
        to_module(&self.0, ctx, renter, ESCROW, deposit, &m.denom)?;
        let id = next_id(ctx, &NEXT_ORDER)?;
        ORDERS.save(
            ctx,
            &id,
            &pb::Order {
                id,
                renter: renter.to_string(),
                gpu_model: m.gpu_model.clone(),
                region: m.region.clone(),
                gpu_count: m.gpu_count,
                duration_s: m.duration_s,
                max_price: max.to_string(),
                denom: m.denom.clone(),
                deposit: deposit.to_string(),
                state: "open".into(),
                created_at: ctx.block_time(),
                lease_id: 0,
            },
        )?;
        OPEN_ORDERS.save(ctx, &id, &vec![1])?;
        Ok(pb::MsgCreateOrderResponse { order_id: id })
    }
}

pub struct CancelOrder<B>(pub B);

impl<B: ComputeBank> MsgHandler for CancelOrder<B> {
    type Msg = pb::MsgCancelOrder;
    const AMINO_NAME: &'static str = "stoa/compute/MsgCancelOrder";
    type Checked = (Address, u64);
    type Response = pb::MsgCancelOrderResponse;

    fn check(&self, m: Self::Msg) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let renter = Address::parse(&m.renter)?;
        Ok((vec![renter], (renter, m.order_id)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (renter, id): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let o = ORDERS
            .get(ctx, id)?
            .ok_or_else(|| sdk::NOT_FOUND.with(format!("order {id}")))?;
        if o.renter != renter.to_string() {
            return Err(error::NOT_RENTER.with(format!("order {id}")));
        }
        if o.state != "open" {
            return Err(error::BAD_ORDER.with(format!("order {id} is {}", o.state)));
        }
        end_order(&self.0, ctx, o, "cancelled")?;
        Ok(pb::MsgCancelOrderResponse {})
    }
}

/// Refunds an open order's deposit and marks it `state`.
fn end_order(
    bank: &impl ComputeBank,
    ctx: &mut Ctx<'_>,
    mut o: pb::Order,
    state: &str,
) -> Result<(), StoaError> {
    let renter = Address::parse(&o.renter)?;
    from_module(
        bank,
        ctx,
        ESCROW,
        &renter,
        amt(&o.deposit, "deposit")?,
        &o.denom,
    )?;
    OPEN_ORDERS.remove(ctx, &o.id)?;
    o.deposit = "0".into();
    o.state = state.into();
    ORDERS.save(ctx, &o.id, &o)
}

/// Whether a device can take `gpus` of an order now (status, spoofing, region, price).
fn fits(d: &pb::Device, region: &str, denom: &str, max: u128) -> Option<u128> {
    if d.status != ONLINE || d.spoofed || d.gpus_leased >= d.gpu_count {
        return None;
    }
    if !region.is_empty() && d.region != region {
        return None;
    }
    price_in(d, denom).filter(|pr| *pr <= max)
}

/// Opens a lease of `picks` (device, GPUs, price) for `duration` seconds, whose escrow is
/// already in the escrow account (`funded`, the rest refunded) or paid by the renter now.
#[allow(clippy::too_many_arguments)]
fn open_lease(
    bank: &impl ComputeBank,
    ctx: &mut Ctx<'_>,
    p: &ComputeParams,
    renter: &Address,
    order_id: u64,
    denom: &str,
    duration: u64,
    picks: &[(pb::Device, u32, u128)],
    funded: Option<u128>,
) -> Result<u64, StoaError> {
    let now = ctx.block_time();
    let id = next_id(ctx, &NEXT_LEASE)?;
    let mut parts = Vec::new();
    let mut cost = 0u128;
    for (d, gpus, price) in picks {
        let r = rate(*price, *gpus)?;
        let escrow = Ctx::checked(r.checked_mul(u128::from(duration)), "escrow")?;
        let mut s = Stream::new(r, now, None)?;
        s.deposit(escrow)?;
        cost = Ctx::checked(cost.checked_add(escrow), "cost")?;
        parts.push(pb::LeasePart {
            device_id: d.id,
            gpu_count: *gpus,
            price_per_gpu_hour: price.to_string(),
            rate_per_s: r.to_string(),
            stream: s.encode_to_vec(),
            paid: "0".into(),
            refunded: "0".into(),
        });
    }
    let fee = bps_of(cost, p.fee_bps(denom))?;
    let total = Ctx::checked(cost.checked_add(fee), "total")?;
    match funded {
        Some(deposit) => {
            let back = deposit
                .checked_sub(total)
                .ok_or_else(|| sdk::LOGIC.with("order deposit below the lease cost"))?;
            from_module(bank, ctx, ESCROW, renter, back, denom)?;
        }
        None => to_module(bank, ctx, renter, ESCROW, total, denom)?,
    }
    take_fee(bank, ctx, p, ESCROW, denom, fee)?;
    let ends_at = Ctx::checked(now.checked_add(duration as i64), "lease end")?;
    for (d, gpus, _) in picks {
        let mut d = load_device(ctx, d.id)?;
        d.gpus_leased += gpus;
        refile(ctx, &mut d)?;
        DEVICES.save(ctx, &d.id, &d)?;
        DEVICE_LEASES.save(ctx, &(d.id, id), &vec![1])?;
    }
    // Each stream runs dry exactly at the end: one second after it, the lease closes.
    LEASE_END.push(ctx, ends_at + 1, &id.to_be_bytes())?;
    let lease = pb::Lease {
        id,
        order_id,
        renter: renter.to_string(),
        denom: denom.into(),
        parts,
        state: "active".into(),
        created_at: now,
        ends_at,
        closed_at: 0,
        close_reason: String::new(),
        renter_fee: fee.to_string(),
    };
    LEASES.save(ctx, &id, &lease)?;
    emit(
        ctx,
        &pb::EventLeaseOpened {
            lease_id: id,
            order_id,
            renter: renter.to_string(),
            devices: picks.iter().map(|(d, _, _)| d.id).collect(),
            escrow: cost.to_string(),
        },
    )?;
    Ok(id)
}

pub struct BookDevice<B>(pub B);

impl<B: ComputeBank> MsgHandler for BookDevice<B> {
    type Msg = pb::MsgBookDevice;
    const AMINO_NAME: &'static str = "stoa/compute/MsgBookDevice";
    type Checked = (Address, pb::MsgBookDevice, u128);
    type Response = pb::MsgBookDeviceResponse;

    fn check(&self, m: Self::Msg) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let renter = Address::parse(&m.renter)?;
        let max = check_order_shape(m.gpu_count, m.duration_s, &m.max_price)?;
        Ok((vec![renter], (renter, m, max)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (renter, m, max): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let p = params::load(ctx)?;
        if !p.accepts(&m.denom) {
            return Err(error::BAD_DENOM.with(m.denom.clone()));
        }
        if m.duration_s > p.max_lease_seconds {
            return Err(error::BAD_ORDER.with(format!("at most {} s", p.max_lease_seconds)));
        }
        let d = load_device(ctx, m.device_id)?;
        if d.status != ONLINE || d.spoofed || d.gpus_leased + m.gpu_count > d.gpu_count {
            return Err(error::DEVICE_UNAVAILABLE.with(format!(
                "device {} is {}{}, {} of {} GPUs free",
                d.id,
                d.status,
                if d.spoofed { " and spoofed" } else { "" },
                d.gpu_count - d.gpus_leased.min(d.gpu_count),
                d.gpu_count
            )));
        }
        let price = price_in(&d, &m.denom)
            .ok_or_else(|| error::BAD_DENOM.with(format!("device {} asks no {}", d.id, m.denom)))?;
        if price > *max {
            return Err(error::PRICE_TOO_LOW.with(format!(
                "max_price {max} below the device's {price} per GPU-hour"
            )));
        }
        let picks = vec![(d, m.gpu_count, price)];
        let id = open_lease(
            &self.0,
            ctx,
            &p,
            renter,
            0,
            &m.denom,
            m.duration_s,
            &picks,
            None,
        )?;
        Ok(pb::MsgBookDeviceResponse { lease_id: id })
    }
}

/// End block: tries the open orders, oldest first (at most `max_orders_per_block`), expires
/// old ones. An order takes the best-ranked fitting devices of its GPU model, read from the
/// rank index (at most `max_match_scan` entries), until its GPUs are covered.
pub fn match_orders(bank: &impl ComputeBank, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
    let p = params::load(ctx)?;
    let now = ctx.block_time();
    // Round robin: start after the last order tried, wrap around once, so orders that
    // cannot be matched do not starve the ones behind them.
    let max = p.max_orders_per_block as usize;
    let cursor = MATCH_CURSOR.get(ctx)?.unwrap_or(0);
    let mut open: Vec<u64> = OPEN_ORDERS
        .range(
            ctx,
            Bound::Excluded(&cursor),
            Bound::Unbounded,
            Order::Ascending,
        )
        .take(max)
        .map(|r| r.map(|(k, _)| k))
        .collect::<Result<_, _>>()?;
    if open.len() < max {
        let wrapped: Vec<u64> = OPEN_ORDERS
            .range(
                ctx,
                Bound::Unbounded,
                Bound::Included(&cursor),
                Order::Ascending,
            )
            .take(max - open.len())
            .map(|r| r.map(|(k, _)| k))
            .collect::<Result<_, _>>()?;
        open.extend(wrapped);
    }
    if let Some(last) = open.last() {
        MATCH_CURSOR.save(ctx, last)?;
    }
    for id in open {
        let o = ORDERS.load(ctx, &id)?;
        if now.saturating_sub(o.created_at) > p.order_ttl_seconds {
            end_order(bank, ctx, o, "expired")?;
            continue;
        }
        let max = amt(&o.max_price, "max_price")?;
        let lo = (o.gpu_model.clone(), 0u64, 0u64);
        let hi = (o.gpu_model.clone(), u64::MAX, u64::MAX);
        let candidates: Vec<u64> = AVAILABLE
            .range(
                ctx,
                Bound::Included(&lo),
                Bound::Included(&hi),
                Order::Ascending,
            )
            .take(p.max_match_scan as usize)
            .map(|r| r.map(|((_, _, dev), _)| dev))
            .collect::<Result<_, _>>()?;
        let mut need = o.gpu_count;
        let mut picks = Vec::new();
        for dev in candidates {
            if need == 0 {
                break;
            }
            let d = load_device(ctx, dev)?;
            if let Some(price) = fits(&d, &o.region, &o.denom, max) {
                let take = need.min(d.gpu_count - d.gpus_leased);
                need -= take;
                picks.push((d, take, price));
            }
        }
        if need > 0 {
            continue;
        }
        // A lease that cannot be opened (a bank refusal) leaves the order open and the state
        // untouched, rather than stopping the chain in end block.
        let opened = ctx.branch(|ctx| {
            let renter = Address::parse(&o.renter)?;
            let deposit = amt(&o.deposit, "deposit")?;
            let lease = open_lease(
                bank,
                ctx,
                &p,
                &renter,
                id,
                &o.denom,
                o.duration_s,
                &picks,
                Some(deposit),
            )?;
            OPEN_ORDERS.remove(ctx, &id)?;
            let mut o = o.clone();
            o.state = "matched".into();
            o.lease_id = lease;
            o.deposit = "0".into();
            ORDERS.save(ctx, &id, &o)
        });
        if opened.is_err() {
            continue;
        }
    }
    Ok(())
}

fn stream_of(part: &pb::LeasePart) -> Result<Stream, StoaError> {
    Stream::decode(part.stream.as_slice()).map_err(|e| sdk::LOGIC.with(format!("stream: {e}")))
}

/// How a supplier payout splits: `(fee, stakers, owner)`, adding up to `pay` exactly.
pub fn split_payout(
    pay: u128,
    fee_bps: u32,
    staker_share_bps: u32,
    has_stakers: bool,
) -> Option<(u128, u128, u128)> {
    let fee = mul_div_floor(pay, u128::from(fee_bps), 10_000)?;
    let net = pay.checked_sub(fee)?;
    let stakers = if has_stakers {
        mul_div_floor(net, u128::from(staker_share_bps), 10_000)?
    } else {
        0
    };
    Some((fee, stakers, net.checked_sub(stakers)?))
}

/// Pays a part's supplier `pay` from escrow: the supplier fee taken, the stakers' share to
/// their pool, the rest to the owner. Returns the fee.
fn payout(
    bank: &impl ComputeBank,
    ctx: &mut Ctx<'_>,
    p: &ComputeParams,
    lease: &pb::Lease,
    device_id: u64,
    pay: u128,
) -> Result<u128, StoaError> {
    if pay == 0 {
        return Ok(0);
    }
    // The fee as `split_payout` (property-tested) takes it; `pay_supplier` splits the rest
    // between stakers and owner by the same formula.
    let (fee, _, _) = Ctx::checked(
        split_payout(pay, p.fee_bps(&lease.denom), 0, false),
        "payout",
    )?;
    take_fee(bank, ctx, p, ESCROW, &lease.denom, fee)?;
    let d = load_device(ctx, device_id)?;
    pay_supplier(bank, ctx, ESCROW, &d, &lease.denom, pay - fee)?;
    Ok(fee)
}

fn settle(
    bank: &impl ComputeBank,
    ctx: &mut Ctx<'_>,
    lease: &mut pb::Lease,
) -> Result<(), StoaError> {
    let p = params::load(ctx)?;
    let now = ctx.block_time();
    let (mut paid, mut fees) = (0u128, 0u128);
    let l = lease.clone();
    for part in lease.parts.iter_mut() {
        let mut s = stream_of(part)?;
        let pay = s.settle(now)?;
        fees += payout(bank, ctx, &p, &l, part.device_id, pay)?;
        paid += pay;
        part.paid = s.paid()?.to_string();
        part.stream = s.encode_to_vec();
    }
    emit(
        ctx,
        &pb::EventLeaseSettled {
            lease_id: lease.id,
            paid: paid.to_string(),
            fees: fees.to_string(),
        },
    )
}

/// Closes an active lease: every stream settled (the part of a device that went offline only
/// up to its last heartbeat) and closed, the rest refunded to the renter, the devices freed.
pub fn close_lease(
    bank: &impl ComputeBank,
    ctx: &mut Ctx<'_>,
    id: u64,
    reason: &str,
    offline: Option<(u64, i64)>,
) -> Result<(), StoaError> {
    let p = params::load(ctx)?;
    let now = ctx.block_time();
    let mut lease = LEASES
        .get(ctx, &id)?
        .ok_or_else(|| sdk::NOT_FOUND.with(format!("lease {id}")))?;
    if lease.state != "active" {
        return Err(error::LEASE_CLOSED.with(format!("lease {id}")));
    }
    let renter = Address::parse(&lease.renter)?;
    let l = lease.clone();
    let mut refund = 0u128;
    for part in lease.parts.iter_mut() {
        let mut s = stream_of(part)?;
        let at = match offline {
            Some((dev, last)) if dev == part.device_id => {
                last.max(s.settled_at().unwrap_or(i64::MIN)).min(now)
            }
            _ => now,
        };
        let (pay, back) = s.close(at)?;
        payout(bank, ctx, &p, &l, part.device_id, pay)?;
        refund = Ctx::checked(refund.checked_add(back), "refund")?;
        part.paid = s.paid()?.to_string();
        part.refunded = s.refunded()?.to_string();
        part.stream = s.encode_to_vec();
        let mut d = load_device(ctx, part.device_id)?;
        d.gpus_leased = d.gpus_leased.saturating_sub(part.gpu_count);
        refile(ctx, &mut d)?;
        DEVICES.save(ctx, &d.id, &d)?;
        DEVICE_LEASES.remove(ctx, &(part.device_id, id))?;
    }
    from_module(bank, ctx, ESCROW, &renter, refund, &lease.denom)?;
    LEASE_END.remove(ctx, lease.ends_at + 1, &id.to_be_bytes())?;
    lease.state = "closed".into();
    lease.closed_at = now;
    lease.close_reason = reason.into();
    LEASES.save(ctx, &id, &lease)?;
    emit(
        ctx,
        &pb::EventLeaseClosed {
            lease_id: id,
            reason: reason.into(),
            refund: refund.to_string(),
        },
    )
}

/// End block: leases whose escrow ran dry are closed.
pub fn close_dry_leases(bank: &impl ComputeBank, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
    let now = ctx.block_time();
    for raw in LEASE_END.pop_due(ctx, now)? {
        let id = crate::id_of(&raw)?;
        if LEASES.get(ctx, &id)?.is_some_and(|l| l.state == "active") {
            close_lease(bank, ctx, id, "insufficient_funds", None)?;
        }
    }
    Ok(())
}

pub struct SettleLease<B>(pub B);

impl<B: ComputeBank> MsgHandler for SettleLease<B> {
    type Msg = pb::MsgSettleLease;
    const AMINO_NAME: &'static str = "stoa/compute/MsgSettleLease";
    type Checked = (Address, u64);
    type Response = pb::MsgSettleLeaseResponse;

    fn check(&self, m: Self::Msg) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let sender = Address::parse(&m.sender)?;
        Ok((vec![sender], (sender, m.lease_id)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (_, id): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let mut lease = LEASES
            .get(ctx, id)?
            .ok_or_else(|| sdk::NOT_FOUND.with(format!("lease {id}")))?;
        if lease.state != "active" {
            return Err(error::LEASE_CLOSED.with(format!("lease {id}")));
        }
        settle(&self.0, ctx, &mut lease)?;
        LEASES.save(ctx, id, &lease)?;
        Ok(pb::MsgSettleLeaseResponse {})
    }
}

pub struct CloseLease<B>(pub B);

impl<B: ComputeBank> MsgHandler for CloseLease<B> {
    type Msg = pb::MsgCloseLease;
    const AMINO_NAME: &'static str = "stoa/compute/MsgCloseLease";
    type Checked = (Address, u64);
    type Response = pb::MsgCloseLeaseResponse;

    fn check(&self, m: Self::Msg) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let renter = Address::parse(&m.renter)?;
        Ok((vec![renter], (renter, m.lease_id)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (renter, id): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let lease = LEASES
            .get(ctx, id)?
            .ok_or_else(|| sdk::NOT_FOUND.with(format!("lease {id}")))?;
        if lease.renter != renter.to_string() {
            return Err(error::NOT_RENTER.with(format!("lease {id}")));
        }
        close_lease(&self.0, ctx, *id, "cancelled", None)?;
        Ok(pb::MsgCloseLeaseResponse {})
    }
}

/// The buyback price now (ucomp per uusdc): linear from the round's start price down to the
/// floor over `buyback_duration`.
pub fn buyback_price(p: &ComputeParams, b: &pb::Buyback, now: i64) -> Dec {
    let start: Dec = b.start_price.parse().unwrap_or(p.buyback_start_price);
    let elapsed = (now - b.round_start).clamp(0, p.buyback_duration) as u128;
    let left = p.buyback_duration as u128 - elapsed;
    let price = mul_div_floor(start.0, left, p.buyback_duration as u128).unwrap_or(0);
    Dec(price.max(p.buyback_floor_price.0))
}

pub struct FillBuyback<B>(pub B);

impl<B: ComputeBank> MsgHandler for FillBuyback<B> {
    type Msg = pb::MsgFillBuyback;
    const AMINO_NAME: &'static str = "stoa/compute/MsgFillBuyback";
    type Checked = (Address, u128, u128);
    type Response = pb::MsgFillBuybackResponse;

    fn check(&self, m: Self::Msg) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let buyer = Address::parse(&m.buyer)?;
        let amount = amt(&m.amount, "amount")?;
        let max = amt(&m.max_ucomp, "max_ucomp")?;
        if amount == 0 {
            return Err(error::BUYBACK.with("buy a positive amount"));
        }
        Ok((vec![buyer], (buyer, amount, max)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (buyer, amount, max): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let p = params::load(ctx)?;
        let now = ctx.block_time();
        let mut b = BUYBACK.load_or_default(ctx)?;
        let pool = amt(&b.pool, "buyback pool")?;
        if *amount > pool {
            return Err(error::BUYBACK.with(format!("{amount} asked, {pool} in the pool")));
        }
        let price = buyback_price(&p, &b, now);
        let cost = Ctx::checked(price.mul_ceil(*amount), "buyback cost")?;
        if cost > *max || cost == 0 {
            return Err(error::BUYBACK.with(format!("costs {cost} ucomp, at most {max} offered")));
        }
        to_module(&self.0, ctx, buyer, BUYBACK_ACCOUNT, cost, &p.stake_denom)?;
        burn(&self.0, ctx, BUYBACK_ACCOUNT, cost, &p.stake_denom)?;
        from_module(
            &self.0,
            ctx,
            BUYBACK_ACCOUNT,
            buyer,
            *amount,
            &p.stable_denom,
        )?;
        b.pool = (pool - amount).to_string();
        b.sold_total = (amt(&b.sold_total, "sold")? + amount).to_string();
        b.burned_total = (amt(&b.burned_total, "burned")? + cost).to_string();
        b.round_start = now;
        let next = mul_div_floor(price.0, u128::from(p.buyback_restart_bps), 10_000).unwrap_or(0);
        b.start_price = Dec(next.max(p.buyback_floor_price.0)).to_string();
        BUYBACK.save(ctx, &b)?;
        emit(
            ctx,
            &pb::EventBuybackFilled {
                buyer: buyer.to_string(),
                uusdc: amount.to_string(),
                ucomp_burned: cost.to_string(),
            },
        )?;
        Ok(pb::MsgFillBuybackResponse {
            paid_ucomp: cost.to_string(),
        })
    }
}

pub struct ReportJob;

impl MsgHandler for ReportJob {
    type Msg = pb::MsgReportJob;
    const AMINO_NAME: &'static str = "stoa/compute/MsgReportJob";
    type Checked = (Address, pb::MsgReportJob);
    type Response = pb::MsgReportJobResponse;

    fn check(&self, m: Self::Msg) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let sender = Address::parse(&m.sender)?;
        if !matches!(m.status.as_str(), "running" | "succeeded" | "failed") {
            return Err(error::BAD_JOB.with("status must be running, succeeded or failed"));
        }
        for (h, what) in [
            (&m.payload_hash, "payload_hash"),
            (&m.log_hash, "log_hash"),
            (&m.result_hash, "result_hash"),
        ] {
            if !h.is_empty() && h.len() != 32 {
                return Err(error::BAD_JOB.with(format!("{what} must be 32 bytes")));
            }
        }
        Ok((vec![sender], (sender, m)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (sender, m): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let mut d = load_device(ctx, m.device_id)?;
        let worker = stoa_framework::crypto::PubKey::Ed25519(
            d.worker_key
                .as_slice()
                .try_into()
                .map_err(|_| sdk::LOGIC.with("worker key"))?,
        )
        .address();
        if d.owner != sender.to_string() && worker != *sender {
            return Err(error::NOT_OWNER.with(format!("{sender} reports for device {}", d.id)));
        }
        let lease = LEASES
            .get(ctx, &m.lease_id)?
            .ok_or_else(|| sdk::NOT_FOUND.with(format!("lease {}", m.lease_id)))?;
        if !lease.parts.iter().any(|p| p.device_id == m.device_id) {
            return Err(error::NOT_ON_LEASE.with(format!(
                "device {} is not on lease {}",
                m.device_id, m.lease_id
            )));
        }
        let now = ctx.block_time();
        let key = (m.lease_id, m.job_id);
        let old = JOBS.get(ctx, &key)?;
        if let Some(j) = &old {
            if j.device_id != m.device_id || j.status != "running" {
                return Err(error::BAD_JOB.with(format!("job {} is {}", m.job_id, j.status)));
            }
        } else if lease.state != "active" {
            return Err(error::LEASE_CLOSED.with(format!("lease {}", m.lease_id)));
        }
        let mut j = old.unwrap_or(pb::Job {
            lease_id: m.lease_id,
            job_id: m.job_id,
            device_id: m.device_id,
            started: now,
            ..Default::default()
        });
        j.payload_hash = m.payload_hash.clone();
        j.payload_size = m.payload_size;
        j.status = m.status.clone();
        j.exit_code = m.exit_code;
        j.log_hash = m.log_hash.clone();
        j.result_hash = m.result_hash.clone();
        if m.status != "running" {
            j.ended = now;
            let mut h = d.health.unwrap_or_default();
            if m.status == "succeeded" {
                h.jobs_ok += 1;
            } else {
                h.jobs_failed += 1;
            }
            d.health = Some(h);
            DEVICES.save(ctx, &d.id, &d)?;
        }
        JOBS.save(ctx, &key, &j)?;
        Ok(pb::MsgReportJobResponse {})
    }
}

/// End block, hourly by block time: mints what the schedule says is due since the last tick
/// into the rewards account and adds it to the emission pool, shared by the devices online
/// (weight multiplier x GPUs).
pub fn emit_rewards(bank: &impl ComputeBank, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
    let p = params::load(ctx)?;
    let now = ctx.block_time();
    let mut e = EMISSION.load_or_default(ctx)?;
    if e.start == 0 {
        e.start = now;
        EMISSION.save(ctx, &e)?;
    }
    if !due(
        ctx,
        MODULE_NAME,
        "emission",
        Every::Seconds(p.emission.tick_seconds),
    )? {
        return Ok(());
    }
    let target = emitted_by(&p.emission, now - e.start);
    let done = amt(&e.emitted, "emitted")?;
    let delta = target.saturating_sub(done);
    e.last_tick = now;
    // A mint the bank refuses (the token's cap) skips this tick instead of stopping the
    // chain; the next tick mints what is due by then.
    let minted = delta > 0
        && ctx
            .branch(|ctx| bank.mint(ctx, REWARDS, &crate::keeper::coins(delta, &p.stake_denom)?))
            .is_ok();
    if minted {
        let mut pool = EMISSION_POOL.load_or_default(ctx)?;
        pool.add_reward(delta)?;
        EMISSION_POOL.save(ctx, &pool)?;
        e.emitted = target.to_string();
        emit(
            ctx,
            &pb::EventEmission {
                time: now,
                amount: delta.to_string(),
                emitted: target.to_string(),
            },
        )?;
    }
    EMISSION.save(ctx, &e)
}
