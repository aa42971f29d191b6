//! The module's queries (`stoa.intelligence.v1.Query`), served over ABCI and gRPC by the
//! router: params, subnets, one subnet with its current burn, a paginated metagraph, a neuron,
//! a coldkey's stakes, the delegates and the issuance.

use crate::emission::elapsed;
use crate::handler::stakes_of;
use crate::issuance::{issuance_due, reward_per_12s};
use crate::keeper::stake_value;
use crate::params::IntelligenceParams;
use crate::state::{DELEGATES, ISSUED, NEURONS, SUBNETS};
use crate::subnet::{current_burn, netuid};
use stoa_framework::{params, sdk, Address, Ctx, Order, Registrar, StoaError};
use stoa_proto::intelligence::v1 as pb;

pub fn register(r: &mut Registrar) {
    r.query("/stoa.intelligence.v1.Query/Params", query_params)
        .query("/stoa.intelligence.v1.Query/Subnets", subnets)
        .query("/stoa.intelligence.v1.Query/Subnet", subnet)
        .query("/stoa.intelligence.v1.Query/Metagraph", metagraph)
        .query("/stoa.intelligence.v1.Query/Neuron", neuron)
        .query("/stoa.intelligence.v1.Query/Stake", stake)
        .query("/stoa.intelligence.v1.Query/Delegates", delegates)
        .query("/stoa.intelligence.v1.Query/Issuance", issuance);
}

fn query_params(
    ctx: &mut Ctx<'_>,
    _: pb::QueryParamsRequest,
) -> Result<pb::QueryParamsResponse, StoaError> {
    let p = params::load::<IntelligenceParams>(ctx)?;
    Ok(pb::QueryParamsResponse {
        params_json: serde_json::to_string(&*p)
            .map_err(|e| sdk::JSON_MARSHAL.with(e.to_string()))?,
    })
}

fn subnets(
    ctx: &mut Ctx<'_>,
    _: pb::QuerySubnetsRequest,
) -> Result<pb::QuerySubnetsResponse, StoaError> {
    let subnets = SUBNETS
        .iter(ctx, Order::Ascending)
        .map(|r| r.map(|(_, s)| s))
        .collect::<Result<_, _>>()?;
    Ok(pb::QuerySubnetsResponse { subnets })
}

fn subnet(
    ctx: &mut Ctx<'_>,
    req: pb::QuerySubnetRequest,
) -> Result<pb::QuerySubnetResponse, StoaError> {
    let net = netuid(req.netuid)?;
    let s = SUBNETS
        .get(ctx, &net)?
        .ok_or_else(|| sdk::NOT_FOUND.with(format!("subnet {net}")))?;
    let current = current_burn(&s, ctx.height())?;
    Ok(pb::QuerySubnetResponse {
        subnet: Some(s),
        current_burn: current,
    })
}

fn with_stake(ctx: &mut Ctx<'_>, mut n: pb::Neuron) -> Result<pb::Neuron, StoaError> {
    let hk = Address::parse(&n.hotkey)?;
    n.stake = DELEGATES.get(ctx, &hk)?.map(|d| d.total_stake).unwrap_or(0);
    Ok(n)
}

fn metagraph(
    ctx: &mut Ctx<'_>,
    req: pb::QueryMetagraphRequest,
) -> Result<pb::QueryMetagraphResponse, StoaError> {
    let net = netuid(req.netuid)?;
    if !SUBNETS.has(ctx, &net)? {
        return Err(sdk::NOT_FOUND.with(format!("subnet {net}")));
    }
    let (page, pagination) = NEURONS.paginate_prefix(ctx, &net, req.pagination.as_ref())?;
    let neurons = page
        .into_iter()
        .map(|(_, n)| with_stake(ctx, n))
        .collect::<Result<_, _>>()?;
    Ok(pb::QueryMetagraphResponse {
        neurons,
        pagination: Some(pagination),
    })
}

fn neuron(
    ctx: &mut Ctx<'_>,
    req: pb::QueryNeuronRequest,
) -> Result<pb::QueryNeuronResponse, StoaError> {
    let net = netuid(req.netuid)?;
    let uid = u16::try_from(req.uid).map_err(|_| sdk::NOT_FOUND.with("uid"))?;
    let n = NEURONS
        .get(ctx, &(net, uid))?
        .ok_or_else(|| sdk::NOT_FOUND.with(format!("neuron {net}/{uid}")))?;
    Ok(pb::QueryNeuronResponse {
        neuron: Some(with_stake(ctx, n)?),
    })
}

fn stake(
    ctx: &mut Ctx<'_>,
    req: pb::QueryStakeRequest,
) -> Result<pb::QueryStakeResponse, StoaError> {
    let coldkey = Address::parse(&req.coldkey)?;
    let mut stakes = Vec::new();
    for (hk, shares) in stakes_of(ctx, &coldkey)? {
        let d = DELEGATES.get(ctx, &hk)?.unwrap_or_default();
        stakes.push(pb::StakeEntry {
            coldkey: coldkey.to_string(),
            hotkey: hk.to_string(),
            shares: shares.to_string(),
            amount: u64::try_from(stake_value(&d, shares)?).unwrap_or(u64::MAX),
        });
    }
    Ok(pb::QueryStakeResponse { stakes })
}

fn delegates(
    ctx: &mut Ctx<'_>,
    _: pb::QueryDelegatesRequest,
) -> Result<pb::QueryDelegatesResponse, StoaError> {
    let delegates = DELEGATES
        .iter(ctx, Order::Ascending)
        .map(|r| r.map(|(_, d)| d))
        .collect::<Result<_, _>>()?;
    Ok(pb::QueryDelegatesResponse { delegates })
}

fn issuance(
    ctx: &mut Ctx<'_>,
    _: pb::QueryIssuanceRequest,
) -> Result<pb::QueryIssuanceResponse, StoaError> {
    let t = elapsed(ctx)?.unwrap_or(0);
    Ok(pb::QueryIssuanceResponse {
        issued: ISSUED.get(ctx)?.unwrap_or(0) as u64,
        due: issuance_due(t) as u64,
        reward_per_12s: reward_per_12s(t) as u64,
    })
}
