//! The deal market: publishing client-signed proposals (checks of STORAGE.md, funds locked),
//! payment settled lazily through a `Stream` per deal, activation, expiry, termination and the
//! slashing of deals not activated by their start.

use crate::economics;
use crate::error;
use crate::keeper::{self, StorageBank, BURN};
use crate::params::StorageParams;
use crate::state::{DEALS, DEAL_END, DEAL_SECTOR, DEAL_START, NEXT_DEAL_ID, PROPOSALS};
use prost::Message;
use sha2::{Digest, Sha256};
use stoa_framework::crypto::PubKey;
use stoa_framework::stream::Stream;
use stoa_framework::{sdk, Address, Ctx, StoaError};
use stoa_proto::storage::v1::{
    ClientDealProposal, Deal, DealProposal, DealState, EventDealActivated, EventDealClosed,
    EventDealPublished, Provider,
};

/// The bytes a client signs: the proposal's protobuf encoding.
pub fn sign_bytes(p: &DealProposal) -> Vec<u8> {
    p.encode_to_vec()
}

/// Whether the proposal's signature is the client's (stateless; run in the pre-block check).
pub fn signature_ok(c: &ClientDealProposal) -> Result<(), StoaError> {
    let proposal = c
        .proposal
        .as_ref()
        .ok_or_else(|| error::BAD_PROPOSAL.with("missing proposal"))?;
    let key = PubKey::from_parts(&c.pub_key_type_url, &c.pub_key)
        .map_err(|e| error::BAD_SIGNATURE.with(e.to_string()))?;
    if key.address().to_string() != proposal.client {
        return Err(error::BAD_SIGNATURE.with("the key is not the client's"));
    }
    if !key.verify(&sign_bytes(proposal), &c.signature) {
        return Err(error::BAD_SIGNATURE.with(format!("client {}", proposal.client)));
    }
    Ok(())
}

pub fn proposal_hash(p: &DealProposal) -> Vec<u8> {
    Sha256::digest(sign_bytes(p)).to_vec()
}

fn total_client_lock(p: &DealProposal) -> Result<u128, StoaError> {
    let price = keeper::amount(&p.price_per_second)?;
    let dur = (p.end - p.start).max(0) as u128;
    keeper::add(
        Ctx::checked(price.checked_mul(dur), "deal price")?,
        keeper::amount(&p.client_collateral)?,
    )
}

/// Checks one proposal against the state and publishes it; an error changes nothing (the
/// caller runs it in a branch).
pub fn publish_one(
    bank: &impl StorageBank,
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
    provider_addr: &Address,
    provider: &Provider,
    prop: &DealProposal,
) -> Result<u64, StoaError> {
    let now = ctx.block_time();
    if prop.provider != provider_addr.to_string() {
        return Err(error::BAD_PROPOSAL.with(format!("proposal is for provider {}", prop.provider)));
    }
    let client = Address::parse(&prop.client)?;
    let sector_bytes = stoa_prover::SealProof::from_proto(provider.seal_proof)
        .map(|s| s.sector_bytes())
        .unwrap_or(0);
    if prop.piece_size < 128 || !prop.piece_size.is_power_of_two() {
        return Err(error::BAD_PIECE.with(format!("piece size {}", prop.piece_size)));
    }
    if prop.piece_size > sector_bytes {
        return Err(error::PIECE_TOO_LARGE.with(format!(
            "piece of {} bytes, sector of {sector_bytes}",
            prop.piece_size
        )));
    }
    if prop.piece_size < provider.min_piece_size || prop.piece_size > provider.max_piece_size {
        return Err(error::BAD_PIECE.with("piece size outside the provider's ask"));
    }
    stoa_prover::parse_piece_cid(&prop.piece_cid)
        .map_err(|e| error::BAD_PIECE.with(e.to_string()))?;
    if prop.start <= now {
        return Err(error::START_PASSED.with(format!("start {} <= now {now}", prop.start)));
    }
    if prop.end <= prop.start {
        return Err(error::BAD_DURATION.with(format!("end {} <= start {}", prop.end, prop.start)));
    }
    let dur = prop.end - prop.start;
    if dur < p.min_deal_duration || dur > p.max_deal_duration {
        return Err(error::BAD_DURATION.with(format!(
            "{dur} s, bounds [{}, {}]",
            p.min_deal_duration, p.max_deal_duration
        )));
    }
    let pc = keeper::amount(&prop.provider_collateral)?;
    let min = economics::min_provider_collateral(bank, ctx, p, prop.piece_size)?;
    if pc < min {
        return Err(error::LOW_COLLATERAL.with(format!("{pc} < {min}")));
    }
    let hash = proposal_hash(prop);
    if PROPOSALS.has(ctx, &hash)? {
        return Err(error::DUPLICATE_DEAL.with("same signed proposal"));
    }
    let price = keeper::amount(&prop.price_per_second)?;
    let client_lock = total_client_lock(prop)?;
    keeper::lock(ctx, &client, client_lock)?;
    keeper::lock(ctx, provider_addr, pc)?;
    let mut stream = Stream::new(price, prop.start, Some(prop.end))?;
    stream.deposit(Ctx::checked(price.checked_mul(dur as u128), "deal price")?)?;
    let id = NEXT_DEAL_ID.get(ctx)?.unwrap_or(0);
    NEXT_DEAL_ID.save(ctx, &Ctx::checked(id.checked_add(1), "deal ids")?)?;
    let deal = Deal {
        id,
        proposal: Some(prop.clone()),
        state: DealState::Published as i32,
        sector_number: 0,
        activated_at: 0,
        stream: stream.encode_to_vec(),
        paid: "0".into(),
    };
    DEALS.save(ctx, &id, &deal)?;
    PROPOSALS.save(ctx, &hash, &id)?;
    DEAL_START.push(ctx, prop.start, &id.to_be_bytes())?;
    ctx.emit(stoa_framework::Event::typed(&EventDealPublished {
        deal_id: id,
        client: prop.client.clone(),
        provider: prop.provider.clone(),
    })?);
    Ok(id)
}

fn stream_of(d: &Deal) -> Result<Stream, StoaError> {
    Stream::decode(d.stream.as_slice()).map_err(|e| sdk::LOGIC.with(format!("deal stream: {e}")))
}

fn parties(d: &Deal) -> Result<(DealProposal, Address, Address), StoaError> {
    let prop = d.proposal.clone().unwrap_or_default();
    let client = Address::parse(&prop.client)?;
    let provider = Address::parse(&prop.provider)?;
    Ok((prop, client, provider))
}

/// Pays the provider what the deal owes up to now.
pub fn settle(ctx: &mut Ctx<'_>, d: &mut Deal) -> Result<u128, StoaError> {
    if d.state != DealState::Active as i32 {
        return Ok(0);
    }
    let (_, client, provider) = parties(d)?;
    let mut s = stream_of(d)?;
    let pay = s.settle(ctx.block_time())?;
    keeper::pay_locked(ctx, &client, &provider, pay)?;
    d.stream = s.encode_to_vec();
    d.paid = keeper::add(keeper::amount(&d.paid)?, pay)?.to_string();
    Ok(pay)
}

pub fn settle_by_id(ctx: &mut Ctx<'_>, id: u64) -> Result<(), StoaError> {
    let mut d = DEALS
        .get(ctx, &id)?
        .ok_or_else(|| error::UNKNOWN_DEAL.with(format!("deal {id}")))?;
    settle(ctx, &mut d)?;
    DEALS.save(ctx, &id, &d)
}

/// Activates a deal sealed in `sector_number` (before its start, checked by the caller).
pub fn activate(ctx: &mut Ctx<'_>, id: u64, sector_number: u64) -> Result<(), StoaError> {
    let mut d = DEALS
        .get(ctx, &id)?
        .ok_or_else(|| error::UNKNOWN_DEAL.with(format!("deal {id}")))?;
    let prop = d.proposal.clone().unwrap_or_default();
    if d.state != DealState::Published as i32 || prop.start <= ctx.block_time() {
        return Err(error::DEAL_NOT_USABLE.with(format!("deal {id} cannot be activated")));
    }
    DEAL_START.remove(ctx, prop.start, &id.to_be_bytes())?;
    DEAL_END.push(ctx, prop.end, &id.to_be_bytes())?;
    d.state = DealState::Active as i32;
    d.sector_number = sector_number;
    d.activated_at = ctx.block_time();
    settle(ctx, &mut d)?;
    DEALS.save(ctx, &id, &d)?;
    DEAL_SECTOR.remove(ctx, &id)?;
    ctx.emit(stoa_framework::Event::typed(&EventDealActivated {
        deal_id: id,
        sector_number,
    })?);
    Ok(())
}

fn remove(ctx: &mut Ctx<'_>, d: &Deal) -> Result<(), StoaError> {
    let prop = d.proposal.clone().unwrap_or_default();
    PROPOSALS.remove(ctx, &proposal_hash(&prop))?;
    DEAL_SECTOR.remove(ctx, &d.id)?;
    DEALS.remove(ctx, &d.id)
}

fn closed_event(
    ctx: &mut Ctx<'_>,
    d: &Deal,
    reason: &str,
    refunded: u128,
    slashed: u128,
) -> Result<(), StoaError> {
    ctx.emit(stoa_framework::Event::typed(&EventDealClosed {
        deal_id: d.id,
        reason: reason.into(),
        paid: d.paid.clone(),
        refunded: refunded.to_string(),
        slashed: slashed.to_string(),
    })?);
    Ok(())
}

/// End of an active deal: the last payment, collateral unlocked, the deal removed.
pub fn expire(ctx: &mut Ctx<'_>, id: u64) -> Result<(), StoaError> {
    let Some(mut d) = DEALS.get(ctx, &id)? else {
        return Ok(());
    };
    let (prop, client, provider) = parties(&d)?;
    let mut s = stream_of(&d)?;
    let (pay, refund) = s.close(ctx.block_time())?;
    keeper::pay_locked(ctx, &client, &provider, pay)?;
    d.paid = keeper::add(keeper::amount(&d.paid)?, pay)?.to_string();
    keeper::unlock(
        ctx,
        &client,
        keeper::add(refund, keeper::amount(&prop.client_collateral)?)?,
    )?;
    keeper::unlock(ctx, &provider, keeper::amount(&prop.provider_collateral)?)?;
    closed_event(ctx, &d, "expired", refund, 0)?;
    remove(ctx, &d)
}

/// Early end (its sector terminated, or never activated): the client pays up to now, the rest
/// and its collateral are unlocked, and the provider collateral is burned.
pub fn terminate(
    bank: &impl StorageBank,
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
    id: u64,
    reason: &str,
) -> Result<(), StoaError> {
    let Some(mut d) = DEALS.get(ctx, &id)? else {
        return Ok(());
    };
    let (prop, client, provider) = parties(&d)?;
    let refund = if d.state == DealState::Active as i32 {
        let mut s = stream_of(&d)?;
        let (pay, refund) = s.close(ctx.block_time())?;
        keeper::pay_locked(ctx, &client, &provider, pay)?;
        d.paid = keeper::add(keeper::amount(&d.paid)?, pay)?.to_string();
        DEAL_END.remove(ctx, prop.end, &id.to_be_bytes())?;
        refund
    } else {
        DEAL_START.remove(ctx, prop.start, &id.to_be_bytes())?;
        stream_of(&d)?.held()?
    };
    keeper::unlock(
        ctx,
        &client,
        keeper::add(refund, keeper::amount(&prop.client_collateral)?)?,
    )?;
    let pc = keeper::amount(&prop.provider_collateral)?;
    keeper::take_locked(bank, ctx, p, &provider, pc, BURN)?;
    keeper::burn(bank, ctx, p, BURN, pc)?;
    closed_event(ctx, &d, reason, refund, pc)?;
    remove(ctx, &d)
}

/// End block: deals whose start came without activation are slashed; deals that ended are
/// paid out. Reads only the deals due.
pub fn end_block(
    bank: &impl StorageBank,
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
) -> Result<(), StoaError> {
    let now = ctx.block_time();
    for raw in DEAL_START.pop_due(ctx, now)? {
        let id = u64::from_be_bytes(
            raw.as_slice()
                .try_into()
                .map_err(|_| sdk::LOGIC.with("deal id"))?,
        );
        if let Some(d) = DEALS.get(ctx, &id)? {
            if d.state == DealState::Published as i32 {
                terminate(bank, ctx, p, id, "not activated by its start")?;
            }
        }
    }
    for raw in DEAL_END.pop_due(ctx, now)? {
        let id = u64::from_be_bytes(
            raw.as_slice()
                .try_into()
                .map_err(|_| sdk::LOGIC.with("deal id"))?,
        );
        expire(ctx, id)?;
    }
    Ok(())
}
