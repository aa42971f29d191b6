//! What the worker registers: the GPUs `nvidia-smi` lists (model, count, memory) where it
//! answers, else the machine's CPU as one device (model "CPU"); cores and memory from the OS.

use std::process::Command;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hardware {
    pub gpu_model: String,
    pub gpu_count: u32,
    pub vram_gib: u32,
    pub cpu_cores: u32,
    pub ram_gib: u32,
}

/// The model name the chain's multiplier table uses for a GPU name `nvidia-smi` prints
/// ("NVIDIA H100 80GB HBM3" -> "H100", "NVIDIA GeForce RTX 4090" -> "RTX4090"); other names
/// lose their vendor words and spaces.
pub fn model_of(name: &str) -> String {
    let upper = name.to_ascii_uppercase();
    for known in ["H100", "A100", "L40S"] {
        if upper.contains(known) {
            return known.to_string();
        }
    }
    let compact: String = upper
        .split_whitespace()
        .filter(|w| !matches!(*w, "NVIDIA" | "GEFORCE" | "TESLA" | "QUADRO"))
        .collect();
    for known in ["RTX4090", "RTX3090"] {
        if compact.contains(known) {
            return known.to_string();
        }
    }
    if compact.is_empty() {
        "GPU".into()
    } else {
        compact.chars().take(64).collect()
    }
}

/// Parses `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits`: the most
/// common model, how many of it, and its memory (MiB -> GiB).
pub fn parse_nvidia_smi(out: &str) -> Option<(String, u32, u32)> {
    let mut by_model: std::collections::BTreeMap<String, (u32, u32)> = Default::default();
    for line in out.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.split(',').map(str::trim);
        let name = parts.next()?;
        let mib: u32 = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
        let e = by_model.entry(model_of(name)).or_default();
        e.0 += 1;
        e.1 = e.1.max(mib / 1024);
    }
    by_model
        .into_iter()
        .max_by_key(|(_, (n, _))| *n)
        .map(|(m, (n, vram))| (m, n, vram))
}

fn ram_gib() -> u32 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| {
            u32::try_from(kb / (1024 * 1024)).unwrap_or(u32::MAX)
        })
}

/// The machine as the worker registers it.
pub fn detect() -> Hardware {
    let cpu_cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    let gpus = Command::new("nvidia-smi")
        .args([
            "--query-gpu=name,memory.total",
            "--format=csv,noheader,nounits",
        ])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| parse_nvidia_smi(&String::from_utf8_lossy(&o.stdout)));
    let (gpu_model, gpu_count, vram_gib) = gpus.unwrap_or(("CPU".into(), 1, 0));
    Hardware {
        gpu_model,
        gpu_count,
        vram_gib,
        cpu_cores,
        ram_gib: ram_gib(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nvidia_smi_output_maps_to_the_multiplier_table_names() {
        let out = "NVIDIA H100 80GB HBM3, 81559\nNVIDIA H100 80GB HBM3, 81559\n";
        assert_eq!(parse_nvidia_smi(out), Some(("H100".into(), 2, 79)));
        assert_eq!(
            parse_nvidia_smi("NVIDIA GeForce RTX 4090, 24564\n"),
            Some(("RTX4090".into(), 1, 23))
        );
        assert_eq!(model_of("NVIDIA A100-SXM4-40GB"), "A100");
        assert_eq!(model_of("Tesla T4"), "T4");
        assert_eq!(parse_nvidia_smi(""), None);
    }

    #[test]
    fn without_nvidia_smi_the_cpu_is_the_device() {
        let h = detect();
        assert!(h.gpu_count >= 1 && h.cpu_cores >= 1);
        if Command::new("nvidia-smi").output().is_err() {
            assert_eq!(h.gpu_model, "CPU");
            assert_eq!(h.gpu_count, 1);
        }
    }
}
