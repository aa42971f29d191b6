//! Cosmos SDK pagination (`PageRequest`/`PageResponse`: key or offset, limit, count_total,
//! reverse) over any prefix of the state, the one helper every listing query uses.

use super::map::prefix_end;
use crate::ctx::Ctx;
use crate::error::{sdk, StoaError};
use crate::state::Order;
use std::ops::Bound;

pub use cosmrs::proto::cosmos::base::query::v1beta1::{PageRequest, PageResponse};

/// The page size when a request gives none (Cosmos SDK's default).
pub const DEFAULT_LIMIT: u64 = 100;

/// Reads one page of the entries under `prefix`, as Cosmos SDK's `query.Paginate` does:
/// `key` (a `next_key` from an earlier page, relative to `prefix`) or `offset` picks where the
/// page starts, `limit` its size (default 100), `reverse` the order; `next_key` is the
/// relative key of the first entry after the page (empty at the end), `total` is counted when
/// asked for with an offset-based (or first) page. `decode` turns a relative key and value
/// into an item, or `None` to leave the entry out (it still counts for the position).
pub fn paginate_raw<T>(
    ctx: &mut Ctx<'_>,
    prefix: &[u8],
    page: Option<&PageRequest>,
    mut decode: impl FnMut(&[u8], &[u8]) -> Result<Option<T>, StoaError>,
) -> Result<(Vec<T>, PageResponse), StoaError> {
    let default = PageRequest::default();
    let req = page.unwrap_or(&default);
    if !req.key.is_empty() && req.offset > 0 {
        return Err(sdk::INVALID_REQUEST.with("either offset or key is expected, got both"));
    }
    let limit = if req.limit == 0 {
        DEFAULT_LIMIT
    } else {
        req.limit
    };
    let order = if req.reverse {
        Order::Descending
    } else {
        Order::Ascending
    };
    let start_key = [prefix, req.key.as_slice()].concat();
    let (mut lo, mut hi) = (Bound::Included(prefix.to_vec()), prefix_end(prefix));
    if !req.key.is_empty() {
        match order {
            Order::Ascending => lo = Bound::Included(start_key),
            Order::Descending => hi = Bound::Included(start_key),
        }
    }
    let count_total = req.count_total && req.key.is_empty();

    let mut items = Vec::new();
    let mut next_key = Vec::new();
    let mut seen: u64 = 0;
    let mut total: u64 = 0;
    let mut page_size = 16usize;
    'pages: loop {
        let pairs = ctx.range_unmetered(
            lo.as_ref().map(Vec::as_slice),
            hi.as_ref().map(Vec::as_slice),
            order,
            page_size,
        )?;
        let exhausted = pairs.len() < page_size;
        if let Some((last, _)) = pairs.last() {
            match order {
                Order::Ascending => lo = Bound::Excluded(last.clone()),
                Order::Descending => hi = Bound::Excluded(last.clone()),
            }
        }
        for (k, v) in pairs {
            let rel = &k[prefix.len()..];
            total += 1;
            if seen < req.offset {
                seen += 1;
                if count_total {
                    ctx.charge_iter_item(k.len() as u64)?;
                }
                continue;
            }
            if (items.len() as u64) < limit {
                ctx.charge_iter_item((k.len() + v.len()) as u64)?;
                if let Some(item) = decode(rel, &v)? {
                    items.push(item);
                }
                continue;
            }
            if next_key.is_empty() {
                next_key = rel.to_vec();
            }
            if !count_total {
                break 'pages;
            }
            ctx.charge_iter_item(k.len() as u64)?;
        }
        if exhausted {
            break;
        }
        page_size = (page_size * 4).min(1024);
    }
    Ok((
        items,
        PageResponse {
            next_key,
            total: if count_total { total } else { 0 },
        },
    ))
}
