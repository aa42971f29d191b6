//! The compute market's off-chain side: the supplier's worker agent (`stoad worker run`) and
//! what `stoad rent` shares with it (sealed jobs, the HTTP API, chain queries).

pub mod chain;
pub mod hardware;
pub mod jobs;
pub mod protocol;
pub mod seal;
pub mod server;
pub mod state;
pub mod worker;
