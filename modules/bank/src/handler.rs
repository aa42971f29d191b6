//! One handler per bank message: `MsgSend`.

use crate::keeper::transfer;
use crate::msgs::{check_send, Send};
use crate::params::BankParams;
use crate::{error, events, state};
use cosmrs::proto::cosmos::bank::v1beta1::{MsgSend, MsgSendResponse};
use stoa_framework::{params, Address, Ctx, MsgHandler, StoaError};

pub struct SendHandler;

impl MsgHandler for SendHandler {
    type Msg = MsgSend;
    const AMINO_NAME: &'static str = "cosmos-sdk/MsgSend";
    type Checked = Send;
    type Response = MsgSendResponse;

    fn check(&self, msg: MsgSend) -> Result<(Vec<Address>, Send), StoaError> {
        let send = check_send(msg)?;
        Ok((vec![send.from], send))
    }

    fn execute(&self, ctx: &mut Ctx<'_>, m: &Send) -> Result<MsgSendResponse, StoaError> {
        let params = params::load::<BankParams>(ctx)?;
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
        transfer(ctx, &m.from, &m.to, &m.amount)?;
        Ok(MsgSendResponse {})
    }
}
