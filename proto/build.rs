//! Compiles Stoa's .proto files with protox (pure Rust) and prost-build, so no protoc is needed.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Every Stoa package lives under stoa/<pkg>/v1/; add new files to this list.
    let files = ["stoa/storage/v1/proof.proto"];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let descriptors = protox::compile(files, ["."])?;
    prost_build::Config::new().compile_fds(descriptors)?;
    Ok(())
}
