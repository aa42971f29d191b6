//! Protobuf types of Stoa's own packages, one Rust module per proto package
//! (`stoa.<pkg>.v1` is `stoa_proto::<pkg>::v1`), with their tonic clients and servers, and the
//! descriptors of every proto file Stoa serves (its own and the Cosmos SDK's; the list is in
//! build.rs) for gRPC reflection and typed events.
//!
//! Every generated message implements `prost::Name` (type URL `/stoa.<pkg>.v1.<Message>`) and
//! `prost_reflect::ReflectMessage` (its descriptor in [`descriptor_pool`]).

use std::sync::LazyLock;

use prost_reflect::DescriptorPool;

/// The encoded FileDescriptorSet of every proto file Stoa serves, imports included.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/stoa_descriptor_set.bin"));

/// Decoded once; the generated `ReflectMessage` impls look their descriptors up here.
static DESCRIPTOR_POOL: LazyLock<DescriptorPool> = LazyLock::new(|| {
    DescriptorPool::decode(FILE_DESCRIPTOR_SET)
        .expect("build.rs wrote a valid descriptor set (protox checked it)")
});

/// The descriptors of [`FILE_DESCRIPTOR_SET`] (a cheap, shared handle).
pub fn descriptor_pool() -> DescriptorPool {
    DESCRIPTOR_POOL.clone()
}

/// `stoa.storage.v1`: proof messages shared by the prover and the storage module, and the
/// storage market's messages, state, events and query service.
pub mod storage {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/stoa.storage.v1.rs"));
    }
}

/// `stoa.compute.v1`: the compute market (GPU devices, leases, buyback, emission).
pub mod compute {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/stoa.compute.v1.rs"));
    }
}

/// `stoa.template.v1`: the worked-example module of docs/DEVELOPING.md (a bulletin board).
pub mod template {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/stoa.template.v1.rs"));
    }
}

/// `stoa.intelligence.v1`: the intelligence market (subnets, neurons, weights, Yuma, staking).
pub mod intelligence {
    pub mod v1 {
        include!(concat!(env!("OUT_DIR"), "/stoa.intelligence.v1.rs"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Name;
    use prost_reflect::ReflectMessage;

    #[test]
    fn type_urls_and_descriptors_name_the_proto_messages() {
        use template::v1::{EventNotePosted, MsgPost};
        assert_eq!(MsgPost::type_url(), "/stoa.template.v1.MsgPost");
        assert_eq!(
            EventNotePosted::default().descriptor().full_name(),
            "stoa.template.v1.EventNotePosted"
        );
        assert_eq!(
            storage::v1::MerklePath::default().descriptor().full_name(),
            storage::v1::MerklePath::full_name()
        );
    }

    #[test]
    fn the_pool_holds_every_served_service_and_msg() {
        let pool = descriptor_pool();
        for s in [
            "stoa.template.v1.Query",
            "stoa.template.v1.Msg",
            "cosmos.bank.v1beta1.Query",
            "cosmos.bank.v1beta1.Msg",
            "cosmos.auth.v1beta1.Query",
            "cosmos.tx.v1beta1.Service",
        ] {
            assert!(pool.get_service_by_name(s).is_some(), "{s}");
        }
        for m in [
            "cosmos.bank.v1beta1.MsgSend",
            "cosmos.crypto.secp256k1.PubKey",
            "cosmos.crypto.ed25519.PubKey",
            "stoa.storage.v1.WindowPoStProof",
        ] {
            assert!(pool.get_message_by_name(m).is_some(), "{m}");
        }
    }

    #[test]
    fn msg_send_descriptor_matches_cosmos_sdk() {
        use cosmos_sdk_proto::cosmos::bank::v1beta1::MsgSend;
        use cosmos_sdk_proto::cosmos::base::v1beta1::Coin;
        use prost::Message;
        let msg = MsgSend {
            from_address: "a".into(),
            to_address: "b".into(),
            amount: vec![Coin {
                denom: "ustor".into(),
                amount: "7".into(),
            }],
        };
        let bytes = msg.encode_to_vec();
        let desc = descriptor_pool()
            .get_message_by_name(&MsgSend::full_name())
            .unwrap();
        let dynamic = prost_reflect::DynamicMessage::decode(desc, bytes.as_slice()).unwrap();
        assert_eq!(dynamic.unknown_fields().count(), 0);
        assert_eq!(dynamic.encode_to_vec(), bytes);
        assert_eq!(
            dynamic.get_field_by_name("to_address").unwrap().as_str(),
            Some("b")
        );
    }
}
