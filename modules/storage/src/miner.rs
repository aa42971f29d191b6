//! Sectors and proofs: pre-commit (seal randomness, deals that fit and match comm_d, deposit),
//! prove-commit (interactive seed, initial pledge, power, deals activated), Window PoSt per
//! deadline, faults and their fees, termination and expiry. End-block work reads only due
//! queue entries and the sectors of the deadlines that close.

use crate::economics;
use crate::error;
use crate::keeper::{self, StorageBank, PLEDGE};
use crate::market;
use crate::params::StorageParams;
use crate::rewards;
use crate::state::*;
use stoa_framework::{sdk, Address, Ctx, Event, StoaError};
use stoa_proto::storage::v1::{
    DeadlineRandomness, DealState, EventPreCommitExpired, EventSectorActivated, EventSectorFaulty,
    EventSectorTerminated, NetworkPower, PreCommit, Provider, Sector, SectorState,
};
use stoa_prover::{PieceInfo, SealProof};

pub const TICKET_DOMAIN: &[u8] = b"stoa/storage/seal-ticket";
pub const SEED_DOMAIN: &[u8] = b"stoa/storage/porep-seed";
pub const POST_DOMAIN: &[u8] = b"stoa/storage/window-post";

/// The 32-byte prover id of a provider: its 20-byte address, zero-padded.
pub fn prover_id(provider: &Address) -> [u8; 32] {
    let mut id = [0u8; 32];
    id[..20].copy_from_slice(provider.as_bytes());
    id
}

pub fn node(b: &[u8]) -> Result<[u8; 32], StoaError> {
    b.try_into()
        .map_err(|_| error::BAD_COMMITMENT.with(format!("{} bytes", b.len())))
}

pub fn load_provider(ctx: &mut Ctx<'_>, addr: &Address) -> Result<Provider, StoaError> {
    PROVIDERS
        .get(ctx, addr)?
        .ok_or_else(|| error::UNKNOWN_PROVIDER.with(addr.to_string()))
}

/// The provider, checking that `worker` is its worker.
pub fn worker_provider(
    ctx: &mut Ctx<'_>,
    provider: &Address,
    worker: &Address,
) -> Result<Provider, StoaError> {
    let p = load_provider(ctx, provider)?;
    if p.worker != worker.to_string() {
        return Err(error::NOT_WORKER.with(format!("{worker} for provider {provider}")));
    }
    Ok(p)
}

pub struct PreCommitArgs {
    pub provider: Address,
    pub sector_number: u64,
    pub comm_r: [u8; 32],
    pub comm_d: [u8; 32],
    pub deal_ids: Vec<u64>,
    pub seal_rand_time: i64,
    pub expiration: i64,
}

pub fn precommit(
    bank: &impl StorageBank,
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
    a: &PreCommitArgs,
) -> Result<(), StoaError> {
    let now = ctx.block_time();
    let mut prov = load_provider(ctx, &a.provider)?;
    let seal = SealProof::from_proto(prov.seal_proof)
        .ok_or_else(|| error::SEAL_PROOF_NOT_ALLOWED.with("provider's seal proof"))?;
    // The params may have dropped the size since the provider registered.
    let policy = p
        .porep_policy(prov.seal_proof)
        .filter(|_| p.allowed_seal_proofs.contains(&prov.seal_proof))
        .ok_or_else(|| error::SEAL_PROOF_NOT_ALLOWED.with(seal.size_name()))?
        .clone();
    let key = (a.provider, a.sector_number);
    if USED_NUMBERS.has(ctx, &key)? {
        return Err(error::SECTOR_NUMBER_USED.with(format!("sector {}", a.sector_number)));
    }
    if a.seal_rand_time > now || a.seal_rand_time < now - p.max_seal_rand_lookback {
        return Err(error::STALE_RANDOMNESS.with(format!(
            "seal randomness of {} at {now}, lookback {}",
            a.seal_rand_time, p.max_seal_rand_lookback
        )));
    }
    let ticket = ctx
        .randomness_at(TICKET_DOMAIN, a.seal_rand_time)?
        .ok_or_else(|| error::STALE_RANDOMNESS.with("no randomness recorded for that time"))?;
    if a.expiration < now + p.prove_commit_delay + p.min_sector_lifetime
        || a.expiration > now + p.max_prove_commit_duration + p.max_sector_lifetime
    {
        return Err(error::BAD_EXPIRATION.with(format!("expiration {}", a.expiration)));
    }
    let mut pieces = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for id in &a.deal_ids {
        if !seen.insert(*id) {
            return Err(error::DEAL_NOT_USABLE.with(format!("deal {id} twice")));
        }
        let d = DEALS
            .get(ctx, id)?
            .ok_or_else(|| error::UNKNOWN_DEAL.with(format!("deal {id}")))?;
        let prop = d.proposal.clone().unwrap_or_default();
        if prop.provider != a.provider.to_string()
            || d.state != DealState::Published as i32
            || DEAL_SECTOR.has(ctx, id)?
            || prop.start <= now
            || prop.end > a.expiration
        {
            return Err(error::DEAL_NOT_USABLE.with(format!("deal {id}")));
        }
        let comm_p = stoa_prover::parse_piece_cid(&prop.piece_cid)
            .map_err(|e| error::BAD_PIECE.with(e.to_string()))?;
        pieces.push(PieceInfo {
            comm_p,
            padded_size: prop.piece_size,
        });
    }
    let total: u64 = pieces
        .iter()
        .map(|x| x.padded_size)
        .fold(0u64, u64::saturating_add);
    if total > seal.sector_bytes() {
        return Err(error::PIECE_TOO_LARGE.with(format!("{total} bytes of pieces")));
    }
    let expected = stoa_prover::compute_comm_d(seal, &pieces)
        .map_err(|e| error::PIECE_TOO_LARGE.with(e.to_string()))?;
    if expected != a.comm_d {
        return Err(error::COMM_D_MISMATCH.with(format!("sector {}", a.sector_number)));
    }
    let qa = u128::from(seal.sector_bytes());
    let deposit = economics::expected_reward(ctx, p, p.precommit_deposit_reward_seconds, qa)?;
    keeper::take_free(bank, ctx, p, &a.provider, deposit, PLEDGE)?;
    for id in &a.deal_ids {
        DEAL_SECTOR.save(ctx, id, &a.sector_number)?;
    }
    prov.precommit_deposits =
        keeper::add(keeper::amount(&prov.precommit_deposits)?, deposit)?.to_string();
    PROVIDERS.save(ctx, &a.provider, &prov)?;
    USED_NUMBERS.save(ctx, &key, &1)?;
    let pc = PreCommit {
        provider: a.provider.to_string(),
        sector_number: a.sector_number,
        seal_proof: prov.seal_proof,
        comm_r: a.comm_r.to_vec(),
        comm_d: a.comm_d.to_vec(),
        deal_ids: a.deal_ids.clone(),
        seal_rand_time: a.seal_rand_time,
        ticket: ticket.to_vec(),
        expiration: a.expiration,
        precommitted_at: now,
        deposit: deposit.to_string(),
        seed: vec![],
        seed_height: 0,
        qa_power: qa as u64,
        proven_partitions: vec![],
        porep_challenges: policy.challenges,
        porep_per_partition: policy.challenges_per_partition,
    };
    PRECOMMITS.save(ctx, &key, &pc)?;
    let id = qid(&a.provider, a.sector_number);
    SEED.push(ctx, now + p.prove_commit_delay, &id)?;
    PRECOMMIT_EXPIRY.push(ctx, now + p.max_prove_commit_duration, &id)?;
    ctx.emit(Event::typed(
        &stoa_proto::storage::v1::EventSectorPreCommitted {
            provider: a.provider.to_string(),
            sector_number: a.sector_number,
        },
    )?);
    Ok(())
}

/// Partition `index` of a pre-commit's PoRep, as its policy cuts it.
pub fn porep_partition(
    pc: &PreCommit,
    index: u32,
) -> Result<stoa_prover::PoRepPartition, StoaError> {
    let part = if pc.porep_challenges == 0 {
        let seal = SealProof::from_proto(pc.seal_proof)
            .ok_or_else(|| error::SEAL_PROOF_NOT_ALLOWED.with("pre-commit"))?;
        stoa_prover::PoRepPartition {
            index,
            ..stoa_prover::PoRepPartition::whole(seal)
        }
    } else {
        stoa_prover::PoRepPartition {
            challenges: pc.porep_challenges,
            per_partition: pc.porep_per_partition,
            index,
        }
    };
    if part.range().is_none() {
        return Err(error::INVALID_PROOF.with(format!(
            "sector {}: no partition {index} of {}",
            pc.sector_number,
            stoa_prover::PoRepPartition::count(part.challenges, part.per_partition)
        )));
    }
    Ok(part)
}

/// Public inputs of a pre-commit's PoRep, once its seed is drawn.
pub fn seal_verify_info(
    provider: &Address,
    pc: &PreCommit,
) -> Result<stoa_prover::SealVerifyInfo, StoaError> {
    if pc.seed.is_empty() {
        return Err(error::PROVE_TOO_EARLY.with(format!("sector {}", pc.sector_number)));
    }
    Ok(stoa_prover::SealVerifyInfo {
        seal_proof: SealProof::from_proto(pc.seal_proof)
            .ok_or_else(|| error::SEAL_PROOF_NOT_ALLOWED.with("pre-commit"))?,
        prover_id: prover_id(provider),
        sector_number: pc.sector_number,
        ticket: node(&pc.ticket)?,
        seed: node(&pc.seed)?,
        comm_d: node(&pc.comm_d)?,
        comm_r: node(&pc.comm_r)?,
    })
}

fn add_power(
    ctx: &mut Ctx<'_>,
    provider: &Address,
    prov: &mut Provider,
    qa: u64,
    add: bool,
) -> Result<(), StoaError> {
    let mut net = POWER.get(ctx)?.unwrap_or(NetworkPower { raw: 0, qa: 0 });
    let f = |a: u64, add: bool| -> Result<u64, StoaError> {
        if add {
            Ctx::checked(a.checked_add(qa), "power")
        } else {
            Ctx::checked(a.checked_sub(qa), "power")
        }
    };
    prov.raw_power = f(prov.raw_power, add)?;
    prov.qa_power = f(prov.qa_power, add)?;
    net.raw = f(net.raw, add)?;
    net.qa = f(net.qa, add)?;
    POWER.save(ctx, &net)?;
    rewards::change_shares(ctx, provider, u128::from(qa), add)
}

/// The next window of deadline `index` that opens after `now`: (open, close).
pub fn next_window(p: &StorageParams, period_start: i64, index: u32, now: i64) -> (i64, i64) {
    let w = p.deadline_window();
    let first = period_start + i64::from(index) * w;
    let open = if now < first {
        first
    } else {
        first + ((now - first) / p.proving_period + 1) * p.proving_period
    };
    (open, open + w)
}

/// The window of deadline `index` containing `now`, or the next one.
pub fn current_or_next_window(
    p: &StorageParams,
    period_start: i64,
    index: u32,
    now: i64,
) -> (i64, i64) {
    let w = p.deadline_window();
    let first = period_start + i64::from(index) * w;
    if now < first {
        return (first, first + w);
    }
    let open = first + (now - first) / p.proving_period * p.proving_period;
    if now < open + w {
        (open, open + w)
    } else {
        (open + p.proving_period, open + p.proving_period + w)
    }
}

fn schedule_deadline(
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
    provider: &Address,
    index: u32,
    open: i64,
) -> Result<(), StoaError> {
    let id = qid(provider, u64::from(index));
    CHALLENGE.push(ctx, open - p.challenge_lookback, &id)?;
    CLOSE.push(ctx, open + p.deadline_window(), &id)
}

/// Records one verified partition of a sector's PoRep; the last one activates the sector.
/// Returns (activated, partitions proven, partitions).
pub fn prove_commit(
    bank: &impl StorageBank,
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
    provider: &Address,
    sector_number: u64,
    partition: u32,
) -> Result<(bool, u32, u32), StoaError> {
    let now = ctx.block_time();
    let key = (*provider, sector_number);
    let mut pc = PRECOMMITS
        .get(ctx, &key)?
        .ok_or_else(|| error::UNKNOWN_PRECOMMIT.with(format!("sector {sector_number}")))?;
    if pc.seed.is_empty() {
        return Err(error::PROVE_TOO_EARLY.with(format!("sector {sector_number}")));
    }
    // End block removes it at this time; a proof in that very block is already late.
    let deadline = pc
        .precommitted_at
        .saturating_add(p.max_prove_commit_duration);
    if now >= deadline {
        return Err(
            error::PROVE_TOO_LATE.with(format!("sector {sector_number}: due by {deadline}"))
        );
    }
    let part = porep_partition(&pc, partition)?;
    let count = stoa_prover::PoRepPartition::count(part.challenges, part.per_partition);
    match pc.proven_partitions.binary_search(&partition) {
        Ok(_) => {
            return Err(error::PARTITION_PROVEN
                .with(format!("sector {sector_number} partition {partition}")))
        }
        Err(at) => pc.proven_partitions.insert(at, partition),
    }
    let proven = pc.proven_partitions.len() as u32;
    if proven < count {
        PRECOMMITS.save(ctx, &key, &pc)?;
        return Ok((false, proven, count));
    }
    let mut prov = load_provider(ctx, provider)?;
    for id in &pc.deal_ids {
        market::activate(ctx, *id, sector_number)?;
    }
    let qa = pc.qa_power;
    let deposit = keeper::amount(&pc.deposit)?;
    // The pledge is measured before the sector's power counts, as Filecoin does.
    let ip = economics::initial_pledge(bank, ctx, p, u128::from(qa))?;
    if ip > deposit {
        keeper::take_free(bank, ctx, p, provider, ip - deposit, PLEDGE)?;
    } else {
        keeper::credit(bank, ctx, p, PLEDGE, provider, deposit - ip)?;
    }
    prov.precommit_deposits = keeper::sub(
        keeper::amount(&prov.precommit_deposits)?,
        deposit,
        "deposits",
    )?
    .to_string();
    prov.pledge = keeper::add(keeper::amount(&prov.pledge)?, ip)?.to_string();
    // The deadline with the fewest sectors (lowest index on ties).
    let mut best = (u64::MAX, 0u32);
    for i in 0..p.deadlines {
        let n = DEADLINE_SECTORS
            .get(ctx, &(*provider, u64::from(i)))?
            .map_or(0, |v| v.len() as u64);
        if n < best.0 {
            best = (n, i);
        }
    }
    let index = best.1;
    let mut list = DEADLINE_SECTORS
        .get(ctx, &(*provider, u64::from(index)))?
        .unwrap_or_default();
    if list.is_empty() {
        let (open, _) = next_window(p, prov.proving_period_start, index, now);
        schedule_deadline(ctx, p, provider, index, open)?;
    }
    list.push(sector_number);
    DEADLINE_SECTORS.save(ctx, &(*provider, u64::from(index)), &list)?;
    let sector = Sector {
        provider: provider.to_string(),
        sector_number,
        seal_proof: pc.seal_proof,
        comm_r: pc.comm_r.clone(),
        deal_ids: pc.deal_ids.clone(),
        activation: now,
        expiration: pc.expiration,
        deadline: index,
        pledge: ip.to_string(),
        qa_power: qa,
        state: SectorState::Active as i32,
        faulty_since: 0,
        last_proven: 0,
        initial_pledge: ip.to_string(),
        recovering: false,
    };
    SECTORS.save(ctx, &key, &sector)?;
    SECTOR_EXPIRY.push(ctx, pc.expiration, &qid(provider, sector_number))?;
    prov.active_sectors += 1;
    add_power(ctx, provider, &mut prov, qa, true)?;
    PROVIDERS.save(ctx, provider, &prov)?;
    PRECOMMITS.remove(ctx, &key)?;
    PRECOMMIT_EXPIRY.remove(
        ctx,
        pc.precommitted_at + p.max_prove_commit_duration,
        &qid(provider, sector_number),
    )?;
    ctx.emit(Event::typed(&EventSectorActivated {
        provider: provider.to_string(),
        sector_number,
        deadline: index,
        pledge: ip.to_string(),
    })?);
    Ok((true, proven, count))
}

/// Whether a deadline's window at `open` challenges the sector: activated before it opens,
/// and active or declared recovered (a faulty sector not declared recovered is skipped: its
/// provider cannot prove it, and it pays its fault fee at the close).
pub fn challenged(s: &Sector, open: i64) -> bool {
    s.activation < open && (s.state == SectorState::Active as i32 || s.recovering)
}

/// The sectors a deadline's window at `open` challenges (see [`challenged`]).
pub fn expected_sectors(sectors: &[Sector], open: i64) -> Vec<stoa_prover::PoStSectorInfo> {
    sectors
        .iter()
        .filter(|s| challenged(s, open))
        .filter_map(|s| {
            Some(stoa_prover::PoStSectorInfo {
                seal_proof: SealProof::from_proto(s.seal_proof)?,
                sector_number: s.sector_number,
                comm_r: s.comm_r.as_slice().try_into().ok()?,
            })
        })
        .collect()
}

/// Records a valid Window PoSt (already verified): proven sectors recover, sectors the proof
/// lists as faulty become faulty.
pub fn apply_post(
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
    provider: &Address,
    deadline: u32,
    proven: &[u64],
    faulty: &[u64],
) -> Result<(), StoaError> {
    let now = ctx.block_time();
    let rand = DEADLINE_RAND
        .get(ctx, &(*provider, u64::from(deadline)))?
        .ok_or_else(|| {
            error::POST_OUTSIDE_WINDOW.with(format!("deadline {deadline} has no challenge"))
        })?;
    if now < rand.open || now >= rand.open + p.deadline_window() {
        return Err(error::POST_OUTSIDE_WINDOW.with(format!(
            "now {now}, window [{}, {})",
            rand.open,
            rand.open + p.deadline_window()
        )));
    }
    let mut prov = load_provider(ctx, provider)?;
    for n in proven {
        let mut s = SECTORS
            .get(ctx, &(*provider, *n))?
            .ok_or_else(|| error::UNKNOWN_SECTOR.with(format!("sector {n}")))?;
        if s.state == SectorState::Faulty as i32 {
            s.state = SectorState::Active as i32;
            s.faulty_since = 0;
            s.recovering = false;
            prov.faulty_sectors = prov.faulty_sectors.saturating_sub(1);
            add_power(ctx, provider, &mut prov, s.qa_power, true)?;
        }
        s.last_proven = rand.open;
        SECTORS.save(ctx, &(*provider, *n), &s)?;
    }
    for n in faulty {
        mark_faulty(ctx, provider, &mut prov, *n)?;
    }
    PROVIDERS.save(ctx, provider, &prov)?;
    ctx.emit(Event::typed(&stoa_proto::storage::v1::EventWindowPoSt {
        provider: provider.to_string(),
        deadline,
        proven: proven.len() as u32,
        faulty: faulty.len() as u32,
    })?);
    Ok(())
}

/// A declared fault: refused from the cutoff before its deadline's window opens until the
/// window closes (the challenge may be drawn; the PoSt lists the sector as faulty instead).
pub fn declare_fault(
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
    provider: &Address,
    prov: &mut Provider,
    n: u64,
) -> Result<(), StoaError> {
    let s = SECTORS
        .get(ctx, &(*provider, n))?
        .ok_or_else(|| error::UNKNOWN_SECTOR.with(format!("sector {n}")))?;
    let now = ctx.block_time();
    let (open, close) = current_or_next_window(p, prov.proving_period_start, s.deadline, now);
    if now >= open - p.fault_declaration_cutoff && now < close {
        return Err(error::FAULT_CUTOFF.with(format!(
            "sector {n}: deadline {} opens at {open}",
            s.deadline
        )));
    }
    if s.recovering {
        // A fault declared on a recovering sector cancels its recovery.
        let mut s = s;
        s.recovering = false;
        SECTORS.save(ctx, &(*provider, n), &s)?;
    }
    mark_faulty(ctx, provider, prov, n)
}

/// A faulty sector declared recovered: its deadline's next window challenges it again (with
/// the same cutoff as faults: its challenge may already be drawn).
pub fn declare_recovered(
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
    provider: &Address,
    prov: &Provider,
    n: u64,
) -> Result<(), StoaError> {
    let mut s = SECTORS
        .get(ctx, &(*provider, n))?
        .ok_or_else(|| error::UNKNOWN_SECTOR.with(format!("sector {n}")))?;
    if s.state != SectorState::Faulty as i32 {
        return Err(error::NOT_FAULTY.with(format!("sector {n}")));
    }
    let now = ctx.block_time();
    let (open, close) = current_or_next_window(p, prov.proving_period_start, s.deadline, now);
    if now >= open - p.fault_declaration_cutoff && now < close {
        return Err(error::FAULT_CUTOFF.with(format!(
            "sector {n}: deadline {} opens at {open}",
            s.deadline
        )));
    }
    s.recovering = true;
    SECTORS.save(ctx, &(*provider, n), &s)
}

/// An active sector becomes faulty now: its power is removed (fees come at its deadline).
pub fn mark_faulty(
    ctx: &mut Ctx<'_>,
    provider: &Address,
    prov: &mut Provider,
    n: u64,
) -> Result<(), StoaError> {
    let mut s = SECTORS
        .get(ctx, &(*provider, n))?
        .ok_or_else(|| error::UNKNOWN_SECTOR.with(format!("sector {n}")))?;
    if s.state != SectorState::Active as i32 {
        // A recovering sector the PoSt lists as faulty stays faulty, recovery cancelled.
        if s.recovering {
            s.recovering = false;
            SECTORS.save(ctx, &(*provider, n), &s)?;
        }
        return Ok(());
    }
    s.state = SectorState::Faulty as i32;
    s.faulty_since = ctx.block_time();
    prov.faulty_sectors += 1;
    add_power(ctx, provider, prov, s.qa_power, false)?;
    SECTORS.save(ctx, &(*provider, n), &s)
}

/// Ends a sector early (by its owner or past the maximum fault age): termination fee burned
/// from its pledge, the rest returned, its deals terminated.
pub fn terminate(
    bank: &impl StorageBank,
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
    provider: &Address,
    n: u64,
    reason: &str,
) -> Result<(), StoaError> {
    let now = ctx.block_time();
    let s = SECTORS
        .get(ctx, &(*provider, n))?
        .ok_or_else(|| error::UNKNOWN_SECTOR.with(format!("sector {n}")))?;
    let ip = keeper::amount(&s.initial_pledge)?;
    let pledge = keeper::amount(&s.pledge)?;
    let ff =
        economics::expected_reward(ctx, p, p.fault_fee_reward_seconds, u128::from(s.qa_power))?;
    let fee = economics::termination_fee(p, ip, now - s.activation, ff).min(pledge);
    finish_sector(bank, ctx, p, provider, &s, fee)?;
    for id in &s.deal_ids {
        market::terminate(bank, ctx, p, *id, "sector terminated")?;
    }
    ctx.emit(Event::typed(&EventSectorTerminated {
        provider: provider.to_string(),
        sector_number: n,
        fee: fee.to_string(),
        reason: reason.into(),
    })?);
    Ok(())
}

/// Removes a sector: `burn` of its pledge burned, the rest back to the provider's escrow.
fn finish_sector(
    bank: &impl StorageBank,
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
    provider: &Address,
    s: &Sector,
    burn: u128,
) -> Result<(), StoaError> {
    let mut prov = load_provider(ctx, provider)?;
    let pledge = keeper::amount(&s.pledge)?;
    keeper::burn(bank, ctx, p, PLEDGE, burn)?;
    keeper::credit(bank, ctx, p, PLEDGE, provider, pledge - burn)?;
    prov.pledge = keeper::sub(keeper::amount(&prov.pledge)?, pledge, "pledge")?.to_string();
    if s.state == SectorState::Active as i32 {
        add_power(ctx, provider, &mut prov, s.qa_power, false)?;
    } else {
        prov.faulty_sectors = prov.faulty_sectors.saturating_sub(1);
    }
    prov.active_sectors = prov.active_sectors.saturating_sub(1);
    PROVIDERS.save(ctx, provider, &prov)?;
    let dl = (*provider, u64::from(s.deadline));
    let mut list = DEADLINE_SECTORS.get(ctx, &dl)?.unwrap_or_default();
    list.retain(|x| *x != s.sector_number);
    if list.is_empty() {
        DEADLINE_SECTORS.remove(ctx, &dl)?;
    } else {
        DEADLINE_SECTORS.save(ctx, &dl, &list)?;
    }
    SECTOR_EXPIRY.remove(ctx, s.expiration, &qid(provider, s.sector_number))?;
    SECTORS.remove(ctx, &(*provider, s.sector_number))
}

fn charge_fault_fee(
    bank: &impl StorageBank,
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
    provider: &Address,
    s: &mut Sector,
) -> Result<u128, StoaError> {
    let pledge = keeper::amount(&s.pledge)?;
    let fee =
        economics::expected_reward(ctx, p, p.fault_fee_reward_seconds, u128::from(s.qa_power))?
            .min(pledge);
    keeper::burn(bank, ctx, p, PLEDGE, fee)?;
    s.pledge = (pledge - fee).to_string();
    let mut prov = load_provider(ctx, provider)?;
    prov.pledge = keeper::sub(keeper::amount(&prov.pledge)?, fee, "pledge")?.to_string();
    PROVIDERS.save(ctx, provider, &prov)?;
    Ok(fee)
}

fn parse(raw: &[u8]) -> Result<(Address, u64), StoaError> {
    parse_qid(raw).ok_or_else(|| sdk::LOGIC.with("queue entry"))
}

pub fn end_block(
    bank: &impl StorageBank,
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
) -> Result<(), StoaError> {
    let now = ctx.block_time();
    let height = ctx.height();
    // Interactive seeds: this block's randomness, unknown to anyone before it.
    for raw in SEED.pop_due(ctx, now)? {
        let key = parse(&raw)?;
        if let Some(mut pc) = PRECOMMITS.get(ctx, &key)? {
            let seed = ctx
                .randomness(SEED_DOMAIN, height)?
                .ok_or_else(|| sdk::LOGIC.with("this block's randomness"))?;
            pc.seed = seed.to_vec();
            pc.seed_height = height;
            PRECOMMITS.save(ctx, &key, &pc)?;
        }
    }
    // Pre-commits never proven: the deposit is burned, their deals freed.
    for raw in PRECOMMIT_EXPIRY.pop_due(ctx, now)? {
        let key = parse(&raw)?;
        if let Some(pc) = PRECOMMITS.get(ctx, &key)? {
            let deposit = keeper::amount(&pc.deposit)?;
            keeper::burn(bank, ctx, p, PLEDGE, deposit)?;
            let mut prov = load_provider(ctx, &key.0)?;
            prov.precommit_deposits = keeper::sub(
                keeper::amount(&prov.precommit_deposits)?,
                deposit,
                "deposits",
            )?
            .to_string();
            PROVIDERS.save(ctx, &key.0, &prov)?;
            for id in &pc.deal_ids {
                DEAL_SECTOR.remove(ctx, id)?;
            }
            PRECOMMITS.remove(ctx, &key)?;
            SEED.remove(ctx, pc.precommitted_at + p.prove_commit_delay, &raw)?;
            ctx.emit(Event::typed(&EventPreCommitExpired {
                provider: key.0.to_string(),
                sector_number: key.1,
                burned: deposit.to_string(),
            })?);
        }
    }
    // Deadlines whose challenge time came: draw their randomness.
    for raw in CHALLENGE.pop_due(ctx, now)? {
        let (provider, index) = parse(&raw)?;
        let Some(prov) = PROVIDERS.get(ctx, &provider)? else {
            continue;
        };
        let (open, _) = current_or_next_window(p, prov.proving_period_start, index as u32, now);
        let randomness = ctx
            .randomness(POST_DOMAIN, height)?
            .ok_or_else(|| sdk::LOGIC.with("this block's randomness"))?;
        DEADLINE_RAND.save(
            ctx,
            &(provider, index),
            &DeadlineRandomness {
                open,
                randomness: randomness.to_vec(),
                height,
            },
        )?;
    }
    // Deadlines that closed: sectors without a proof become faulty; faulty sectors pay the
    // fault fee (once per proving period) and terminate past the maximum fault age.
    for raw in CLOSE.pop_due(ctx, now)? {
        let (provider, index) = parse(&raw)?;
        let Some(rand) = DEADLINE_RAND.get(ctx, &(provider, index))? else {
            continue;
        };
        let list = DEADLINE_SECTORS
            .get(ctx, &(provider, index))?
            .unwrap_or_default();
        for n in list {
            let Some(mut s) = SECTORS.get(ctx, &(provider, n))? else {
                continue;
            };
            if s.activation >= rand.open || s.last_proven == rand.open {
                continue;
            }
            if s.state == SectorState::Active as i32 {
                let mut prov = load_provider(ctx, &provider)?;
                mark_faulty(ctx, &provider, &mut prov, n)?;
                PROVIDERS.save(ctx, &provider, &prov)?;
                s = SECTORS.load(ctx, &(provider, n))?;
            }
            // A recovery not proven in this window is cancelled.
            s.recovering = false;
            if now - s.faulty_since > p.max_fault_age {
                terminate(
                    bank,
                    ctx,
                    p,
                    &provider,
                    n,
                    "faulty past the maximum fault age",
                )?;
                continue;
            }
            let fee = charge_fault_fee(bank, ctx, p, &provider, &mut s)?;
            SECTORS.save(ctx, &(provider, n), &s)?;
            ctx.emit(Event::typed(&EventSectorFaulty {
                provider: provider.to_string(),
                sector_number: n,
                fee: fee.to_string(),
            })?);
        }
        if DEADLINE_SECTORS.has(ctx, &(provider, index))? {
            schedule_deadline(
                ctx,
                p,
                &provider,
                index as u32,
                rand.open + p.proving_period,
            )?;
        }
    }
    // Sectors at their expiration: pledge returned, power removed.
    for raw in SECTOR_EXPIRY.pop_due(ctx, now)? {
        let key = parse(&raw)?;
        if let Some(s) = SECTORS.get(ctx, &key)? {
            finish_sector(bank, ctx, p, &key.0, &s, 0)?;
        }
    }
    Ok(())
}

/// Moves a sector's expiration later (never earlier), within the maximum sector lifetime.
pub fn extend(
    ctx: &mut Ctx<'_>,
    p: &StorageParams,
    provider: &Address,
    n: u64,
    new_expiration: i64,
) -> Result<(), StoaError> {
    let mut s = SECTORS
        .get(ctx, &(*provider, n))?
        .ok_or_else(|| error::UNKNOWN_SECTOR.with(format!("sector {n}")))?;
    let max = s.activation.saturating_add(p.max_sector_lifetime);
    if new_expiration <= s.expiration || new_expiration > max {
        return Err(error::BAD_EXPIRATION.with(format!(
            "sector {n}: {new_expiration} must be after {} and at most {max}",
            s.expiration
        )));
    }
    let id = qid(provider, n);
    SECTOR_EXPIRY.remove(ctx, s.expiration, &id)?;
    SECTOR_EXPIRY.push(ctx, new_expiration, &id)?;
    s.expiration = new_expiration;
    SECTORS.save(ctx, &(*provider, n), &s)
}
