//! One handler per message. Proofs (PoRep, Window PoSt) and the clients' signatures on deal
//! proposals are checked in `precheck`, in parallel with the block's tx signatures; `execute`
//! re-checks what earlier txs of the block can change.

use crate::error;
use crate::keeper::{self, StorageBank, MARKET};
use crate::market;
use crate::miner::{self, PreCommitArgs};
use crate::params::StorageParams;
use crate::rewards;
use crate::state::{DEADLINE_RAND, DEADLINE_SECTORS, PRECOMMITS, PROVIDERS, SECTORS};
use prost::Message;
use std::sync::OnceLock;
use stoa_framework::{params, Address, Ctx, MsgHandler, PreState, StoaError};
use stoa_proto::storage::v1::*;
use stoa_prover::SealProof;

fn pre_params(pre: &PreState<'_>) -> Result<StorageParams, StoaError> {
    params::peek::<StorageParams>(pre.state)
}

fn p(ctx: &mut Ctx<'_>) -> Result<StorageParams, StoaError> {
    Ok((*params::load::<StorageParams>(ctx)?).clone())
}

pub struct RegisterProvider;

impl MsgHandler for RegisterProvider {
    type Msg = MsgRegisterProvider;
    const AMINO_NAME: &'static str = "stoa/storage/MsgRegisterProvider";
    type Checked = (Address, Address, MsgRegisterProvider);
    type Response = MsgRegisterProviderResponse;

    fn check(&self, m: MsgRegisterProvider) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let owner = Address::parse(&m.owner)?;
        let worker = Address::parse(&m.worker)?;
        keeper::amount(&m.price_per_gib_per_second)?;
        if m.min_piece_size > m.max_piece_size
            || m.max_piece_size == 0
            || m.peer_endpoint.len() > 512
        {
            return Err(error::BAD_ASK.with("min > max piece size, a zero max, or a long endpoint"));
        }
        Ok((vec![owner], (owner, worker, m)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (owner, worker, m): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let p = p(ctx)?;
        if !p.allowed_seal_proofs.contains(&m.seal_proof)
            || SealProof::from_proto(m.seal_proof).is_none()
        {
            return Err(error::SEAL_PROOF_NOT_ALLOWED.with(format!("seal proof {}", m.seal_proof)));
        }
        if PROVIDERS.has(ctx, owner)? {
            return Err(error::PROVIDER_EXISTS.with(owner.to_string()));
        }
        let provider = Provider {
            owner: owner.to_string(),
            worker: worker.to_string(),
            seal_proof: m.seal_proof,
            peer_endpoint: m.peer_endpoint.clone(),
            price_per_gib_per_second: m.price_per_gib_per_second.clone(),
            min_piece_size: m.min_piece_size,
            max_piece_size: m.max_piece_size,
            proving_period_start: ctx.block_time(),
            pledge: "0".into(),
            precommit_deposits: "0".into(),
            rewards_paid: "0".into(),
            ..Default::default()
        };
        PROVIDERS.save(ctx, owner, &provider)?;
        Ok(MsgRegisterProviderResponse {})
    }
}

pub struct AddBalance<B>(pub B);

impl<B: StorageBank> MsgHandler for AddBalance<B> {
    type Msg = MsgAddBalance;
    const AMINO_NAME: &'static str = "stoa/storage/MsgAddBalance";
    type Checked = (Address, Address, u128);
    type Response = MsgAddBalanceResponse;

    fn check(&self, m: MsgAddBalance) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let sender = Address::parse(&m.sender)?;
        let to = if m.address.is_empty() {
            sender
        } else {
            Address::parse(&m.address)?
        };
        let n = keeper::amount(&m.amount)?;
        if n == 0 {
            return Err(error::BAD_AMOUNT.with("zero"));
        }
        Ok((vec![sender], (sender, to, n)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (sender, to, n): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let p = p(ctx)?;
        self.0
            .send_to_module(ctx, sender, MARKET, &keeper::coins(&p, *n)?)?;
        let (total, locked) = keeper::balance(ctx, to)?;
        keeper::set_balance(ctx, to, keeper::add(total, *n)?, locked)?;
        Ok(MsgAddBalanceResponse {})
    }
}

pub struct WithdrawBalance<B>(pub B);

impl<B: StorageBank> MsgHandler for WithdrawBalance<B> {
    type Msg = MsgWithdrawBalance;
    const AMINO_NAME: &'static str = "stoa/storage/MsgWithdrawBalance";
    type Checked = (Address, u128);
    type Response = MsgWithdrawBalanceResponse;

    fn check(&self, m: MsgWithdrawBalance) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let a = Address::parse(&m.address)?;
        let n = keeper::amount(&m.amount)?;
        if n == 0 {
            return Err(error::BAD_AMOUNT.with("zero"));
        }
        Ok((vec![a], (a, n)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (a, n): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let p = p(ctx)?;
        let (total, locked) = keeper::balance(ctx, a)?;
        if total - locked < *n {
            return Err(
                error::INSUFFICIENT_ESCROW.with(format!("free {}, asked {n}", total - locked))
            );
        }
        keeper::set_balance(ctx, a, total - n, locked)?;
        self.0
            .send_from_module(ctx, MARKET, a, &keeper::coins(&p, *n)?)?;
        Ok(MsgWithdrawBalanceResponse {})
    }
}

pub struct PublishDeals<B>(pub B);

pub struct CheckedPublish {
    worker: Address,
    provider: Address,
    deals: Vec<ClientDealProposal>,
    /// Each proposal's signature verdict, set by the pre-block check (or by execute).
    verdicts: OnceLock<Vec<Result<(), StoaError>>>,
}

impl<B: StorageBank> MsgHandler for PublishDeals<B> {
    type Msg = MsgPublishDeals;
    const AMINO_NAME: &'static str = "stoa/storage/MsgPublishDeals";
    type Checked = CheckedPublish;
    type Response = MsgPublishDealsResponse;

    fn check(&self, m: MsgPublishDeals) -> Result<(Vec<Address>, CheckedPublish), StoaError> {
        let worker = Address::parse(&m.worker)?;
        let provider = Address::parse(&m.provider)?;
        if m.deals.is_empty() {
            return Err(error::BAD_PROPOSAL.with("no proposals"));
        }
        Ok((
            vec![worker],
            CheckedPublish {
                worker,
                provider,
                deals: m.deals,
                verdicts: OnceLock::new(),
            },
        ))
    }

    fn has_precheck(&self) -> bool {
        true
    }

    fn precheck(&self, pre: &PreState<'_>, m: &CheckedPublish) -> Result<(), StoaError> {
        let p = pre_params(pre)?;
        if m.deals.len() > p.max_deals_per_publish as usize {
            return Err(error::TOO_MANY.with(format!("{} proposals", m.deals.len())));
        }
        let _ = m
            .verdicts
            .set(m.deals.iter().map(market::signature_ok).collect());
        Ok(())
    }

    fn execute(&self, ctx: &mut Ctx<'_>, m: &CheckedPublish) -> Result<Self::Response, StoaError> {
        let p = p(ctx)?;
        if m.deals.len() > p.max_deals_per_publish as usize {
            return Err(error::TOO_MANY.with(format!("{} proposals", m.deals.len())));
        }
        let provider = miner::worker_provider(ctx, &m.provider, &m.worker)?;
        let verdicts = m
            .verdicts
            .get_or_init(|| m.deals.iter().map(market::signature_ok).collect());
        let mut results = Vec::with_capacity(m.deals.len());
        for (c, verdict) in m.deals.iter().zip(verdicts) {
            let out = verdict.clone().and_then(|_| {
                let prop = c.proposal.clone().unwrap_or_default();
                ctx.branch(|ctx| {
                    market::publish_one(&self.0, ctx, &p, &m.provider, &provider, &prop)
                })
            });
            results.push(match out {
                Ok(id) => PublishResult {
                    deal_id: id,
                    ..Default::default()
                },
                Err(e) => PublishResult {
                    deal_id: 0,
                    codespace: e.codespace.to_string(),
                    code: e.code,
                    log: e.log.clone(),
                },
            });
        }
        Ok(MsgPublishDealsResponse { results })
    }
}

pub struct SettleDealPayments;

impl MsgHandler for SettleDealPayments {
    type Msg = MsgSettleDealPayments;
    const AMINO_NAME: &'static str = "stoa/storage/MsgSettleDealPayments";
    type Checked = (Address, Vec<u64>);
    type Response = MsgSettleDealPaymentsResponse;

    fn check(&self, m: MsgSettleDealPayments) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let s = Address::parse(&m.sender)?;
        if m.deal_ids.is_empty() || m.deal_ids.len() > 1024 {
            return Err(error::TOO_MANY.with("1 to 1024 deals"));
        }
        Ok((vec![s], (s, m.deal_ids)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (_, ids): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        for id in ids {
            market::settle_by_id(ctx, *id)?;
        }
        Ok(MsgSettleDealPaymentsResponse {})
    }
}

pub struct PreCommitSector<B>(pub B);

impl<B: StorageBank> MsgHandler for PreCommitSector<B> {
    type Msg = MsgPreCommitSector;
    const AMINO_NAME: &'static str = "stoa/storage/MsgPreCommitSector";
    type Checked = (Address, PreCommitArgs);
    type Response = MsgPreCommitSectorResponse;

    fn check(&self, m: MsgPreCommitSector) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let worker = Address::parse(&m.worker)?;
        let args = PreCommitArgs {
            provider: Address::parse(&m.provider)?,
            sector_number: m.sector_number,
            comm_r: miner::node(&m.comm_r)?,
            comm_d: miner::node(&m.comm_d)?,
            deal_ids: m.deal_ids,
            seal_rand_time: m.seal_rand_time,
            expiration: m.expiration,
        };
        Ok((vec![worker], (worker, args)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (worker, a): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let p = p(ctx)?;
        miner::worker_provider(ctx, &a.provider, worker)?;
        miner::precommit(&self.0, ctx, &p, a)?;
        Ok(MsgPreCommitSectorResponse {})
    }
}

pub struct ProveCommitSector<B>(pub B);

impl<B: StorageBank> MsgHandler for ProveCommitSector<B> {
    type Msg = MsgProveCommitSector;
    const AMINO_NAME: &'static str = "stoa/storage/MsgProveCommitSector";
    type Checked = (Address, Address, u64, Vec<u8>, u32);
    type Response = MsgProveCommitSectorResponse;

    fn check(&self, m: MsgProveCommitSector) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let worker = Address::parse(&m.worker)?;
        let provider = Address::parse(&m.provider)?;
        Ok((
            vec![worker],
            (worker, provider, m.sector_number, m.proof, m.partition),
        ))
    }

    fn has_precheck(&self) -> bool {
        true
    }

    /// The PoRep against the pre-commit as it stood before the block (its seed is drawn in
    /// end block, so no tx of this block changes it).
    fn precheck(
        &self,
        pre: &PreState<'_>,
        (_, provider, n, proof, partition): &Self::Checked,
    ) -> Result<(), StoaError> {
        let pc = PRECOMMITS
            .peek(pre.state, &(*provider, *n))?
            .ok_or_else(|| error::UNKNOWN_PRECOMMIT.with(format!("sector {n}")))?;
        let info = miner::seal_verify_info(provider, &pc)?;
        let part = miner::porep_partition(&pc, *partition)?;
        stoa_prover::verify_porep_partition_bytes(&info, &part, proof).map_err(|e| {
            error::INVALID_PROOF.with(format!("sector {n} partition {partition}: {e}"))
        })
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (worker, provider, n, _, partition): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let p = p(ctx)?;
        miner::worker_provider(ctx, provider, worker)?;
        let (activated, partitions_proven, partitions) =
            miner::prove_commit(&self.0, ctx, &p, provider, *n, *partition)?;
        Ok(MsgProveCommitSectorResponse {
            activated,
            partitions_proven,
            partitions,
        })
    }
}

pub struct SubmitWindowPoSt;

fn deadline_sectors(
    state: &stoa_framework::State,
    provider: &Address,
    deadline: u32,
) -> Result<Vec<Sector>, StoaError> {
    let list = DEADLINE_SECTORS
        .peek(state, &(*provider, u64::from(deadline)))?
        .unwrap_or_default();
    let mut out = Vec::with_capacity(list.len());
    for n in list {
        if let Some(s) = SECTORS.peek(state, &(*provider, n))? {
            out.push(s);
        }
    }
    Ok(out)
}

impl MsgHandler for SubmitWindowPoSt {
    type Msg = MsgSubmitWindowPoSt;
    const AMINO_NAME: &'static str = "stoa/storage/MsgSubmitWindowPoSt";
    type Checked = (Address, Address, u32, WindowPoStProof);
    type Response = MsgSubmitWindowPoStResponse;

    fn check(&self, m: MsgSubmitWindowPoSt) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let worker = Address::parse(&m.worker)?;
        let provider = Address::parse(&m.provider)?;
        let proof = WindowPoStProof::decode(m.proof.as_slice())
            .map_err(|e| error::INVALID_PROOF.with(format!("undecodable: {e}")))?;
        Ok((vec![worker], (worker, provider, m.deadline, proof)))
    }

    fn has_precheck(&self) -> bool {
        true
    }

    fn precheck(
        &self,
        pre: &PreState<'_>,
        (_, provider, deadline, proof): &Self::Checked,
    ) -> Result<(), StoaError> {
        let rand = DEADLINE_RAND
            .peek(pre.state, &(*provider, u64::from(*deadline)))?
            .ok_or_else(|| {
                error::POST_OUTSIDE_WINDOW.with(format!("deadline {deadline} has no challenge yet"))
            })?;
        let sectors = deadline_sectors(pre.state, provider, *deadline)?;
        let expected = miner::expected_sectors(&sectors, rand.open);
        stoa_prover::verify_window_post(&miner::node(&rand.randomness)?, &expected, proof)
            .map_err(|e| error::INVALID_PROOF.with(format!("window PoSt: {e}")))?;
        Ok(())
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (worker, provider, deadline, proof): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let p = p(ctx)?;
        miner::worker_provider(ctx, provider, worker)?;
        let rand = DEADLINE_RAND
            .get(ctx, &(*provider, u64::from(*deadline)))?
            .ok_or_else(|| error::POST_OUTSIDE_WINDOW.with(format!("deadline {deadline}")))?;
        // Earlier txs of the block may have changed the deadline's sectors: the proof must
        // still cover exactly the expected set (its proofs were verified before the block).
        let sectors = deadline_sectors(ctx.state(), provider, *deadline)?;
        let expected: Vec<u64> = miner::expected_sectors(&sectors, rand.open)
            .iter()
            .map(|s| s.sector_number)
            .collect();
        let proven: Vec<u64> = proof.sectors.iter().map(|s| s.sector_number).collect();
        let mut covered: Vec<u64> = proven
            .iter()
            .chain(&proof.faulty_sectors)
            .copied()
            .collect();
        covered.sort_unstable();
        let mut want = expected.clone();
        want.sort_unstable();
        if covered != want {
            return Err(error::INVALID_PROOF.with("the deadline's sectors changed in this block"));
        }
        miner::apply_post(ctx, &p, provider, *deadline, &proven, &proof.faulty_sectors)?;
        Ok(MsgSubmitWindowPoStResponse {})
    }
}

pub struct DeclareFaults;

impl MsgHandler for DeclareFaults {
    type Msg = MsgDeclareFaults;
    const AMINO_NAME: &'static str = "stoa/storage/MsgDeclareFaults";
    type Checked = (Address, Address, Vec<u64>);
    type Response = MsgDeclareFaultsResponse;

    fn check(&self, m: MsgDeclareFaults) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let worker = Address::parse(&m.worker)?;
        Ok((
            vec![worker],
            (worker, Address::parse(&m.provider)?, m.sector_numbers),
        ))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (worker, provider, ns): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let p = p(ctx)?;
        let mut prov = miner::worker_provider(ctx, provider, worker)?;
        for n in ns {
            miner::declare_fault(ctx, &p, provider, &mut prov, *n)?;
        }
        PROVIDERS.save(ctx, provider, &prov)?;
        Ok(MsgDeclareFaultsResponse {})
    }
}

pub struct DeclareFaultsRecovered;

impl MsgHandler for DeclareFaultsRecovered {
    type Msg = MsgDeclareFaultsRecovered;
    const AMINO_NAME: &'static str = "stoa/storage/MsgDeclareFaultsRecovered";
    type Checked = (Address, Address, Vec<u64>);
    type Response = MsgDeclareFaultsRecoveredResponse;

    fn check(
        &self,
        m: MsgDeclareFaultsRecovered,
    ) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let worker = Address::parse(&m.worker)?;
        if m.sector_numbers.is_empty() || m.sector_numbers.len() > 1024 {
            return Err(error::TOO_MANY.with("1 to 1024 sectors"));
        }
        Ok((
            vec![worker],
            (worker, Address::parse(&m.provider)?, m.sector_numbers),
        ))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (worker, provider, ns): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let p = p(ctx)?;
        let prov = miner::worker_provider(ctx, provider, worker)?;
        for n in ns {
            miner::declare_recovered(ctx, &p, provider, &prov, *n)?;
        }
        Ok(MsgDeclareFaultsRecoveredResponse {})
    }
}

pub struct TerminateSectors<B>(pub B);

impl<B: StorageBank> MsgHandler for TerminateSectors<B> {
    type Msg = MsgTerminateSectors;
    const AMINO_NAME: &'static str = "stoa/storage/MsgTerminateSectors";
    type Checked = (Address, Address, Vec<u64>);
    type Response = MsgTerminateSectorsResponse;

    fn check(&self, m: MsgTerminateSectors) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let worker = Address::parse(&m.worker)?;
        Ok((
            vec![worker],
            (worker, Address::parse(&m.provider)?, m.sector_numbers),
        ))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (worker, provider, ns): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let p = p(ctx)?;
        miner::worker_provider(ctx, provider, worker)?;
        for n in ns {
            miner::terminate(&self.0, ctx, &p, provider, *n, "terminated by its provider")?;
        }
        Ok(MsgTerminateSectorsResponse {})
    }
}

pub struct ExtendSectorExpiration;

impl MsgHandler for ExtendSectorExpiration {
    type Msg = MsgExtendSectorExpiration;
    const AMINO_NAME: &'static str = "stoa/storage/MsgExtendSectorExpiration";
    type Checked = (Address, Address, Vec<u64>, i64);
    type Response = MsgExtendSectorExpirationResponse;

    fn check(
        &self,
        m: MsgExtendSectorExpiration,
    ) -> Result<(Vec<Address>, Self::Checked), StoaError> {
        let worker = Address::parse(&m.worker)?;
        let provider = Address::parse(&m.provider)?;
        Ok((
            vec![worker],
            (worker, provider, m.sector_numbers, m.new_expiration),
        ))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (worker, provider, ns, exp): &Self::Checked,
    ) -> Result<Self::Response, StoaError> {
        let p = p(ctx)?;
        miner::worker_provider(ctx, provider, worker)?;
        for n in ns {
            miner::extend(ctx, &p, provider, *n, *exp)?;
        }
        Ok(MsgExtendSectorExpirationResponse {})
    }
}

pub struct WithdrawRewards<B>(pub B);

impl<B: StorageBank> MsgHandler for WithdrawRewards<B> {
    type Msg = MsgWithdrawRewards;
    const AMINO_NAME: &'static str = "stoa/storage/MsgWithdrawRewards";
    type Checked = Address;
    type Response = MsgWithdrawRewardsResponse;

    fn check(&self, m: MsgWithdrawRewards) -> Result<(Vec<Address>, Address), StoaError> {
        let owner = Address::parse(&m.owner)?;
        Ok((vec![owner], owner))
    }

    fn execute(&self, ctx: &mut Ctx<'_>, owner: &Address) -> Result<Self::Response, StoaError> {
        let p = p(ctx)?;
        let mut prov = miner::load_provider(ctx, owner)?;
        let (liquid, vesting, vested) = rewards::withdraw(&self.0, ctx, &p, owner)?;
        prov.rewards_paid = keeper::add(
            keeper::amount(&prov.rewards_paid)?,
            keeper::add(liquid, vested)?,
        )?
        .to_string();
        PROVIDERS.save(ctx, owner, &prov)?;
        Ok(MsgWithdrawRewardsResponse {
            liquid: liquid.to_string(),
            vesting: vesting.to_string(),
            vested_paid: vested.to_string(),
        })
    }
}
