//! Running one job: its script in its own directory as a local process in its own process
//! group (or in `docker run --network none` when the job names an image and a Docker engine
//! answers), stdout and stderr to files, killed at its time limit. What it printed on stdout
//! is the result; stderr and the runner's notes are the log.

use anyhow::{Context, Result};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// Output kept of each stream; the rest is cut (and the log says so).
pub const MAX_OUTPUT: u64 = 16 << 20;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobRun {
    pub exit_code: i32,
    pub timed_out: bool,
    pub result: Vec<u8>,
    pub log: Vec<u8>,
}

impl JobRun {
    pub fn succeeded(&self) -> bool {
        self.exit_code == 0 && !self.timed_out
    }
}

/// Whether a Docker engine answers here.
pub async fn docker_available() -> bool {
    tokio::process::Command::new("docker")
        .args(["info", "--format", "{{.ServerVersion}}"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await
        .is_ok_and(|s| s.success())
}

fn read_capped(path: &Path, log: &mut Vec<u8>, what: &str) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    if let Ok(f) = std::fs::File::open(path) {
        let len = f.metadata().map_or(0, |m| m.len());
        let _ = f.take(MAX_OUTPUT).read_to_end(&mut out);
        if len > MAX_OUTPUT {
            log.extend_from_slice(
                format!("[stoa-worker] {what} cut at {MAX_OUTPUT} of {len} bytes\n").as_bytes(),
            );
        }
    }
    out
}

fn kill_group(pid: u32) {
    let _ = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .stderr(Stdio::null())
        .status();
}

/// Runs `script` in `dir` (made here) for at most `limit`. `image` runs it in that container
/// image when `docker` is true.
pub async fn run(
    dir: &Path,
    lease_id: u64,
    job_id: u64,
    script: &[u8],
    image: &str,
    docker: bool,
    limit: Duration,
) -> Result<JobRun> {
    let work = dir.join("work");
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let script_path = work.join("job.sh");
    std::fs::write(&script_path, script)?;
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script_path, std::fs::Permissions::from_mode(0o700))?;
    }
    let stdout = std::fs::File::create(dir.join("stdout"))?;
    let stderr = std::fs::File::create(dir.join("stderr"))?;
    let container = format!("stoa-job-{lease_id}-{job_id}");
    let in_docker = docker && !image.is_empty();
    let mut cmd = if in_docker {
        let mut c = tokio::process::Command::new("docker");
        c.args([
            "run",
            "--rm",
            "--network",
            "none",
            "--name",
            &container,
            "-v",
        ])
        .arg(format!("{}:/work", work.display()))
        .args(["-w", "/work", "-e"])
        .arg(format!("STOA_LEASE_ID={lease_id}"))
        .arg("-e")
        .arg(format!("STOA_JOB_ID={job_id}"))
        .args([image, "sh", "/work/job.sh"]);
        c
    } else {
        let mut c = if script.starts_with(b"#!") {
            tokio::process::Command::new(&script_path)
        } else {
            let mut c = tokio::process::Command::new("sh");
            c.arg(&script_path);
            c
        };
        c.current_dir(&work)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", &work)
            .env("STOA_LEASE_ID", lease_id.to_string())
            .env("STOA_JOB_ID", job_id.to_string())
            .process_group(0);
        c
    };
    cmd.stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .kill_on_drop(true);
    let mut log = Vec::new();
    let started = std::time::Instant::now();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            log.extend_from_slice(format!("[stoa-worker] cannot start the job: {e}\n").as_bytes());
            return Ok(JobRun {
                exit_code: -1,
                timed_out: false,
                result: Vec::new(),
                log,
            });
        }
    };
    let pid = child.id();
    let (exit_code, timed_out) = match tokio::time::timeout(limit, child.wait()).await {
        Ok(Ok(status)) => (status.code().unwrap_or(-1), false),
        Ok(Err(e)) => {
            log.extend_from_slice(format!("[stoa-worker] waiting for the job: {e}\n").as_bytes());
            (-1, false)
        }
        Err(_) => {
            if in_docker {
                let _ = tokio::process::Command::new("docker")
                    .args(["kill", &container])
                    .status()
                    .await;
            }
            if let Some(pid) = pid {
                kill_group(pid);
            }
            let _ = child.kill().await;
            (-1, true)
        }
    };
    let mut notes = Vec::new();
    let result = read_capped(&dir.join("stdout"), &mut notes, "stdout");
    log.extend(read_capped(&dir.join("stderr"), &mut notes, "stderr"));
    log.extend(notes);
    let how = if in_docker {
        format!("docker image {image}")
    } else {
        "a local process".into()
    };
    if timed_out {
        log.extend_from_slice(
            format!(
                "[stoa-worker] killed at its time limit of {} s ({how})\n",
                limit.as_secs()
            )
            .as_bytes(),
        );
    } else {
        log.extend_from_slice(
            format!(
                "[stoa-worker] exit code {exit_code} after {} ms ({how})\n",
                started.elapsed().as_millis()
            )
            .as_bytes(),
        );
    }
    Ok(JobRun {
        exit_code,
        timed_out,
        result,
        log,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_job_runs_and_its_stdout_is_the_result() {
        let d = tempfile::tempdir().unwrap();
        let r = run(
            d.path(),
            1,
            2,
            b"echo \"lease $STOA_LEASE_ID job $STOA_JOB_ID\"; echo oops >&2; exit 3",
            "",
            false,
            Duration::from_secs(20),
        )
        .await
        .unwrap();
        assert_eq!(r.result, b"lease 1 job 2\n");
        assert_eq!(r.exit_code, 3);
        assert!(!r.succeeded());
        let log = String::from_utf8_lossy(&r.log);
        assert!(
            log.starts_with("oops\n") && log.contains("exit code 3"),
            "{log}"
        );
    }

    #[tokio::test]
    async fn a_job_past_its_limit_is_killed_with_its_children() {
        let d = tempfile::tempdir().unwrap();
        let t = std::time::Instant::now();
        let r = run(
            d.path(),
            1,
            1,
            b"#!/bin/sh\necho start\nsleep 30 &\nsleep 30\n",
            "",
            false,
            Duration::from_millis(500),
        )
        .await
        .unwrap();
        assert!(t.elapsed() < Duration::from_secs(10));
        assert!(r.timed_out && !r.succeeded());
        assert_eq!(r.result, b"start\n");
        assert!(String::from_utf8_lossy(&r.log).contains("time limit"));
    }
}
