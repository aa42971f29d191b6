//! The bank's events, named and shaped as Cosmos SDK's so explorers and `tx_search` queries
//! such as `transfer.recipient='stoa1...'` work unchanged.

use stoa_framework::{Address, Coins, Event};

pub fn transfer(from: &Address, to: &Address, amount: &Coins) -> [Event; 3] {
    let (from, to, amount) = (from.to_bech32(), to.to_bech32(), amount.to_string());
    [
        Event::new("coin_spent")
            .attr_string("spender", from.clone())
            .attr_string("amount", amount.clone()),
        Event::new("coin_received")
            .attr_string("receiver", to.clone())
            .attr_string("amount", amount.clone()),
        Event::new("transfer")
            .attr_string("recipient", to)
            .attr_string("sender", from)
            .attr_string("amount", amount),
    ]
}

pub fn mint(module: &Address, amount: &Coins) -> Vec<Event> {
    vec![
        Event::new("coinbase")
            .attr("minter", module)
            .attr("amount", amount),
        Event::new("coin_received")
            .attr("receiver", module)
            .attr("amount", amount),
    ]
}

pub fn burn(module: &Address, amount: &Coins) -> Vec<Event> {
    vec![
        Event::new("burn")
            .attr("burner", module)
            .attr("amount", amount),
        Event::new("coin_spent")
            .attr("spender", module)
            .attr("amount", amount),
    ]
}

/// Cosmos SDK emits `message.sender` from the bank handler too.
pub fn message_sender(sender: &Address) -> Event {
    Event::new("message")
        .attr_string("sender", sender.to_bech32())
        .attr("module", crate::MODULE_NAME)
}
