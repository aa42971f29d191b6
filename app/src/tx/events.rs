//! Events in CometBFT's shape: framework events to ABCI events (attributes marked indexed, so
//! CometBFT's kv indexer serves `tx_search "transfer.recipient='stoa1...'"`), and the
//! `msg_index` attribute Cosmos SDK puts on every event of a message.

use stoa_framework::{Ctx, Event, EventAttribute};
use tendermint_proto::v0_38::abci;

/// Adds `msg_index` to every event emitted since `first` (the events of message `index`).
pub fn tag_msg_index(ctx: &mut Ctx<'_>, first: usize, index: usize) {
    let value = index.to_string();
    for e in ctx.events_mut().iter_mut().skip(first) {
        e.attributes.push(EventAttribute {
            key: "msg_index".into(),
            value: value.clone(),
            index: true,
        });
    }
}

/// An event as ABCI carries it, moving the values.
pub fn into_abci(e: Event) -> abci::Event {
    abci::Event {
        r#type: e.kind.into_owned(),
        attributes: e
            .attributes
            .into_iter()
            .map(|a| abci::EventAttribute {
                key: a.key.into_owned(),
                value: a.value,
                index: a.index,
            })
            .collect(),
    }
}

pub fn into_abci_all(events: Vec<Event>) -> Vec<abci::Event> {
    events.into_iter().map(into_abci).collect()
}

/// Block events carry the phase they came from, as Cosmos SDK marks them.
pub fn with_mode(mut events: Vec<Event>, mode: &str) -> Vec<Event> {
    for e in &mut events {
        e.attributes.push(EventAttribute {
            key: "mode".into(),
            value: mode.into(),
            index: true,
        });
    }
    events
}
