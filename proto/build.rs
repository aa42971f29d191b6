//! Compiles every .proto file Stoa serves with protox (pure Rust, so no protoc is needed) into
//! one FileDescriptorSet (for reflection, typed events and `descriptor_pool()`), and generates
//! Rust code for Stoa's own `stoa.*` packages: prost messages with `prost::Name` and
//! `prost_reflect::ReflectMessage`, and tonic clients and servers. The cosmos.* types come from
//! cosmos-sdk-proto (an extern path), so only their descriptors are compiled here.

use prost::Message;
use prost_types::DescriptorProto;

/// Every proto file Stoa serves or whose messages its clients meet, in one list: the stoa.*
/// packages (code and descriptors) and the Cosmos SDK files (descriptors only). A module that
/// adds a package adds its file here; reflection and typed events then know it.
const FILES: &[&str] = &[
    // Stoa's own packages.
    "stoa/storage/v1/proof.proto",
    "stoa/storage/v1/storage.proto",
    "stoa/compute/v1/compute.proto",
    "stoa/template/v1/template.proto",
    "stoa/intelligence/v1/intelligence.proto",
    // Cosmos SDK services Stoa answers, and the types clients meet inside `Any`s.
    "cosmos/bank/v1beta1/query.proto",
    "cosmos/bank/v1beta1/tx.proto",
    "cosmos/auth/v1beta1/query.proto",
    "cosmos/tx/v1beta1/service.proto",
    "cosmos/crypto/secp256k1/keys.proto",
    "cosmos/crypto/ed25519/keys.proto",
];

/// Adds the `ReflectMessage` derive to `message` (full name `prefix.name`), which resolves the
/// descriptor in the crate's pool.
fn reflect_attributes(
    config: &mut prost_build::Config,
    prefix: &str,
    message: &DescriptorProto,
) -> Result<(), String> {
    let full_name = format!("{prefix}.{}", message.name());
    // prost-build's attribute paths also match nested types, which would derive twice; Stoa's
    // protos declare every message at top level (map entries are not generated as types).
    if let Some(nested) = message
        .nested_type
        .iter()
        .find(|n| !n.options.as_ref().is_some_and(|o| o.map_entry()))
    {
        return Err(format!(
            "{full_name}.{}: declare messages at the top level of the file",
            nested.name()
        ));
    }
    let path = format!(".{full_name}");
    config.message_attribute(&path, "#[derive(::prost_reflect::ReflectMessage)]");
    config.message_attribute(
        &path,
        format!(
            r#"#[prost_reflect(descriptor_pool = "crate::DESCRIPTOR_POOL", message_name = "{full_name}")]"#
        ),
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=stoa");
    println!("cargo:rerun-if-changed=cosmos");
    println!("cargo:rerun-if-changed=tendermint");
    let all = protox::compile(FILES, ["."])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("stoa_descriptor_set.bin"), all.encode_to_vec())?;

    // prost-build needs the imported files too (it inspects their messages), and writes a
    // file for every package; lib.rs includes only the stoa.* ones, whose cosmos.* references
    // resolve to cosmos-sdk-proto's types.
    let mut config = prost_build::Config::new();
    config
        .enable_type_names()
        .type_name_domain(["."], "")
        .extern_path(".cosmos", "::cosmos_sdk_proto::cosmos")
        .extern_path(".tendermint", "::cosmos_sdk_proto::tendermint");
    for file in all.file.iter().filter(|f| f.package().starts_with("stoa.")) {
        for message in &file.message_type {
            reflect_attributes(&mut config, file.package(), message)?;
        }
    }
    tonic_build::configure()
        .build_client(true)
        .build_server(true)
        .build_transport(true)
        .compile_fds_with_config(config, all)?;
    Ok(())
}
