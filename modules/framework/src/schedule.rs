//! End-of-block work that runs on schedules of block time or height, and a queue of items
//! keyed by due time (deal deadlines, lease expiries, proving deadlines).

use crate::ctx::Ctx;
use crate::error::StoaError;
use crate::state::Order;
use crate::state_key;
use crate::typed::prefix_end;
use std::ops::Bound;

/// How often a piece of end-block work runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Every {
    /// Every `n` blocks (at heights divisible by n).
    Blocks(u64),
    /// When at least `s` seconds of block time have passed since the last run.
    Seconds(i64),
}

/// True when the schedule `name` of `module` is due now; records the run so that it is due
/// again only after the next interval. The first call is always due. `Every::Seconds(s)` runs
/// are aligned to the first run's time plus whole intervals (`first + k * s`), whatever the
/// block times: a late block does not push the later runs back, and intervals skipped while no
/// block came are one run, not a burst.
pub fn due(ctx: &mut Ctx<'_>, module: &str, name: &str, every: Every) -> Result<bool, StoaError> {
    let key = state_key::schedule_mark(module, name);
    let now = ctx.block_time();
    let mark = match every {
        Every::Blocks(n) => (n > 0 && ctx.height().is_multiple_of(n)).then_some(now),
        Every::Seconds(s) => match ctx.state_mut().get(&key)? {
            Some(raw) if raw.len() >= 8 && s > 0 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(&raw[..8]);
                let last = i64::from_be_bytes(b);
                let elapsed = now.saturating_sub(last);
                (elapsed >= s).then(|| last.saturating_add(elapsed - elapsed % s))
            }
            _ => Some(now),
        },
    };
    let Some(mark) = mark else {
        return Ok(false);
    };
    let mut value = mark.to_be_bytes().to_vec();
    value.extend_from_slice(&ctx.height().to_be_bytes());
    ctx.state_mut().set(key, value);
    Ok(true)
}

/// A queue under `prefix` of ids due at a block time: key = `prefix || due (i64 be, offset to
/// sort) || id`. Items come out in (due, id) order, so every node processes them identically.
pub struct DueQueue<'p> {
    pub prefix: &'p [u8],
}

impl DueQueue<'_> {
    fn key(&self, due: i64, id: &[u8]) -> Vec<u8> {
        let mut k = self.prefix.to_vec();
        k.extend_from_slice(&((due as u64) ^ (1 << 63)).to_be_bytes());
        k.extend_from_slice(id);
        k
    }

    pub fn push(&self, ctx: &mut Ctx<'_>, due: i64, id: &[u8]) -> Result<(), StoaError> {
        // A one-byte marker: empty values are deletes (see `State::set`).
        ctx.set(self.key(due, id), vec![1])
    }

    pub fn remove(&self, ctx: &mut Ctx<'_>, due: i64, id: &[u8]) -> Result<(), StoaError> {
        ctx.delete(self.key(due, id))
    }

    /// Removes and returns the ids due at or before `now`, in order. Reads only the due
    /// entries (and one more, to see where they stop): its cost does not grow with the queue.
    pub fn pop_due(&self, ctx: &mut Ctx<'_>, now: i64) -> Result<Vec<Vec<u8>>, StoaError> {
        self.pop_due_at_most(ctx, now, usize::MAX)
    }

    /// As [`DueQueue::pop_due`], at most `max` ids (the rest stay for a later block): for
    /// hooks that bound their work per block.
    pub fn pop_due_at_most(
        &self,
        ctx: &mut Ctx<'_>,
        now: i64,
        max: usize,
    ) -> Result<Vec<Vec<u8>>, StoaError> {
        // Every key due at or before `now` sorts before the first key due at `now + 1`.
        let end = match now.checked_add(1) {
            Some(next) => Bound::Excluded(self.key(next, &[])),
            None => prefix_end(self.prefix),
        };
        let mut out = Vec::new();
        let mut lo = Bound::Included(self.prefix.to_vec());
        while out.len() < max {
            let want = (max - out.len()).min(64);
            let page = ctx.range_page(
                lo.as_ref().map(Vec::as_slice),
                end.as_ref().map(Vec::as_slice),
                Order::Ascending,
                want,
            )?;
            let short = page.len() < want;
            for (k, _) in page {
                if let Some(id) = k.get(self.prefix.len() + 8..) {
                    out.push(id.to_vec());
                }
                ctx.delete(k.clone())?;
                lo = Bound::Excluded(k);
            }
            if short {
                break;
            }
        }
        Ok(out)
    }
}
