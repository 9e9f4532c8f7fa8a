//! Conversation sessions: a [`SessionStore`] trait and an in-memory store.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

use crate::message::Message;

/// A conversation that outlives one run. Built with [`Session::new`]; stores that load one
/// from their backend set the fields after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Session {
    /// Session id.
    pub id: String,
    /// The agent it belongs to.
    pub agent: String,
    /// Messages of all finished runs, in order.
    pub messages: Vec<Message>,
    /// When it was created.
    pub created: jiff::Timestamp,
    /// When it last changed.
    pub updated: jiff::Timestamp,
}

impl Session {
    /// A new, empty session.
    pub fn new(id: impl Into<String>, agent: impl Into<String>) -> Self {
        let now = jiff::Timestamp::now();
        Session {
            id: id.into(),
            agent: agent.into(),
            messages: Vec::new(),
            created: now,
            updated: now,
        }
    }
}

/// Errors of a session store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The session belongs to another agent.
    #[error("session {id} belongs to agent {owner}, not {agent}")]
    WrongAgent {
        /// Session id.
        id: String,
        /// Its agent.
        owner: String,
        /// The agent that asked.
        agent: String,
    },
    /// The store's backend failed.
    #[error("session store error: {message}")]
    Backend {
        /// What happened.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
    },
}

/// Loads and saves sessions.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// The session with this id, if any.
    async fn load(&self, id: &str) -> Result<Option<Session>, SessionError>;
    /// Stores a session, replacing any with the same id.
    async fn save(&self, session: &Session) -> Result<(), SessionError>;
    /// Removes a session; removing a missing one is not an error.
    async fn delete(&self, id: &str) -> Result<(), SessionError>;
}

#[async_trait]
impl<S: SessionStore + ?Sized> SessionStore for Arc<S> {
    async fn load(&self, id: &str) -> Result<Option<Session>, SessionError> {
        (**self).load(id).await
    }
    async fn save(&self, session: &Session) -> Result<(), SessionError> {
        (**self).save(session).await
    }
    async fn delete(&self, id: &str) -> Result<(), SessionError> {
        (**self).delete(id).await
    }
}

/// Sessions in process memory.
#[derive(Debug, Clone, Default)]
pub struct InMemorySessionStore {
    sessions: Arc<RwLock<HashMap<String, Session>>>,
}

impl InMemorySessionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of sessions held.
    pub async fn len(&self) -> usize {
        self.sessions.read().await.len()
    }

    /// Whether the store is empty.
    pub async fn is_empty(&self) -> bool {
        self.sessions.read().await.is_empty()
    }
}

#[async_trait]
impl SessionStore for InMemorySessionStore {
    async fn load(&self, id: &str) -> Result<Option<Session>, SessionError> {
        Ok(self.sessions.read().await.get(id).cloned())
    }

    async fn save(&self, session: &Session) -> Result<(), SessionError> {
        self.sessions
            .write()
            .await
            .insert(session.id.clone(), session.clone());
        Ok(())
    }

    async fn delete(&self, id: &str) -> Result<(), SessionError> {
        self.sessions.write().await.remove(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn save_load_delete() {
        let store = InMemorySessionStore::new();
        assert!(store.load("x").await.unwrap().is_none());
        let mut s = Session::new("x", "agent");
        s.messages.push(Message::user("hi"));
        store.save(&s).await.unwrap();
        assert_eq!(store.load("x").await.unwrap(), Some(s));
        store.delete("x").await.unwrap();
        store.delete("x").await.unwrap();
        assert!(store.is_empty().await);
    }
}
