//! One handler per message: `MsgPost` (with a check against the pre-block params, run in
//! parallel with the block's signatures) and `MsgDelete`; and the end-block expiry of notes.

use crate::params::TemplateParams;
use crate::state::{EXPIRY, NEXT_ID, NOTES};
use crate::{error, events, TemplateBank, ESCROW};
use cosmrs::proto::cosmos::base::v1beta1::Coin as ProtoCoin;
use stoa_framework::{params, sdk, Address, Coin, Coins, Ctx, MsgHandler, PreState, StoaError};
use stoa_proto::template::v1::{MsgDelete, MsgDeleteResponse, MsgPost, MsgPostResponse, Note};

/// The longest note, in bytes.
pub const MAX_TEXT: usize = 280;

pub struct Post<B>(pub B);

/// A `MsgPost` after its stateless check.
pub struct CheckedPost {
    author: Address,
    text: String,
    lifetime: u64,
}

impl<B: TemplateBank> MsgHandler for Post<B> {
    type Msg = MsgPost;
    const AMINO_NAME: &'static str = "stoa/template/MsgPost";
    type Checked = CheckedPost;
    type Response = MsgPostResponse;

    fn check(&self, msg: MsgPost) -> Result<(Vec<Address>, CheckedPost), StoaError> {
        let author = Address::parse(&msg.author)?;
        if msg.text.is_empty() {
            return Err(error::EMPTY_TEXT.with("MsgPost"));
        }
        if msg.text.len() > MAX_TEXT {
            return Err(
                error::TEXT_TOO_LONG.with(format!("{} bytes, at most {MAX_TEXT}", msg.text.len()))
            );
        }
        if msg.lifetime_seconds == 0 {
            return Err(error::BAD_LIFETIME.with("lifetime_seconds must be positive"));
        }
        let checked = CheckedPost {
            author,
            text: msg.text,
            lifetime: msg.lifetime_seconds,
        };
        Ok((vec![author], checked))
    }

    fn has_precheck(&self) -> bool {
        true
    }

    /// The lifetime against the params as they stood before the block. A market does its
    /// expensive checks here (a proof against the sector it names); this one is cheap.
    fn precheck(&self, pre: &PreState<'_>, msg: &CheckedPost) -> Result<(), StoaError> {
        let max = params::peek::<TemplateParams>(pre.state)?.max_lifetime_seconds;
        if msg.lifetime > max {
            return Err(error::BAD_LIFETIME.with(format!("{} s, at most {max} s", msg.lifetime)));
        }
        Ok(())
    }

    fn execute(&self, ctx: &mut Ctx<'_>, msg: &CheckedPost) -> Result<MsgPostResponse, StoaError> {
        let p = params::load::<TemplateParams>(ctx)?;
        // Params may have changed earlier in the block: execution checks again.
        if msg.lifetime > p.max_lifetime_seconds {
            return Err(error::BAD_LIFETIME.with(format!("at most {} s", p.max_lifetime_seconds)));
        }
        let deposit = Coin::new(p.deposit, p.deposit_denom.clone());
        let coins = Coins::from_list(vec![deposit.clone()])?;
        if !coins.is_empty() {
            self.0.send_to_module(ctx, &msg.author, ESCROW, &coins)?;
        }
        let id = NEXT_ID.get(ctx)?.unwrap_or(0);
        NEXT_ID.save(ctx, &Ctx::checked(id.checked_add(1), "note ids")?)?;
        let lifetime = i64::try_from(msg.lifetime).unwrap_or(i64::MAX);
        let expires_at = Ctx::checked(ctx.block_time().checked_add(lifetime), "expiry")?;
        let note = Note {
            id,
            author: msg.author.to_string(),
            text: msg.text.clone(),
            expires_at,
            deposit: Some(ProtoCoin {
                denom: deposit.denom.clone(),
                amount: deposit.amount.to_string(),
            }),
        };
        NOTES.save(ctx, &id, &note)?;
        EXPIRY.push(ctx, expires_at, &id.to_be_bytes())?;
        events::posted(ctx, &note)?;
        Ok(MsgPostResponse { id })
    }
}

pub struct Delete<B>(pub B);

impl<B: TemplateBank> MsgHandler for Delete<B> {
    type Msg = MsgDelete;
    const AMINO_NAME: &'static str = "stoa/template/MsgDelete";
    type Checked = (Address, u64);
    type Response = MsgDeleteResponse;

    fn check(&self, msg: MsgDelete) -> Result<(Vec<Address>, (Address, u64)), StoaError> {
        let author = Address::parse(&msg.author)?;
        Ok((vec![author], (author, msg.id)))
    }

    fn execute(
        &self,
        ctx: &mut Ctx<'_>,
        (author, id): &(Address, u64),
    ) -> Result<MsgDeleteResponse, StoaError> {
        let note = NOTES
            .get(ctx, id)?
            .ok_or_else(|| sdk::NOT_FOUND.with(format!("note {id}")))?;
        if note.author != author.to_string() {
            return Err(error::NOT_AUTHOR.with(format!("note {id}")));
        }
        EXPIRY.remove(ctx, note.expires_at, &id.to_be_bytes())?;
        remove(&self.0, ctx, note, "deleted")?;
        Ok(MsgDeleteResponse {})
    }
}

/// Removes a note and returns its deposit to its author.
fn remove(
    bank: &impl TemplateBank,
    ctx: &mut Ctx<'_>,
    note: Note,
    reason: &str,
) -> Result<(), StoaError> {
    NOTES.remove(ctx, &note.id)?;
    if let Some(c) = &note.deposit {
        let coins = Coins::from_list(vec![Coin::from_proto(&c.denom, &c.amount)?])?;
        let author = Address::parse(&note.author)?;
        if !coins.is_empty() {
            bank.send_from_module(ctx, ESCROW, &author, &coins)?;
        }
    }
    events::removed(ctx, note.id, reason)
}

/// End block: every note whose time has come is removed and its deposit returned. The queue
/// reads only the notes due.
pub fn expire_notes(bank: &impl TemplateBank, ctx: &mut Ctx<'_>) -> Result<(), StoaError> {
    let now = ctx.block_time();
    for raw in EXPIRY.pop_due(ctx, now)? {
        let id = u64::from_be_bytes(
            raw.as_slice()
                .try_into()
                .map_err(|_| sdk::LOGIC.with("expiry entry"))?,
        );
        if let Some(note) = NOTES.get(ctx, &id)? {
            remove(bank, ctx, note, "expired")?;
        }
    }
    Ok(())
}
