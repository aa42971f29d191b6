//! The intelligence market (modelled on Bittensor's subtensor): Yuma Consensus as pure
//! functions over subtensor's fixed-point widths (`yuma`), and the module around it.

pub mod yuma;
