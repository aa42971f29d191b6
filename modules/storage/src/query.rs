//! The storage module's queries (`stoa.storage.v1.Query`), served over ABCI and gRPC by the
//! router: params, providers, escrow balances, deals (filtered, paginated), sectors,
//! pre-commits, deadlines, network power, rewards and the seal randomness of a time.

use crate::economics;
use crate::keeper;
use crate::miner;
use crate::params::StorageParams;
use crate::rewards;
use crate::state::*;
use stoa_framework::{params, sdk, Address, Ctx, Registrar, StoaError};
use stoa_proto::storage::v1 as pb;

pub fn register(r: &mut Registrar) {
    r.query("/stoa.storage.v1.Query/Params", query_params)
        .query("/stoa.storage.v1.Query/Providers", providers)
        .query("/stoa.storage.v1.Query/Provider", provider)
        .query("/stoa.storage.v1.Query/Balance", balance)
        .query("/stoa.storage.v1.Query/Deals", deals)
        .query("/stoa.storage.v1.Query/Deal", deal)
        .query("/stoa.storage.v1.Query/Sectors", sectors)
        .query("/stoa.storage.v1.Query/PreCommit", precommit)
        .query("/stoa.storage.v1.Query/Deadlines", deadlines)
        .query("/stoa.storage.v1.Query/Power", power)
        .query("/stoa.storage.v1.Query/Rewards", query_rewards)
        .query("/stoa.storage.v1.Query/SealRandomness", seal_randomness);
}

fn query_params(
    ctx: &mut Ctx<'_>,
    _: pb::QueryParamsRequest,
) -> Result<pb::QueryParamsResponse, StoaError> {
    let p = params::load::<StorageParams>(ctx)?;
    Ok(pb::QueryParamsResponse {
        params: Some(pb::Params {
            json: serde_json::to_string(&*p).unwrap_or_default(),
        }),
    })
}

fn providers(
    ctx: &mut Ctx<'_>,
    req: pb::QueryProvidersRequest,
) -> Result<pb::QueryProvidersResponse, StoaError> {
    let (page, pagination) = PROVIDERS.paginate(ctx, req.pagination.as_ref())?;
    Ok(pb::QueryProvidersResponse {
        providers: page.into_iter().map(|(_, v)| v).collect(),
        pagination: Some(pagination),
    })
}

fn provider(
    ctx: &mut Ctx<'_>,
    req: pb::QueryProviderRequest,
) -> Result<pb::QueryProviderResponse, StoaError> {
    let a = Address::parse(&req.provider)?;
    let p = PROVIDERS
        .get(ctx, &a)?
        .ok_or_else(|| sdk::NOT_FOUND.with(format!("provider {a}")))?;
    // A provider's pre-commits and sectors are few enough to count here (queries only).
    let precommitted = PRECOMMITS
        .prefix_iter(ctx, &a, stoa_framework::Order::Ascending)
        .count() as u64;
    let mut recovering = 0u64;
    for item in SECTORS.prefix_iter(ctx, &a, stoa_framework::Order::Ascending) {
        if item?.1.recovering {
            recovering += 1;
        }
    }
    Ok(pb::QueryProviderResponse {
        provider: Some(p),
        escrow: ESCROW.get(ctx, &a)?,
        pending_rewards: rewards::pending(ctx, &a)?.to_string(),
        vesting: rewards::vesting_of(ctx, &a)?.to_string(),
        precommitted_sectors: precommitted,
        recovering_sectors: recovering,
    })
}

fn balance(
    ctx: &mut Ctx<'_>,
    req: pb::QueryBalanceRequest,
) -> Result<pb::QueryBalanceResponse, StoaError> {
    let a = Address::parse(&req.address)?;
    let (total, locked) = keeper::balance(ctx, &a)?;
    Ok(pb::QueryBalanceResponse {
        balance: Some(pb::EscrowBalance {
            address: a.to_string(),
            total: total.to_string(),
            locked: locked.to_string(),
        }),
    })
}

fn deals(
    ctx: &mut Ctx<'_>,
    req: pb::QueryDealsRequest,
) -> Result<pb::QueryDealsResponse, StoaError> {
    let (page, pagination) = if !req.client.is_empty() {
        let c = Address::parse(&req.client)?.to_string();
        DEALS.paginate_by(ctx, &DEALS_BY_CLIENT, &c, req.pagination.as_ref())?
    } else if !req.provider.is_empty() {
        let pr = Address::parse(&req.provider)?.to_string();
        DEALS.paginate_by(ctx, &DEALS_BY_PROVIDER, &pr, req.pagination.as_ref())?
    } else {
        DEALS.map().paginate(ctx, req.pagination.as_ref())?
    };
    // Further filters apply within the page (a page may then hold fewer than its limit).
    let provider = req.provider.clone();
    let deals = page
        .into_iter()
        .map(|(_, d)| d)
        .filter(|d| req.state == 0 || d.state == req.state)
        .filter(|d| {
            provider.is_empty() || d.proposal.as_ref().is_some_and(|p| p.provider == provider)
        })
        .collect();
    Ok(pb::QueryDealsResponse {
        deals,
        pagination: Some(pagination),
    })
}

fn deal(ctx: &mut Ctx<'_>, req: pb::QueryDealRequest) -> Result<pb::QueryDealResponse, StoaError> {
    let d = DEALS
        .get(ctx, &req.id)?
        .ok_or_else(|| sdk::NOT_FOUND.with(format!("deal {}", req.id)))?;
    Ok(pb::QueryDealResponse { deal: Some(d) })
}

fn sectors(
    ctx: &mut Ctx<'_>,
    req: pb::QuerySectorsRequest,
) -> Result<pb::QuerySectorsResponse, StoaError> {
    let a = Address::parse(&req.provider)?;
    let (page, pagination) = SECTORS.paginate_prefix(ctx, &a, req.pagination.as_ref())?;
    Ok(pb::QuerySectorsResponse {
        sectors: page.into_iter().map(|(_, s)| s).collect(),
        pagination: Some(pagination),
    })
}

fn precommit(
    ctx: &mut Ctx<'_>,
    req: pb::QueryPreCommitRequest,
) -> Result<pb::QueryPreCommitResponse, StoaError> {
    let a = Address::parse(&req.provider)?;
    let pc = PRECOMMITS
        .get(ctx, &(a, req.sector_number))?
        .ok_or_else(|| sdk::NOT_FOUND.with(format!("pre-commit {}", req.sector_number)))?;
    Ok(pb::QueryPreCommitResponse {
        pre_commit: Some(pc),
    })
}

fn deadlines(
    ctx: &mut Ctx<'_>,
    req: pb::QueryDeadlinesRequest,
) -> Result<pb::QueryDeadlinesResponse, StoaError> {
    let a = Address::parse(&req.provider)?;
    let prov = PROVIDERS
        .get(ctx, &a)?
        .ok_or_else(|| sdk::NOT_FOUND.with(format!("provider {a}")))?;
    let p = params::load::<StorageParams>(ctx)?;
    let now = ctx.block_time();
    let mut out = Vec::with_capacity(p.deadlines as usize);
    let mut current = 0;
    for i in 0..p.deadlines {
        let (open, close) = miner::current_or_next_window(&p, prov.proving_period_start, i, now);
        let rand = DEADLINE_RAND
            .get(ctx, &(a, u64::from(i)))?
            .unwrap_or_default();
        let is_open = open <= now && now < close;
        if is_open {
            current = i;
        }
        let sectors = DEADLINE_SECTORS
            .get(ctx, &(a, u64::from(i)))?
            .unwrap_or_default();
        let mut challenged = Vec::new();
        for n in &sectors {
            if let Some(s) = SECTORS.get(ctx, &(a, *n))? {
                if miner::challenged(&s, open) {
                    challenged.push(*n);
                }
            }
        }
        out.push(pb::DeadlineInfo {
            index: i,
            open,
            close,
            randomness: rand.randomness,
            randomness_for_open: rand.open,
            sectors,
            is_open,
            challenged,
        });
    }
    Ok(pb::QueryDeadlinesResponse {
        deadlines: out,
        current,
        now,
    })
}

fn power(ctx: &mut Ctx<'_>, _: pb::QueryPowerRequest) -> Result<pb::QueryPowerResponse, StoaError> {
    Ok(pb::QueryPowerResponse {
        power: Some(POWER.get(ctx)?.unwrap_or_default()),
    })
}

fn query_rewards(
    ctx: &mut Ctx<'_>,
    _: pb::QueryRewardsRequest,
) -> Result<pb::QueryRewardsResponse, StoaError> {
    let st = REWARDS.get(ctx)?.unwrap_or_default();
    let p = params::load::<StorageParams>(ctx)?;
    let t = economics::chain_age(ctx)?;
    let per_second =
        economics::simple_minted(&p, t + 1)?.saturating_sub(economics::simple_minted(&p, t)?);
    Ok(pb::QueryRewardsResponse {
        minted_simple: st.minted_simple,
        minted_baseline: st.minted_baseline,
        reward_per_second_now: per_second.to_string(),
        last_block_reward: st.last_block_reward,
        baseline_power: economics::baseline_power(&p, t)?.to_string(),
    })
}

fn seal_randomness(
    ctx: &mut Ctx<'_>,
    req: pb::QuerySealRandomnessRequest,
) -> Result<pb::QuerySealRandomnessResponse, StoaError> {
    let r = ctx
        .randomness_at(miner::TICKET_DOMAIN, req.time)?
        .ok_or_else(|| sdk::NOT_FOUND.with(format!("no randomness for time {}", req.time)))?;
    Ok(pb::QuerySealRandomnessResponse { ticket: r.to_vec() })
}
