//! Any bytes as a tx through CheckTx, ProcessProposal and a block, on one chain kept across
//! inputs; the seeds are real signed txs this chain executes, so mutations reach the ante and
//! the bank's handler. See `stoa_fuzz::run_tx` for what is checked.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    stoa_fuzz::run_tx(data, true);
});
