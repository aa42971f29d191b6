//! Typed events in the Cosmos shape (`type` plus key/value attributes), which CometBFT indexes so
//! that `tx_search` finds txs by, e.g., `transfer.recipient`. Typed events are built from a
//! proto message (`Event::typed`) the way Cosmos SDK's `EmitTypedEvent` builds them, and read
//! back with `Event::parse_typed`.

use std::borrow::Cow;

use prost_reflect::{DeserializeOptions, DynamicMessage, ReflectMessage, SerializeOptions};

use crate::{sdk, StoaResult};

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

    /// A typed event, as Cosmos SDK's `EmitTypedEvent` writes it: the type is the message's
    /// full proto name (`stoa.template.v1.EventNotePosted`) and there is one attribute per
    /// field, sorted by key, the key being the field's proto name (`expires_at`: Cosmos SDK
    /// marshals with `OrigName`) and the value its proto3 JSON (strings quoted, 64-bit integers
    /// as quoted strings, messages as objects), default values included.
    pub fn typed(msg: &impl ReflectMessage) -> StoaResult<Event> {
        let dynamic = msg.transcode_to_dynamic();
        let options = SerializeOptions::new()
            .skip_default_fields(false)
            .use_proto_field_name(true);
        let json = dynamic
            .serialize_with_options(serde_json::value::Serializer, &options)
            .map_err(|e| sdk::JSON_MARSHAL.with(format!("typed event: {e}")))?;
        let serde_json::Value::Object(fields) = json else {
            return Err(sdk::JSON_MARSHAL.with("typed event: not a JSON object"));
        };
        // Sorted here, not by the map: serde_json keeps insertion order when another crate
        // enables its `preserve_order` feature.
        let mut attributes = fields
            .into_iter()
            .map(|(key, value)| EventAttribute {
                key: Name::Owned(key),
                value: value.to_string(),
                index: true,
            })
            .collect::<Vec<_>>();
        attributes.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Event {
            kind: Name::Owned(dynamic.descriptor().full_name().to_string()),
            attributes,
        })
    }

    /// Reads a typed event back into its message: the event's type must be `M`'s full name,
    /// every attribute named after a field must hold that field's JSON; other attributes (such
    /// as the `msg_index` the tx pipeline adds) are ignored.
    pub fn parse_typed<M: ReflectMessage + Default>(&self) -> StoaResult<M> {
        let descriptor = M::default().descriptor();
        if self.kind != descriptor.full_name() {
            return Err(sdk::INVALID_TYPE.with(format!(
                "event {} is not a {}",
                self.kind,
                descriptor.full_name()
            )));
        }
        let mut fields = serde_json::Map::new();
        for a in &self.attributes {
            if descriptor.get_field_by_name(&a.key).is_none() {
                continue;
            }
            let value: serde_json::Value = serde_json::from_str(&a.value)
                .map_err(|e| sdk::JSON_UNMARSHAL.with(format!("event attribute {}: {e}", a.key)))?;
            fields.insert(a.key.to_string(), value);
        }
        let options = DeserializeOptions::new().deny_unknown_fields(true);
        let dynamic = DynamicMessage::deserialize_with_options(
            descriptor,
            serde_json::Value::Object(fields),
            &options,
        )
        .map_err(|e| sdk::JSON_UNMARSHAL.with(format!("typed event {}: {e}", self.kind)))?;
        dynamic
            .transcode_to::<M>()
            .map_err(|e| sdk::JSON_UNMARSHAL.with(format!("typed event {}: {e}", self.kind)))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|a| a.key == key)
            .map(|a| a.value.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use stoa_proto::template::v1::{EventNotePosted, EventNoteRemoved, Note};

    fn attrs(e: &Event) -> Vec<(&str, &str)> {
        e.attributes
            .iter()
            .map(|a| (a.key.as_ref(), a.value.as_str()))
            .collect()
    }

    #[test]
    fn typed_event_is_the_message_name_and_its_fields_as_json() {
        let posted = EventNotePosted {
            id: 7,
            author: "stoa1xyz".into(),
            expires_at: -3,
        };
        let e = Event::typed(&posted).unwrap();
        assert_eq!(e.kind, "stoa.template.v1.EventNotePosted");
        // Sorted by key; strings quoted, 64-bit integers as quoted strings (proto3 JSON).
        assert_eq!(
            attrs(&e),
            [
                ("author", "\"stoa1xyz\""),
                ("expires_at", "\"-3\""),
                ("id", "\"7\""),
            ]
        );
        assert!(e.attributes.iter().all(|a| a.index));
        assert_eq!(e.parse_typed::<EventNotePosted>().unwrap(), posted);
    }

    #[test]
    fn default_fields_are_attributes_too() {
        let e = Event::typed(&EventNoteRemoved::default()).unwrap();
        assert_eq!(attrs(&e), [("id", "\"0\""), ("reason", "\"\"")]);
    }

    #[test]
    fn nested_messages_are_json_objects() {
        let note = Note {
            id: 1,
            author: "a".into(),
            text: "hi \"there\"".into(),
            expires_at: 9,
            deposit: Some(cosmrs::proto::cosmos::base::v1beta1::Coin {
                denom: "ustor".into(),
                amount: "10".into(),
            }),
        };
        let e = Event::typed(&note).unwrap();
        assert_eq!(e.get("deposit"), Some(r#"{"amount":"10","denom":"ustor"}"#));
        assert_eq!(e.get("text"), Some(r#""hi \"there\"""#));
        assert_eq!(e.parse_typed::<Note>().unwrap(), note);
        let unset = Note::default();
        assert_eq!(
            Event::typed(&unset).unwrap().parse_typed::<Note>().unwrap(),
            unset
        );
    }

    #[test]
    fn parse_typed_checks_the_type_and_the_values() {
        let e = Event::typed(&EventNotePosted::default()).unwrap();
        assert_eq!(
            e.parse_typed::<EventNoteRemoved>().unwrap_err().code,
            sdk::INVALID_TYPE.code
        );
        // Attributes that are not fields (the tx pipeline's msg_index) are ignored.
        let tagged = e.clone().attr("msg_index", 0);
        assert_eq!(
            tagged.parse_typed::<EventNotePosted>().unwrap(),
            EventNotePosted::default()
        );
        let mut bad = e;
        bad.attributes[0].value = "not json".into();
        assert_eq!(
            bad.parse_typed::<EventNotePosted>().unwrap_err().code,
            sdk::JSON_UNMARSHAL.code
        );
    }

    proptest! {
        #[test]
        fn typed_events_round_trip(id: u64, author in ".{0,40}", expires_at: i64, reason in ".{0,20}") {
            let posted = EventNotePosted { id, author, expires_at };
            let e = Event::typed(&posted).unwrap();
            prop_assert_eq!(e.attributes.len(), 3);
            let quoted = format!("\"{id}\"");
            prop_assert_eq!(e.get("id"), Some(quoted.as_str()));
            prop_assert_eq!(e.parse_typed::<EventNotePosted>().unwrap(), posted);
            let removed = EventNoteRemoved { id, reason };
            prop_assert_eq!(
                Event::typed(&removed).unwrap().parse_typed::<EventNoteRemoved>().unwrap(),
                removed
            );
        }
    }
}
