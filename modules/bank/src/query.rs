//! The bank's queries, with Cosmos SDK's request and response types:
//! `cosmos.bank.v1beta1.Query/{Balance,AllBalances,SupplyOf,TotalSupply,Params,
//! SpendableBalances,DenomMetadata,DenomsMetadata,SendEnabled}` and
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
        .query(
            "/cosmos.bank.v1beta1.Query/SpendableBalances",
            spendable_balances,
        )
        .query("/cosmos.bank.v1beta1.Query/DenomMetadata", denom_metadata)
        .query("/cosmos.bank.v1beta1.Query/DenomsMetadata", denoms_metadata)
        .query("/cosmos.bank.v1beta1.Query/SendEnabled", send_enabled)
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

/// Every balance is spendable: the bank locks nothing (escrows are module accounts).
fn spendable_balances(
    ctx: &mut Ctx<'_>,
    req: pb::QuerySpendableBalancesRequest,
) -> Result<pb::QuerySpendableBalancesResponse, StoaError> {
    let addr = Address::parse(&req.address)?;
    let (page, pagination) = BALANCES.paginate_prefix(ctx, &addr, req.pagination.as_ref())?;
    Ok(pb::QuerySpendableBalancesResponse {
        balances: page.iter().map(|((_, d), a)| coin(d, *a)).collect(),
        pagination: Some(pagination),
    })
}

/// A registered denom's metadata, from the bank's genesis params: the base unit (exponent 0)
/// and the display unit (`display` lowercased, at `exponent`), named by `display`.
fn metadata(d: &crate::params::DenomInfo) -> pb::Metadata {
    let display = d.display.to_ascii_lowercase();
    pb::Metadata {
        description: format!("{}, the base unit of {}", d.denom, d.display),
        denom_units: vec![
            pb::DenomUnit {
                denom: d.denom.clone(),
                exponent: 0,
                aliases: vec![],
            },
            pb::DenomUnit {
                denom: display.clone(),
                exponent: d.exponent,
                aliases: vec![],
            },
        ],
        base: d.denom.clone(),
        display,
        name: d.display.clone(),
        symbol: d.display.clone(),
        uri: String::new(),
        uri_hash: String::new(),
    }
}

fn denom_metadata(
    ctx: &mut Ctx<'_>,
    req: pb::QueryDenomMetadataRequest,
) -> Result<pb::QueryDenomMetadataResponse, StoaError> {
    validate_denom(&req.denom)?;
    let p = params::load::<BankParams>(ctx)?;
    let d = p.denom(&req.denom).ok_or_else(|| {
        sdk::NOT_FOUND.with(format!("client metadata for denom {} not found", req.denom))
    })?;
    Ok(pb::QueryDenomMetadataResponse {
        metadata: Some(metadata(d)),
    })
}

/// All registered denoms (a handful: one page, whatever the request asks).
fn denoms_metadata(
    ctx: &mut Ctx<'_>,
    _: pb::QueryDenomsMetadataRequest,
) -> Result<pb::QueryDenomsMetadataResponse, StoaError> {
    let p = params::load::<BankParams>(ctx)?;
    let metadatas: Vec<pb::Metadata> = p.denoms.iter().map(metadata).collect();
    Ok(pb::QueryDenomsMetadataResponse {
        pagination: Some(cosmrs::proto::cosmos::base::query::v1beta1::PageResponse {
            next_key: vec![],
            total: metadatas.len() as u64,
        }),
        metadatas,
    })
}

/// Whether sends are enabled, per denom: the bank's one switch for every registered denom
/// (all of them when none is named; a denom not registered cannot be sent).
fn send_enabled(
    ctx: &mut Ctx<'_>,
    req: pb::QuerySendEnabledRequest,
) -> Result<pb::QuerySendEnabledResponse, StoaError> {
    let p = params::load::<BankParams>(ctx)?;
    let entry = |denom: &str| pb::SendEnabled {
        denom: denom.to_string(),
        enabled: p.send_enabled && p.denom(denom).is_some(),
    };
    let send_enabled = if req.denoms.is_empty() {
        p.denoms.iter().map(|d| entry(&d.denom)).collect()
    } else {
        for d in &req.denoms {
            validate_denom(d)?;
        }
        req.denoms.iter().map(|d| entry(d)).collect()
    };
    Ok(pb::QuerySendEnabledResponse {
        send_enabled,
        pagination: None,
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
