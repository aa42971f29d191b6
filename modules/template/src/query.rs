//! The template module's queries (`stoa.template.v1.Query`), served over ABCI and gRPC by the
//! router with no gRPC code here: params, one note, all notes and an author's notes, paginated.

use crate::params::TemplateParams;
use crate::state::{BY_AUTHOR, NOTES};
use stoa_framework::{params, sdk, Address, Ctx, Registrar, StoaError};
use stoa_proto::template::v1 as pb;

pub fn register(r: &mut Registrar) {
    r.query("/stoa.template.v1.Query/Params", query_params)
        .query("/stoa.template.v1.Query/Note", note)
        .query("/stoa.template.v1.Query/Notes", notes)
        .query("/stoa.template.v1.Query/NotesByAuthor", notes_by_author);
}

fn query_params(
    ctx: &mut Ctx<'_>,
    _: pb::QueryParamsRequest,
) -> Result<pb::QueryParamsResponse, StoaError> {
    Ok(pb::QueryParamsResponse {
        params: Some(params::load::<TemplateParams>(ctx)?.to_proto()),
    })
}

fn note(ctx: &mut Ctx<'_>, req: pb::QueryNoteRequest) -> Result<pb::QueryNoteResponse, StoaError> {
    let note = NOTES
        .get(ctx, &req.id)?
        .ok_or_else(|| sdk::NOT_FOUND.with(format!("note {}", req.id)))?;
    Ok(pb::QueryNoteResponse { note: Some(note) })
}

fn notes(
    ctx: &mut Ctx<'_>,
    req: pb::QueryNotesRequest,
) -> Result<pb::QueryNotesResponse, StoaError> {
    let (page, pagination) = NOTES.map().paginate(ctx, req.pagination.as_ref())?;
    Ok(pb::QueryNotesResponse {
        notes: page.into_iter().map(|(_, n)| n).collect(),
        pagination: Some(pagination),
    })
}

fn notes_by_author(
    ctx: &mut Ctx<'_>,
    req: pb::QueryNotesByAuthorRequest,
) -> Result<pb::QueryNotesByAuthorResponse, StoaError> {
    let author = Address::parse(&req.author)?.to_string();
    let (page, pagination) =
        NOTES.paginate_by(ctx, &BY_AUTHOR, &author, req.pagination.as_ref())?;
    Ok(pb::QueryNotesByAuthorResponse {
        notes: page.into_iter().map(|(_, n)| n).collect(),
        pagination: Some(pagination),
    })
}
