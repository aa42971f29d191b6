//! The bank's queries, with Cosmos SDK's request and response types:
//! `cosmos.bank.v1beta1.Query/{Balance,AllBalances,SupplyOf,TotalSupply,Params}` and
//! `cosmos.auth.v1beta1.Query/{Account,AccountInfo}` (a missing account is `NOT_FOUND`, gRPC
//! `NotFound`, which cosmjs's `getAccount` reads as null).

use crate::keeper::{AuthKeeper, BankKeeper, BankView};
use crate::params::BankParams;
use crate::state::{BALANCES, SUPPLY};
use cosmrs::proto::cosmos::auth::v1beta1::{
    QueryAccountInfoRequest, QueryAccountInfoResponse, QueryAccountRequest, QueryAccountResponse,
};
use cosmrs::proto::cosmos::bank::v1beta1 as pb;
use cosmrs::proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use stoa_framework::{params, sdk, validate_denom, Address, Ctx, Registrar, StoaError};

fn coin(denom: &str, amount: u128) -> ProtoCoin {
    ProtoCoin {
        denom: denom.to_string(),
        amount: amount.to_string(),
    }
}

pub fn register(r: &mut Registrar) {
    r.query("/cosmos.bank.v1beta1.Query/Balance", balance)
        .query("/cosmos.bank.v1beta1.Query/AllBalances", all_balances)
        .query("/cosmos.bank.v1beta1.Query/SupplyOf", supply_of)
        .query("/cosmos.bank.v1beta1.Query/TotalSupply", total_supply)
        .query("/cosmos.bank.v1beta1.Query/Params", bank_params)
        .query("/cosmos.auth.v1beta1.Query/Account", account)
        .query("/cosmos.auth.v1beta1.Query/AccountInfo", account_info);
}

fn balance(
    ctx: &mut Ctx<'_>,
    req: pb::QueryBalanceRequest,
) -> Result<pb::QueryBalanceResponse, StoaError> {
    let addr = Address::parse(&req.address)?;
    validate_denom(&req.denom)?;
    let amount = BankKeeper.balance(ctx, &addr, &req.denom)?;
    Ok(pb::QueryBalanceResponse {
        balance: Some(coin(&req.denom, amount)),
    })
}

fn all_balances(
    ctx: &mut Ctx<'_>,
    req: pb::QueryAllBalancesRequest,
) -> Result<pb::QueryAllBalancesResponse, StoaError> {
    let addr = Address::parse(&req.address)?;
    let (page, pagination) = BALANCES.paginate_prefix(ctx, &addr, req.pagination.as_ref())?;
    Ok(pb::QueryAllBalancesResponse {
        balances: page.iter().map(|((_, d), a)| coin(d, *a)).collect(),
        pagination: Some(pagination),
    })
}

fn supply_of(
    ctx: &mut Ctx<'_>,
    req: pb::QuerySupplyOfRequest,
) -> Result<pb::QuerySupplyOfResponse, StoaError> {
    validate_denom(&req.denom)?;
    let amount = BankKeeper.supply_of(ctx, &req.denom)?;
    Ok(pb::QuerySupplyOfResponse {
        amount: Some(coin(&req.denom, amount)),
    })
}

fn total_supply(
    ctx: &mut Ctx<'_>,
    req: pb::QueryTotalSupplyRequest,
) -> Result<pb::QueryTotalSupplyResponse, StoaError> {
    let (page, pagination) = SUPPLY.paginate(ctx, req.pagination.as_ref())?;
    Ok(pb::QueryTotalSupplyResponse {
        supply: page.iter().map(|(d, a)| coin(d, *a)).collect(),
        pagination: Some(pagination),
    })
}

fn bank_params(
    ctx: &mut Ctx<'_>,
    _req: pb::QueryParamsRequest,
) -> Result<pb::QueryParamsResponse, StoaError> {
    let p = params::load::<BankParams>(ctx)?;
    #[allow(deprecated)]
    let params = pb::Params {
        send_enabled: vec![],
        default_send_enabled: p.send_enabled,
    };
    Ok(pb::QueryParamsResponse {
        params: Some(params),
    })
}

fn account_info(
    ctx: &mut Ctx<'_>,
    req: QueryAccountInfoRequest,
) -> Result<QueryAccountInfoResponse, StoaError> {
    let addr = Address::parse(&req.address)?;
    let acc = BankKeeper
        .account(ctx, &addr)?
        .ok_or_else(|| sdk::NOT_FOUND.with(format!("account {addr} not found")))?;
    Ok(QueryAccountInfoResponse {
        info: Some(acc.to_proto()),
    })
}

fn account(ctx: &mut Ctx<'_>, req: QueryAccountRequest) -> Result<QueryAccountResponse, StoaError> {
    let addr = Address::parse(&req.address)?;
    let acc = BankKeeper
        .account(ctx, &addr)?
        .ok_or_else(|| sdk::NOT_FOUND.with(format!("account {addr} not found")))?;
    Ok(QueryAccountResponse {
        account: Some(acc.to_any()),
    })
}
