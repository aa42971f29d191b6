//! The template module's state under `template/`: the notes with an index by author, the next
//! note id, and the queue of notes by expiry time.

use crate::MODULE_NAME;
use stoa_framework::schedule::DueQueue;
use stoa_framework::typed::{BigEndian, IndexedMap, Item, MultiIndex};
use stoa_proto::template::v1::Note;

/// `template/notes/<id>` -> `Note`.
pub static NOTES: IndexedMap<u64, Note> = IndexedMap::new(MODULE_NAME, "notes", &[&BY_AUTHOR]);
/// `template/notes_by_author/<author, length-prefixed><id>`.
pub static BY_AUTHOR: MultiIndex<String, u64, Note> =
    MultiIndex::new(MODULE_NAME, "notes_by_author", |n| n.author.clone());
/// `template/next_id` -> the id the next note gets.
pub const NEXT_ID: Item<u64, BigEndian<u64>> = Item::new(MODULE_NAME, "next_id");
/// `template/expiry/<time><id>`: notes by the time they expire.
pub const EXPIRY: DueQueue<'static> = DueQueue {
    prefix: b"template/expiry/",
};
