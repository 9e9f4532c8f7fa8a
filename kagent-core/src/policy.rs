//! Guardrails: the [`ToolPolicy`] that decides every call, and the [`Approver`] that answers
//! when a human must decide.
//!
//! Decisions are computed from the tool's [`ToolSpec`] and the agent's configuration only. The
//! model's text, the call's arguments and earlier tool results never enter the decision, so a
//! prompt injection in a pod log cannot turn a guardrail off.

use std::collections::BTreeSet;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::message::ToolCall;
use crate::tool::{ToolEffect, ToolSpec};

/// What the policy says about one call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
#[non_exhaustive]
pub enum PolicyDecision {
    /// Run it.
    Allow,
    /// Do not run it.
    Deny {
        /// Why, shown to the model and recorded in the audit.
        reason: String,
    },
    /// Run it only if an approver says yes.
    RequireApproval {
        /// Why approval is needed.
        reason: String,
    },
}

/// Decides allow / deny / ask for every tool call.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
pub trait ToolPolicy: Send + Sync {
    /// The decision for a call of the tool described by `spec`.
    fn decide(&self, spec: &ToolSpec, call: &ToolCall) -> PolicyDecision;
}

impl<P: ToolPolicy + ?Sized> ToolPolicy for std::sync::Arc<P> {
    fn decide(&self, spec: &ToolSpec, call: &ToolCall) -> PolicyDecision {
        (**self).decide(spec, call)
    }
}

/// What the standard policy does with a class of calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// Run without asking.
    Allow,
    /// Ask an approver.
    Ask,
    /// Never run.
    Deny,
}

/// The standard policy, safe by default: read-only tools run, mutating and destructive tools
/// need approval.
///
/// Precedence, first match wins: the `deny` list; read-only mode (denies everything that is not
/// read-only); the `require_approval` list (kagent's `requireApproval`); the `allow` list; the
/// rule for the tool's effect.
///
/// ```
/// use kagent_core::policy::{StandardPolicy, Rule};
/// // kagent semantics: only the listed tools need approval.
/// let policy = StandardPolicy::default()
///     .with_mutating(Rule::Allow)
///     .with_destructive(Rule::Allow)
///     .require_approval(["k8s_delete_resource", "k8s_apply_manifest"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StandardPolicy {
    /// Deny every tool that is not read-only.
    pub read_only: bool,
    /// Rule for read-only tools.
    pub read_only_tools: Rule,
    /// Rule for mutating tools.
    pub mutating: Rule,
    /// Rule for destructive tools.
    pub destructive: Rule,
    /// Tools that always need approval.
    pub require_approval: BTreeSet<String>,
    /// Tools that run without approval whatever their effect (explicit opt-in).
    pub allow: BTreeSet<String>,
    /// Tools that never run.
    pub deny: BTreeSet<String>,
}

impl Default for StandardPolicy {
    fn default() -> Self {
        StandardPolicy {
            read_only: false,
            read_only_tools: Rule::Allow,
            mutating: Rule::Ask,
            destructive: Rule::Ask,
            require_approval: BTreeSet::new(),
            allow: BTreeSet::new(),
            deny: BTreeSet::new(),
        }
    }
}

impl StandardPolicy {
    /// Denies every tool that is not read-only.
    pub fn read_only() -> Self {
        StandardPolicy {
            read_only: true,
            ..Default::default()
        }
    }

    /// Sets the rule for read-only tools (default [`Rule::Allow`]).
    pub fn with_read_only_tools(mut self, rule: Rule) -> Self {
        self.read_only_tools = rule;
        self
    }

    /// Sets the rule for mutating tools.
    pub fn with_mutating(mut self, rule: Rule) -> Self {
        self.mutating = rule;
        self
    }

    /// Sets the rule for destructive tools.
    pub fn with_destructive(mut self, rule: Rule) -> Self {
        self.destructive = rule;
        self
    }

    /// Adds tools that always need approval.
    pub fn require_approval<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.require_approval
            .extend(names.into_iter().map(Into::into));
        self
    }

    /// Adds tools that run without approval.
    pub fn allow<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.allow.extend(names.into_iter().map(Into::into));
        self
    }

    /// Adds tools that never run.
    pub fn deny<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.deny.extend(names.into_iter().map(Into::into));
        self
    }
}

impl ToolPolicy for StandardPolicy {
    fn decide(&self, spec: &ToolSpec, _call: &ToolCall) -> PolicyDecision {
        let name = spec.name.as_str();
        if self.deny.contains(name) {
            return PolicyDecision::Deny {
                reason: format!("tool {name} is on the agent's deny list"),
            };
        }
        if self.read_only && !spec.effect.is_read_only() {
            return PolicyDecision::Deny {
                reason: format!("the agent is read-only and {name} is {:?}", spec.effect),
            };
        }
        if self.require_approval.contains(name) {
            return PolicyDecision::RequireApproval {
                reason: format!("tool {name} is listed in requireApproval"),
            };
        }
        if self.allow.contains(name) {
            return PolicyDecision::Allow;
        }
        let rule = match spec.effect {
            ToolEffect::ReadOnly => self.read_only_tools,
            ToolEffect::Mutating => self.mutating,
            ToolEffect::Destructive => self.destructive,
        };
        match rule {
            Rule::Allow => PolicyDecision::Allow,
            Rule::Ask => PolicyDecision::RequireApproval {
                reason: format!("{name} is {} and needs approval", effect_word(spec.effect)),
            },
            Rule::Deny => PolicyDecision::Deny {
                reason: format!("{} tools are not allowed", effect_word(spec.effect)),
            },
        }
    }
}

fn effect_word(effect: ToolEffect) -> &'static str {
    match effect {
        ToolEffect::ReadOnly => "read-only",
        ToolEffect::Mutating => "mutating",
        ToolEffect::Destructive => "destructive",
    }
}

/// A request for a human's decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApprovalRequest {
    /// The agent asking.
    pub agent: String,
    /// The session.
    pub session_id: String,
    /// The run.
    pub run_id: String,
    /// The call to approve. Arguments are shown in full to the approver.
    pub call: ToolCall,
    /// The tool's effect.
    pub effect: ToolEffect,
    /// Why approval is needed.
    pub reason: String,
    /// What the call would change, when the tool can tell (e.g. a server-side dry run diff).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<Value>,
}

impl ApprovalRequest {
    /// A request without a preview.
    pub fn new(
        agent: impl Into<String>,
        session_id: impl Into<String>,
        run_id: impl Into<String>,
        call: ToolCall,
        effect: ToolEffect,
        reason: impl Into<String>,
    ) -> Self {
        ApprovalRequest {
            agent: agent.into(),
            session_id: session_id.into(),
            run_id: run_id.into(),
            call,
            effect,
            reason: reason.into(),
            preview: None,
        }
    }

    /// Sets what the call would change.
    pub fn with_preview(mut self, preview: Value) -> Self {
        self.preview = Some(preview);
        self
    }
}

/// An approver's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ApprovalDecision {
    /// Run the call.
    Approved {
        /// Who approved, for the audit.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        by: Option<String>,
    },
    /// Do not run it.
    Rejected {
        /// Why, shown to the model.
        reason: String,
    },
}

impl ApprovalDecision {
    /// Whether the call may run.
    pub fn is_approved(&self) -> bool {
        matches!(self, ApprovalDecision::Approved { .. })
    }
}

/// Answers approval requests, asynchronously. Without an approver, calls that need approval
/// are rejected.
#[cfg_attr(any(test, feature = "testing"), mockall::automock)]
#[async_trait]
pub trait Approver: Send + Sync {
    /// Decides one request.
    async fn decide(&self, request: ApprovalRequest) -> ApprovalDecision;
}

#[async_trait]
impl<A: Approver + ?Sized> Approver for std::sync::Arc<A> {
    async fn decide(&self, request: ApprovalRequest) -> ApprovalDecision {
        (**self).decide(request).await
    }
}

/// One pending approval handed to an embedder by [`ChannelApprover`].
#[derive(Debug)]
pub struct PendingApproval {
    /// The request.
    pub request: ApprovalRequest,
    reply: oneshot::Sender<ApprovalDecision>,
}

impl PendingApproval {
    /// Answers the request.
    pub fn respond(self, decision: ApprovalDecision) {
        let _ = self.reply.send(decision);
    }

    /// Approves.
    pub fn approve(self, by: impl Into<String>) {
        self.respond(ApprovalDecision::Approved {
            by: Some(by.into()),
        });
    }

    /// Rejects.
    pub fn reject(self, reason: impl Into<String>) {
        self.respond(ApprovalDecision::Rejected {
            reason: reason.into(),
        });
    }
}

/// An approver that hands each request to the embedder through a channel and waits for the
/// answer. A dropped [`PendingApproval`] or a closed channel counts as a rejection.
#[derive(Debug, Clone)]
pub struct ChannelApprover {
    tx: mpsc::Sender<PendingApproval>,
}

impl ChannelApprover {
    /// The approver and the stream of requests to answer.
    pub fn new(capacity: usize) -> (Self, mpsc::Receiver<PendingApproval>) {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        (ChannelApprover { tx }, rx)
    }
}

#[async_trait]
impl Approver for ChannelApprover {
    async fn decide(&self, request: ApprovalRequest) -> ApprovalDecision {
        let (reply, answer) = oneshot::channel();
        if self
            .tx
            .send(PendingApproval { request, reply })
            .await
            .is_err()
        {
            return ApprovalDecision::Rejected {
                reason: "no one is listening for approval requests".into(),
            };
        }
        answer.await.unwrap_or(ApprovalDecision::Rejected {
            reason: "the approval request was dropped without an answer".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(name: &str, effect: ToolEffect) -> ToolSpec {
        ToolSpec::new(name, "d", effect).unwrap()
    }

    fn call(name: &str) -> ToolCall {
        ToolCall::new("1", name, json!({}))
    }

    #[test]
    fn safe_defaults() {
        let p = StandardPolicy::default();
        assert_eq!(
            p.decide(&spec("get", ToolEffect::ReadOnly), &call("get")),
            PolicyDecision::Allow
        );
        assert!(matches!(
            p.decide(&spec("scale", ToolEffect::Mutating), &call("scale")),
            PolicyDecision::RequireApproval { .. }
        ));
        assert!(matches!(
            p.decide(&spec("delete", ToolEffect::Destructive), &call("delete")),
            PolicyDecision::RequireApproval { .. }
        ));
    }

    #[test]
    fn precedence() {
        let p = StandardPolicy::read_only()
            .allow(["scale"])
            .deny(["get"])
            .require_approval(["get2"]);
        assert!(matches!(
            p.decide(&spec("get", ToolEffect::ReadOnly), &call("get")),
            PolicyDecision::Deny { .. }
        ));
        // read-only mode beats the allow list
        assert!(matches!(
            p.decide(&spec("scale", ToolEffect::Mutating), &call("scale")),
            PolicyDecision::Deny { .. }
        ));
        assert!(matches!(
            p.decide(&spec("get2", ToolEffect::ReadOnly), &call("get2")),
            PolicyDecision::RequireApproval { .. }
        ));
        let kagent = StandardPolicy::default()
            .with_mutating(Rule::Allow)
            .require_approval(["apply"]);
        assert_eq!(
            kagent.decide(&spec("scale", ToolEffect::Mutating), &call("scale")),
            PolicyDecision::Allow
        );
        assert!(matches!(
            kagent.decide(&spec("apply", ToolEffect::Mutating), &call("apply")),
            PolicyDecision::RequireApproval { .. }
        ));
    }

    #[tokio::test]
    async fn channel_approver_round_trip_and_drop() {
        let (approver, mut rx) = ChannelApprover::new(4);
        let req = ApprovalRequest {
            agent: "a".into(),
            session_id: "s".into(),
            run_id: "r".into(),
            call: call("scale"),
            effect: ToolEffect::Mutating,
            reason: "r".into(),
            preview: None,
        };
        let answer = tokio::spawn({
            let approver = approver.clone();
            let req = req.clone();
            async move { approver.decide(req).await }
        });
        rx.recv().await.unwrap().approve("alice");
        assert!(answer.await.unwrap().is_approved());

        let answer = tokio::spawn(async move { approver.decide(req).await });
        drop(rx.recv().await.unwrap());
        assert!(!answer.await.unwrap().is_approved());
    }
}
