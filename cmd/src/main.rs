//! `stoad`: parses the command line, runs the command, and turns errors into one clear message
//! on stderr (and `{"error": ...}` on stdout with `--output json`) with a non-zero exit code.

use clap::Parser;
use stoa_cmd::cli::Cli;
use stoa_cmd::output::OutputFormat;

#[global_allocator]
static ALLOCATOR: stoa_app::allocator::Allocator = stoa_app::allocator::Allocator;

fn main() {
    stoa_app::allocator::keep_freed_memory();
    let cli = Cli::parse();
    let json = stoa_cmd::commands::output_format(&cli) == OutputFormat::Json;
    let code = match stoa_cmd::commands::run(cli) {
        Ok(code) => code,
        Err(e) => {
            // `{:#}` prints the whole context chain on one line: "reading X: No such file".
            let msg = format!("{e:#}");
            if json {
                stoa_cmd::outln!("{}", serde_json::json!({ "error": msg }));
            }
            eprintln!("Error: {msg}");
            stoa_cmd::EXIT_FAILED
        }
    };
    std::process::exit(code);
}
