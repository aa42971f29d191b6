//! The bank's messages: Cosmos SDK's `MsgSend`, decoded from `Any` and checked without state.

use crate::error;
use cosmrs::proto::cosmos::bank::v1beta1::MsgSend;
use prost::Message;
use stoa_framework::{sdk, Address, Any, CheckedMsg, Coin, Coins, StoaError};

pub const MSG_SEND: &str = "/cosmos.bank.v1beta1.MsgSend";

/// A `MsgSend` after `ValidateBasic`.
pub struct Send {
    pub from: Address,
    pub to: Address,
    pub amount: Coins,
}

pub fn decode_send(any: &Any) -> Result<Send, StoaError> {
    let m = MsgSend::decode(any.value.as_slice())
        .map_err(|e| sdk::TX_DECODE.with(format!("MsgSend: {e}")))?;
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

/// `ValidateBasic` of a bank message: its signers and the decoded message.
pub fn check(any: &Any) -> Result<CheckedMsg, StoaError> {
    match any.type_url.as_str() {
        MSG_SEND => {
            let send = decode_send(any)?;
            Ok(CheckedMsg::new(vec![send.from], send))
        }
        other => Err(sdk::UNKNOWN_REQUEST.with(format!("bank has no message {other}"))),
    }
}
