//! Compiles Stoa's subset of the Cosmos SDK .proto files (../proto/cosmos, ../proto/tendermint)
//! into an encoded FileDescriptorSet for gRPC server reflection, with protox (pure Rust: no
//! protoc needed). The message types themselves come from cosmos-sdk-proto.

use prost::Message;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The served services, plus the types clients meet inside `Any`s (accounts, keys).
    let files = [
        "cosmos/bank/v1beta1/query.proto",
        "cosmos/auth/v1beta1/query.proto",
        "cosmos/tx/v1beta1/service.proto",
        "cosmos/crypto/secp256k1/keys.proto",
        "cosmos/crypto/ed25519/keys.proto",
    ];
    println!("cargo:rerun-if-changed=../proto/cosmos");
    println!("cargo:rerun-if-changed=../proto/tendermint");
    let descriptors = protox::compile(files, ["../proto"])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?).join("cosmos_descriptor_set.bin");
    std::fs::write(out, descriptors.encode_to_vec())?;
    Ok(())
}
