//! `stoad tx msg FROM FILE|-`: any messages the chain accepts, written as proto3 JSON with
//! their `"@type"` (as the Cosmos SDK prints them in a tx body), decoded through Stoa's
//! descriptor pool, signed by FROM and broadcast in one tx.

use super::Ctx;
use crate::cli::{NodeArgs, TxFlags};
use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use cosmos_sdk_proto::Any;
use prost_reflect::{DeserializeOptions, DynamicMessage};
use serde_json::Value;
use std::io::Read;

#[derive(Args, Debug)]
pub struct TxMsgArgs {
    /// Name of the signing key in the keyring (the messages' signer).
    pub from: String,
    /// A JSON file, or `-` for stdin: one message `{"@type": "/stoa.compute.v1.MsgStake",
    /// "staker": "stoa1...", ...}`, a list of them, or `{"messages": [...]}` (a tx body).
    pub file: String,
    #[command(flatten)]
    pub tx: TxFlags,
}

pub async fn run(ctx: &Ctx, node: &NodeArgs, args: TxMsgArgs) -> Result<i32> {
    let text = if args.file == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the messages from stdin")?;
        s
    } else {
        std::fs::read_to_string(&args.file).with_context(|| format!("reading {}", args.file))?
    };
    let messages = messages_from_json(&text)?;
    let sender = ctx.keyring.get(&args.from)?;
    let key = ctx.keyring.unlock(&sender.name)?.priv_key()?;
    super::tx::sign_and_broadcast(ctx, node, &key, messages, &args.tx).await
}

/// The messages of a JSON document (one message, a list, or `{"messages": [...]}`) as
/// `Any`s, each checked against its descriptor: unknown types and fields are refused.
pub fn messages_from_json(text: &str) -> Result<Vec<Any>> {
    let doc: Value = serde_json::from_str(text).context("the messages are not JSON")?;
    let list = match doc {
        Value::Array(list) => list,
        Value::Object(ref o) if o.contains_key("messages") && !o.contains_key("@type") => {
            match o.get("messages") {
                Some(Value::Array(list)) => list.clone(),
                _ => bail!("\"messages\" must be a list"),
            }
        }
        Value::Object(_) => vec![doc],
        _ => bail!("expected a message object, a list of them or {{\"messages\": [...]}}"),
    };
    if list.is_empty() {
        bail!("no message to send");
    }
    list.into_iter()
        .enumerate()
        .map(|(i, m)| message_from_json(m).with_context(|| format!("message {i}")))
        .collect()
}

/// One message: `"@type"` names its descriptor, the other fields are its proto3 JSON
/// (field names as in the proto or in lowerCamelCase).
pub fn message_from_json(value: Value) -> Result<Any> {
    let Value::Object(mut fields) = value else {
        bail!("a message must be a JSON object");
    };
    let type_url = match fields.remove("@type") {
        Some(Value::String(t)) => t,
        _ => bail!("a message needs \"@type\", e.g. \"/stoa.compute.v1.MsgStake\""),
    };
    let name = type_url.rsplit('/').next().unwrap_or(&type_url);
    let desc = stoa_proto::descriptor_pool()
        .get_message_by_name(name)
        .ok_or_else(|| anyhow!("unknown message type {type_url:?}"))?;
    let msg = DynamicMessage::deserialize_with_options(
        desc,
        Value::Object(fields),
        &DeserializeOptions::new().deny_unknown_fields(true),
    )
    .map_err(|e| anyhow!("{type_url}: {e}"))?;
    Ok(Any {
        type_url: format!("/{name}"),
        value: prost::Message::encode_to_vec(&msg),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;
    use stoa_proto::compute::v1::{MsgFillBuyback, MsgStake};

    #[test]
    fn one_message_a_list_and_a_tx_body_decode_to_the_same_bytes() {
        let one = r#"{"@type": "/stoa.compute.v1.MsgStake", "staker": "stoa1x", "device_id": "7", "amount": "100"}"#;
        let want = MsgStake {
            staker: "stoa1x".into(),
            device_id: 7,
            amount: "100".into(),
        };
        for doc in [
            one.to_string(),
            format!("[{one}]"),
            format!("{{\"messages\": [{one}]}}"),
            // lowerCamelCase names are proto3 JSON too
            r#"{"@type": "/stoa.compute.v1.MsgStake", "staker": "stoa1x", "deviceId": 7, "amount": "100"}"#.into(),
        ] {
            let anys = messages_from_json(&doc).unwrap();
            assert_eq!(anys.len(), 1, "{doc}");
            assert_eq!(anys[0].type_url, "/stoa.compute.v1.MsgStake");
            assert_eq!(MsgStake::decode(anys[0].value.as_slice()).unwrap(), want);
        }
        let two = messages_from_json(&format!(
            "[{one}, {{\"@type\": \"/stoa.compute.v1.MsgFillBuyback\", \"buyer\": \"b\", \"amount\": \"5\", \"max_ucomp\": \"9\"}}]"
        ))
        .unwrap();
        assert_eq!(two[1].type_url, "/stoa.compute.v1.MsgFillBuyback");
        assert_eq!(
            MsgFillBuyback::decode(two[1].value.as_slice())
                .unwrap()
                .max_ucomp,
            "9"
        );
        let send = messages_from_json(
            r#"{"@type": "/cosmos.bank.v1beta1.MsgSend", "from_address": "a", "to_address": "b", "amount": [{"denom": "ustor", "amount": "1"}]}"#,
        )
        .unwrap();
        assert_eq!(send[0].type_url, "/cosmos.bank.v1beta1.MsgSend");
    }

    #[test]
    fn unknown_types_fields_and_missing_type_are_refused() {
        for (doc, why) in [
            (
                r#"{"@type": "/stoa.compute.v1.MsgNope"}"#,
                "unknown message type",
            ),
            (
                r#"{"@type": "/stoa.compute.v1.MsgStake", "stakr": "x"}"#,
                "stakr",
            ),
            (r#"{"staker": "x"}"#, "@type"),
            ("[]", "no message"),
            ("not json", "not JSON"),
        ] {
            let e = format!("{:#}", messages_from_json(doc).unwrap_err());
            assert!(e.contains(why), "{doc}: {e}");
        }
    }
}
