//! Client transports kagent-mcp adds to rmcp's: a stdio transport that treats malformed
//! JSON-RPC as a fault and logs the server's stderr, and the legacy HTTP+SSE transport.

pub(crate) mod sse;
pub(crate) mod stdio;

use std::sync::{Arc, Mutex, PoisonError};

/// Why a connection ended, recorded by the transport so a caller whose request was cut off
/// gets the real reason rather than "transport closed".
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    /// The peer sent something that is not JSON-RPC.
    Protocol(String),
    /// The connection broke.
    Transport(String),
}

/// Shared between a transport and the client that owns the connection.
#[derive(Debug, Clone, Default)]
pub(crate) struct FaultSlot(Arc<Mutex<Option<Fault>>>);

impl FaultSlot {
    /// Records `fault` unless an earlier one is already recorded (the first cause wins).
    pub(crate) fn set(&self, fault: Fault) {
        let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            tracing::debug!(?fault, "MCP connection fault");
            *slot = Some(fault);
        }
    }

    /// The recorded fault, if any.
    pub(crate) fn get(&self) -> Option<Fault> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Shortens peer output quoted in an error message.
pub(crate) fn excerpt(text: &str) -> String {
    const MAX: usize = 160;
    if text.chars().count() <= MAX {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_fault_wins() {
        let slot = FaultSlot::default();
        assert_eq!(slot.get(), None);
        slot.set(Fault::Protocol("bad".into()));
        slot.set(Fault::Transport("closed".into()));
        assert_eq!(slot.get(), Some(Fault::Protocol("bad".into())));
    }

    #[test]
    fn excerpts_are_bounded() {
        assert_eq!(excerpt("short"), "short");
        let long = "é".repeat(500);
        assert_eq!(excerpt(&long).chars().count(), 161);
    }
}
