//! Executes the bank's messages against state.

use crate::error;
use crate::events;
use crate::keeper::BankKeeper;
use crate::msgs::{self, MSG_SEND};
use crate::state;
use cosmrs::proto::cosmos::bank::v1beta1::MsgSendResponse;
use prost::Message;
use stoa_framework::{sdk, Any, CheckedMsg, Ctx, StoaError};

pub fn handle(ctx: &mut Ctx<'_>, msg: &Any, checked: &CheckedMsg) -> Result<Vec<u8>, StoaError> {
    match msg.type_url.as_str() {
        MSG_SEND => send(ctx, msg, checked),
        other => Err(sdk::UNKNOWN_REQUEST.with(format!("bank has no message {other}"))),
    }
}

fn send(ctx: &mut Ctx<'_>, msg: &Any, checked: &CheckedMsg) -> Result<Vec<u8>, StoaError> {
    let decoded_here;
    let m = match checked.decoded::<msgs::Send>() {
        Some(m) => m,
        None => {
            decoded_here = msgs::decode_send(msg)?;
            &decoded_here
        }
    };
    let params = state::read_params(ctx)?;
    if !params.send_enabled {
        return Err(error::SEND_DISABLED.with("bank params"));
    }
    for denom in m.amount.denoms() {
        if params.denom(denom).is_none() {
            return Err(error::UNKNOWN_DENOM.with(format!("{denom} is not a registered denom")));
        }
    }
    // As Cosmos SDK's blocked addresses: module accounts are paid by their modules only.
    if state::is_module_address(ctx, &m.to)? {
        return Err(error::BLOCKED_RECIPIENT.with(format!("{} is a module account", m.to)));
    }
    ctx.emit(events::message_sender(&m.from));
    BankKeeper::transfer(ctx, &m.from, &m.to, &m.amount)?;
    Ok(MsgSendResponse {}.encode_to_vec())
}
