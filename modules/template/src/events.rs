//! The template module's events: typed (the proto messages `EventNotePosted` and
//! `EventNoteRemoved`, whose fields become the attributes).

use stoa_framework::{Ctx, Event, StoaError};
use stoa_proto::template::v1::{EventNotePosted, EventNoteRemoved, Note};

pub fn posted(ctx: &mut Ctx<'_>, note: &Note) -> Result<(), StoaError> {
    ctx.emit(Event::typed(&EventNotePosted {
        id: note.id,
        author: note.author.clone(),
        expires_at: note.expires_at,
    })?);
    Ok(())
}

pub fn removed(ctx: &mut Ctx<'_>, id: u64, reason: &str) -> Result<(), StoaError> {
    ctx.emit(Event::typed(&EventNoteRemoved {
        id,
        reason: reason.into(),
    })?);
    Ok(())
}
