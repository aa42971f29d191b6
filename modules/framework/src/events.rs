//! Typed events in the Cosmos shape (`type` plus key/value attributes), which CometBFT indexes so
//! that `tx_search` finds txs by, e.g., `transfer.recipient`.

use std::borrow::Cow;

/// Keys and event types are nearly always literals: those are borrowed, not copied.
pub type Name = Cow<'static, str>;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventAttribute {
    pub key: Name,
    pub value: String,
    pub index: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    pub kind: Name,
    pub attributes: Vec<EventAttribute>,
}

impl Event {
    pub fn new(kind: impl Into<Name>) -> Self {
        Event {
            kind: kind.into(),
            attributes: Vec::new(),
        }
    }

    /// Adds an indexed attribute.
    pub fn attr(self, key: impl Into<Name>, value: impl ToString) -> Self {
        self.attr_string(key, value.to_string())
    }

    /// Adds an indexed attribute whose value is already a string (no copy).
    pub fn attr_string(mut self, key: impl Into<Name>, value: String) -> Self {
        self.attributes.push(EventAttribute {
            key: key.into(),
            value,
            index: true,
        });
        self
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.key == key)
            .map(|a| a.value.as_str())
    }
}
