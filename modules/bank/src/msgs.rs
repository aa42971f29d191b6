//! The bank's messages checked without state (Cosmos SDK's `ValidateBasic`): `MsgSend`.

use crate::error;
use cosmrs::proto::cosmos::bank::v1beta1::MsgSend;
use stoa_framework::{sdk, Address, Coin, Coins, StoaError};

/// A `MsgSend` after `ValidateBasic`.
pub struct Send {
    pub from: Address,
    pub to: Address,
    pub amount: Coins,
}

pub fn check_send(m: MsgSend) -> Result<Send, StoaError> {
    let from = Address::parse(&m.from_address)
        .map_err(|e| sdk::INVALID_ADDRESS.with(format!("from_address: {}", e.log)))?;
    let to = Address::parse(&m.to_address)
        .map_err(|e| sdk::INVALID_ADDRESS.with(format!("to_address: {}", e.log)))?;
    let list = m
        .amount
        .iter()
        .map(|c| Coin::from_proto(&c.denom, &c.amount))
        .collect::<Result<Vec<_>, _>>()?;
    if list.iter().any(|c| c.amount == 0) {
        return Err(sdk::INVALID_COINS.with("send amounts must be positive"));
    }
    let amount = Coins::from_list(list)?;
    if amount.is_empty() {
        return Err(error::NO_INPUTS.with("MsgSend with no amount"));
    }
    Ok(Send { from, to, amount })
}
