//! Output of every command: a comfy-table (or a few plain lines) for people, or one JSON
//! document on stdout for scripts and tests (`--output json`). JSON field names are stable.

use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, Default)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

/// Writes one line to stdout. A closed stdout (`stoad ... | head`) ends the process quietly
/// instead of panicking the way `println!` does.
pub fn write_stdout_line(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(format_args!("{line}\n")) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("Error: writing to stdout: {e}");
        std::process::exit(crate::EXIT_FAILED);
    }
}

/// `println!` for command output (see [`write_stdout_line`]).
#[macro_export]
macro_rules! outln {
    () => { $crate::output::write_stdout_line(format_args!("")) };
    ($($arg:tt)*) => { $crate::output::write_stdout_line(format_args!($($arg)*)) };
}

/// Prints `value` as pretty JSON on stdout.
pub fn print_json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    crate::outln!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// A proto message as JSON the way `--output json` prints Stoa's own types: the proto's field
/// names (snake case), every field present (defaults included, so scripts see a stable shape),
/// 64-bit integers as strings and bytes as base64, as proto3 JSON has them.
pub fn proto_json<M: prost_reflect::ReflectMessage>(
    message: &M,
) -> anyhow::Result<serde_json::Value> {
    let options = prost_reflect::SerializeOptions::new()
        .use_proto_field_name(true)
        .skip_default_fields(false);
    let dynamic = message.transcode_to_dynamic();
    Ok(dynamic.serialize_with_options(serde_json::value::Serializer, &options)?)
}

/// A table with a header row, sized to the terminal when there is one.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().copied());
    t
}

/// A two-column key/value table, for single records.
pub fn kv_table(rows: &[(&str, String)]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    for (k, v) in rows {
        t.add_row(vec![k.to_string(), v.clone()]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proto_json_uses_snake_case_names_and_keeps_defaults() {
        let provider = stoa_proto::storage::v1::Provider {
            raw_power: 7,
            ..Default::default()
        };
        let v = proto_json(&provider).unwrap();
        assert_eq!(v["raw_power"], "7", "{v}");
        assert_eq!(v["peer_endpoint"], "", "{v}");
        assert!(v.get("rawPower").is_none(), "{v}");
    }
}
