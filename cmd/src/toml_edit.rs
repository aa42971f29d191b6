//! Small text edits of TOML files (CometBFT's config.toml): set one key inside one section and
//! leave every other line, comment and blank as it was, so operators' diffs stay readable.

use anyhow::{bail, Result};

/// A TOML basic string literal of `s`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The section a header line opens (`[rpc]` -> `rpc`), or None when the line is no header.
fn header_name(line: &str) -> Option<&str> {
    let t = line.trim();
    let t = t.split('#').next().unwrap_or("").trim();
    if t.starts_with("[[") && t.ends_with("]]") {
        return Some(t[2..t.len() - 2].trim());
    }
    if t.starts_with('[') && t.ends_with(']') {
        return Some(t[1..t.len() - 1].trim());
    }
    None
}

fn is_key_line(line: &str, key: &str) -> bool {
    let t = line.trim_start();
    match t.strip_prefix(key) {
        Some(rest) => rest.trim_start().starts_with('='),
        None => false,
    }
}

/// Sets `key = value` (value is a TOML literal, e.g. `"500ms"` with quotes) in `section`
/// (None = the top level, before the first header). Replaces the existing line, or adds one at
/// the end of the section (creating the section if needed).
pub fn set_key(text: &str, section: Option<&str>, key: &str, value: &str) -> Result<String> {
    if key.is_empty() || key.contains(['=', '\n', '[', ']']) {
        bail!("invalid TOML key {key:?}");
    }
    let new_line = format!("{key} = {value}");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut current: Option<String> = None;
    let mut section_seen = section.is_none();
    // Index after the last non-blank line of the target section: where a missing key goes.
    let mut insert_at: Option<usize> = if section.is_none() { Some(0) } else { None };
    for (i, line) in lines.iter().enumerate() {
        if let Some(name) = header_name(line) {
            current = Some(name.to_string());
            if section == Some(name) {
                section_seen = true;
                insert_at = Some(i + 1);
            }
            continue;
        }
        if current.as_deref() == section {
            if is_key_line(line, key) {
                lines[i] = new_line;
                return Ok(join(lines, text));
            }
            if !line.trim().is_empty() {
                insert_at = Some(i + 1);
            }
        }
    }
    if section_seen {
        let at = insert_at.unwrap_or(lines.len());
        lines.insert(at, new_line);
    } else {
        if lines.last().is_some_and(|l| !l.trim().is_empty()) {
            lines.push(String::new());
        }
        lines.push(format!("[{}]", section.unwrap_or_default()));
        lines.push(new_line);
    }
    Ok(join(lines, text))
}

fn join(lines: Vec<String>, original: &str) -> String {
    let mut out = lines.join("\n");
    if original.ends_with('\n') || original.is_empty() {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "# top\nproxy_app = \"tcp://127.0.0.1:26658\"\nmoniker = \"a\"\n\n[rpc]\nladdr = \"tcp://127.0.0.1:26657\"\n\n[p2p]\nladdr = \"tcp://0.0.0.0:26656\"\n\n[consensus]\ntimeout_commit = \"1s\"\n";

    #[test]
    fn replaces_in_the_right_section() {
        let out = set_key(SAMPLE, Some("p2p"), "laddr", &quote("tcp://127.0.0.2:1")).unwrap();
        assert!(out.contains("[rpc]\nladdr = \"tcp://127.0.0.1:26657\""));
        assert!(out.contains("[p2p]\nladdr = \"tcp://127.0.0.2:1\""));
        let out = set_key(&out, None, "proxy_app", &quote("tcp://x:1")).unwrap();
        assert!(out.contains("proxy_app = \"tcp://x:1\"\nmoniker"));
        assert!(out.ends_with('\n'));
    }

    #[test]
    fn adds_missing_keys_and_sections() {
        let out = set_key(SAMPLE, Some("consensus"), "timeout_propose", &quote("1s")).unwrap();
        assert!(out.contains("timeout_commit = \"1s\"\ntimeout_propose = \"1s\""));
        let out = set_key(SAMPLE, Some("mempool"), "size", "10").unwrap();
        assert!(out.ends_with("[mempool]\nsize = 10\n"));
        let out = set_key(SAMPLE, None, "fast_sync", "true").unwrap();
        assert!(out.contains("moniker = \"a\"\nfast_sync = true\n"));
    }
}
