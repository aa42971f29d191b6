//! The compute module's queries (`stoa.compute.v1.Query`), served over ABCI and gRPC by the
//! router: params, devices (filtered by status, GPU model, region; paginated through the most
//! selective index), one device with its health history and current challenge, orders,
//! leases (all or a renter's), one lease, a lease's jobs, stakes (by device or staker), the
//! buyback auction and the emission.

use crate::device::load_device;
use crate::emission::{emitted_by, month_amount, month_of};
use crate::heartbeat::{challenge_time, CHALLENGE_DOMAIN};
use crate::keeper::amt;
use crate::market::buyback_price;
use crate::params;
use crate::state::*;
use stoa_framework::fixed::mul_div_floor;
use stoa_framework::{sdk, Address, Ctx, Order, Registrar, StoaError};
use stoa_proto::compute::v1 as pb;

pub fn register(r: &mut Registrar) {
    r.query("/stoa.compute.v1.Query/Params", query_params)
        .query("/stoa.compute.v1.Query/Devices", devices)
        .query("/stoa.compute.v1.Query/Device", device)
        .query("/stoa.compute.v1.Query/Orders", orders)
        .query("/stoa.compute.v1.Query/Leases", leases)
        .query("/stoa.compute.v1.Query/Lease", lease)
        .query("/stoa.compute.v1.Query/Jobs", jobs)
        .query("/stoa.compute.v1.Query/Stakes", stakes)
        .query("/stoa.compute.v1.Query/Buyback", buyback)
        .query("/stoa.compute.v1.Query/Emission", emission);
}

fn query_params(
    ctx: &mut Ctx<'_>,
    _: pb::QueryParamsRequest,
) -> Result<pb::QueryParamsResponse, StoaError> {
    let p = params::load(ctx)?;
    Ok(pb::QueryParamsResponse {
        params_json: serde_json::to_string(&*p)
            .map_err(|e| sdk::JSON_MARSHAL.with(e.to_string()))?,
    })
}

fn devices(
    ctx: &mut Ctx<'_>,
    req: pb::QueryDevicesRequest,
) -> Result<pb::QueryDevicesResponse, StoaError> {
    let page = req.pagination.as_ref();
    let (list, pagination) = if !req.gpu_model.is_empty() {
        DEVICES.paginate_by(ctx, &DEVICES_BY_MODEL, &req.gpu_model, page)?
    } else if !req.status.is_empty() {
        DEVICES.paginate_by(ctx, &DEVICES_BY_STATUS, &req.status, page)?
    } else {
        DEVICES.map().paginate(ctx, page)?
    };
    let devices = list
        .into_iter()
        .map(|(_, d)| d)
        .filter(|d| req.status.is_empty() || d.status == req.status)
        .filter(|d| req.region.is_empty() || d.region == req.region)
        .collect();
    Ok(pb::QueryDevicesResponse {
        devices,
        pagination: Some(pagination),
    })
}

fn device(
    ctx: &mut Ctx<'_>,
    req: pb::QueryDeviceRequest,
) -> Result<pb::QueryDeviceResponse, StoaError> {
    let d = load_device(ctx, req.device_id)?;
    let mut history: Vec<pb::HealthSample> = HISTORY
        .prefix_iter(ctx, &req.device_id, Order::Ascending)
        .map(|r| r.map(|(_, s)| s))
        .collect::<Result<_, _>>()?;
    // The ring's slots in time order, oldest first.
    history.sort_by_key(|s| s.time);
    let p = params::load(ctx)?;
    let t = challenge_time(&p, ctx.block_time());
    let seed = ctx.randomness_at(CHALLENGE_DOMAIN, t)?;
    Ok(pb::QueryDeviceResponse {
        device: Some(d),
        history,
        challenge_time: t,
        challenge_seed: seed.map(|s| s.to_vec()).unwrap_or_default(),
    })
}

fn orders(
    ctx: &mut Ctx<'_>,
    req: pb::QueryOrdersRequest,
) -> Result<pb::QueryOrdersResponse, StoaError> {
    let (list, pagination) = ORDERS.paginate(ctx, req.pagination.as_ref())?;
    Ok(pb::QueryOrdersResponse {
        orders: list.into_iter().map(|(_, o)| o).collect(),
        pagination: Some(pagination),
    })
}

fn leases(
    ctx: &mut Ctx<'_>,
    req: pb::QueryLeasesRequest,
) -> Result<pb::QueryLeasesResponse, StoaError> {
    let page = req.pagination.as_ref();
    let (list, pagination) = if req.renter.is_empty() {
        LEASES.map().paginate(ctx, page)?
    } else {
        let renter = Address::parse(&req.renter)?.to_string();
        LEASES.paginate_by(ctx, &LEASES_BY_RENTER, &renter, page)?
    };
    Ok(pb::QueryLeasesResponse {
        leases: list.into_iter().map(|(_, l)| l).collect(),
        pagination: Some(pagination),
    })
}

fn lease(
    ctx: &mut Ctx<'_>,
    req: pb::QueryLeaseRequest,
) -> Result<pb::QueryLeaseResponse, StoaError> {
    let l = LEASES
        .get(ctx, &req.lease_id)?
        .ok_or_else(|| sdk::NOT_FOUND.with(format!("lease {}", req.lease_id)))?;
    Ok(pb::QueryLeaseResponse { lease: Some(l) })
}

fn jobs(ctx: &mut Ctx<'_>, req: pb::QueryJobsRequest) -> Result<pb::QueryJobsResponse, StoaError> {
    let (list, pagination) = JOBS.paginate_prefix(ctx, &req.lease_id, req.pagination.as_ref())?;
    Ok(pb::QueryJobsResponse {
        jobs: list.into_iter().map(|(_, j)| j).collect(),
        pagination: Some(pagination),
    })
}

fn stakes(
    ctx: &mut Ctx<'_>,
    req: pb::QueryStakesRequest,
) -> Result<pb::QueryStakesResponse, StoaError> {
    let page = req.pagination.as_ref();
    let (list, pagination) = if req.staker.is_empty() {
        STAKES.map().paginate_prefix(ctx, &req.device_id, page)?
    } else {
        let staker = Address::parse(&req.staker)?.to_string();
        STAKES.paginate_by(ctx, &STAKES_BY_STAKER, &staker, page)?
    };
    let mut out = Vec::with_capacity(list.len());
    for (_, s) in list {
        let d = load_device(ctx, s.device_id)?;
        let shares = amt(&s.shares, "shares")?;
        let amount = mul_div_floor(
            shares,
            amt(&d.co_stake, "co stake")?,
            amt(&d.co_shares, "co shares")?.max(1),
        )
        .unwrap_or(0);
        out.push(pb::StakeView {
            device_id: s.device_id,
            staker: s.staker,
            shares: s.shares,
            amount: amount.to_string(),
        });
    }
    Ok(pb::QueryStakesResponse {
        stakes: out,
        pagination: Some(pagination),
    })
}

fn buyback(
    ctx: &mut Ctx<'_>,
    _: pb::QueryBuybackRequest,
) -> Result<pb::QueryBuybackResponse, StoaError> {
    let p = params::load(ctx)?;
    let b = BUYBACK.load_or_default(ctx)?;
    let price = buyback_price(&p, &b, ctx.block_time());
    Ok(pb::QueryBuybackResponse {
        buyback: Some(b),
        price: price.to_string(),
    })
}

fn emission(
    ctx: &mut Ctx<'_>,
    _: pb::QueryEmissionRequest,
) -> Result<pb::QueryEmissionResponse, StoaError> {
    let p = params::load(ctx)?;
    let e = EMISSION.load_or_default(ctx)?;
    let since = if e.start == 0 {
        0
    } else {
        ctx.block_time() - e.start
    };
    let month = month_of(&p.emission, since);
    Ok(pb::QueryEmissionResponse {
        scheduled: emitted_by(&p.emission, since).to_string(),
        month_amount: month_amount(&p.emission, month).to_string(),
        month,
        emission: Some(e),
    })
}
