//! The bank's queries, by gRPC method path, with Cosmos SDK's request and response types:
//! `cosmos.bank.v1beta1.Query/{Balance,AllBalances,SupplyOf,TotalSupply,Params}` and
//! `cosmos.auth.v1beta1.Query/Account`.

use crate::keeper::BankKeeper;
use crate::state;
use cosmrs::proto::cosmos::auth::v1beta1::{QueryAccountRequest, QueryAccountResponse};
use cosmrs::proto::cosmos::bank::v1beta1 as pb;
use cosmrs::proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};
use cosmrs::proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use prost::Message;
use stoa_framework::{sdk, validate_denom, Address, Ctx, StoaError};

pub const BALANCE: &str = "/cosmos.bank.v1beta1.Query/Balance";
pub const ALL_BALANCES: &str = "/cosmos.bank.v1beta1.Query/AllBalances";
pub const SUPPLY_OF: &str = "/cosmos.bank.v1beta1.Query/SupplyOf";
pub const TOTAL_SUPPLY: &str = "/cosmos.bank.v1beta1.Query/TotalSupply";
pub const PARAMS: &str = "/cosmos.bank.v1beta1.Query/Params";
pub const ACCOUNT: &str = "/cosmos.auth.v1beta1.Query/Account";

pub const PATHS: &[&str] = &[
    BALANCE,
    ALL_BALANCES,
    SUPPLY_OF,
    TOTAL_SUPPLY,
    PARAMS,
    ACCOUNT,
];

fn decode<M: Message + Default>(raw: &[u8]) -> Result<M, StoaError> {
    M::decode(raw).map_err(|e| sdk::TX_DECODE.with(format!("query request: {e}")))
}

fn coin(denom: &str, amount: u128) -> ProtoCoin {
    ProtoCoin {
        denom: denom.to_string(),
        amount: amount.to_string(),
    }
}

pub fn query(ctx: &mut Ctx<'_>, path: &str, raw: &[u8]) -> Result<Vec<u8>, StoaError> {
    match path {
        BALANCE => {
            let req: pb::QueryBalanceRequest = decode(raw)?;
            let addr = Address::parse(&req.address)?;
            validate_denom(&req.denom)?;
            let amount = BankKeeper::balance(ctx, &addr, &req.denom)?;
            Ok(pb::QueryBalanceResponse {
                balance: Some(coin(&req.denom, amount)),
            }
            .encode_to_vec())
        }
        ALL_BALANCES => {
            let req: pb::QueryAllBalancesRequest = decode(raw)?;
            let addr = Address::parse(&req.address)?;
            let all = state::read_balances(ctx, &addr)?;
            let (page, pagination) =
                paginate(all, req.pagination.as_ref(), |(d, _)| d.as_bytes().to_vec());
            let balances = page.iter().map(|(d, a)| coin(d, *a)).collect();
            Ok(pb::QueryAllBalancesResponse {
                balances,
                pagination: Some(pagination),
            }
            .encode_to_vec())
        }
        SUPPLY_OF => {
            let req: pb::QuerySupplyOfRequest = decode(raw)?;
            validate_denom(&req.denom)?;
            let amount = BankKeeper::supply_of(ctx, &req.denom)?;
            Ok(pb::QuerySupplyOfResponse {
                amount: Some(coin(&req.denom, amount)),
            }
            .encode_to_vec())
        }
        TOTAL_SUPPLY => {
            let req: pb::QueryTotalSupplyRequest = decode(raw)?;
            let all = state::read_all_supply(ctx)?;
            let (page, pagination) =
                paginate(all, req.pagination.as_ref(), |(d, _)| d.as_bytes().to_vec());
            let supply = page.iter().map(|(d, a)| coin(d, *a)).collect();
            Ok(pb::QueryTotalSupplyResponse {
                supply,
                pagination: Some(pagination),
            }
            .encode_to_vec())
        }
        PARAMS => {
            let p = state::read_params(ctx)?;
            #[allow(deprecated)]
            let params = pb::Params {
                send_enabled: vec![],
                default_send_enabled: p.send_enabled,
            };
            Ok(pb::QueryParamsResponse {
                params: Some(params),
            }
            .encode_to_vec())
        }
        ACCOUNT => {
            let req: QueryAccountRequest = decode(raw)?;
            let addr = Address::parse(&req.address)?;
            let acc = BankKeeper::account(ctx, &addr)?
                .ok_or_else(|| sdk::NOT_FOUND.with(format!("account {addr} not found")))?;
            Ok(QueryAccountResponse {
                account: Some(acc.to_any()),
            }
            .encode_to_vec())
        }
        other => Err(sdk::UNKNOWN_REQUEST.with(format!("bank has no query {other}"))),
    }
}

/// Cosmos-style pagination over an ordered list: `key` resumes after the item whose sort key
/// it is, `offset` skips, `limit` caps (default 100), `count_total` fills `total`.
fn paginate<T>(
    items: Vec<T>,
    req: Option<&PageRequest>,
    sort_key: impl Fn(&T) -> Vec<u8>,
) -> (Vec<T>, PageResponse) {
    let total = items.len() as u64;
    let (key, offset, limit, count_total) = match req {
        Some(r) => (
            r.key.clone(),
            r.offset,
            if r.limit == 0 { 100 } else { r.limit },
            r.count_total,
        ),
        None => (Vec::new(), 0, 100, false),
    };
    let mut iter: Vec<T> = if key.is_empty() {
        items
            .into_iter()
            .skip(offset.min(usize::MAX as u64) as usize)
            .collect()
    } else {
        items.into_iter().filter(|t| sort_key(t) >= key).collect()
    };
    let limit = limit.min(usize::MAX as u64) as usize;
    let next_key = if iter.len() > limit {
        sort_key(&iter[limit])
    } else {
        Vec::new()
    };
    iter.truncate(limit);
    (
        iter,
        PageResponse {
            next_key,
            total: if count_total { total } else { 0 },
        },
    )
}
