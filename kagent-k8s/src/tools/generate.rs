//! `k8s_generate_resource`: writes a manifest with the agent's own model; applies nothing.

use kagent_core::{ChatRequest, Message, ToolContext, ToolEffect, ToolOutput};
use schemars::JsonSchema;
use serde::Deserialize;

use super::k8s_tool;
use crate::error::{K8sError, Result};

/// Arguments of `k8s_generate_resource`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct GenerateArgs {
    /// Detailed description of the resource to generate.
    pub resource_description: String,
    /// Type of resource to generate (istio_auth_policy, istio_virtual_service,
    /// gateway_api_gateway, gateway_api_http_route, gateway_api_grpc_route,
    /// gateway_api_gateway_class, gateway_api_reference_grant, argo_rollout,
    /// argo_analysis_template, or any Kubernetes kind such as Deployment).
    pub resource_type: String,
}

k8s_tool!(
    /// `k8s_generate_resource`: writes a manifest with the agent's own model.
    GenerateResource,
    "k8s_generate_resource",
    ToolEffect::ReadOnly,
    GenerateArgs,
    "Generate a Kubernetes resource YAML from a description (uses the agent's model; applies \
     nothing)."
);

/// Guidance per generation type (kagent's types plus any kind).
fn generation_guide(resource_type: &str) -> String {
    let specific = match resource_type {
        "istio_auth_policy" => {
            "an Istio security.istio.io/v1 AuthorizationPolicy (or PeerAuthentication when the description is about mTLS)"
        }
        "istio_virtual_service" => "an Istio networking.istio.io/v1 VirtualService",
        "gateway_api_gateway" => "a Gateway API gateway.networking.k8s.io/v1 Gateway",
        "gateway_api_http_route" => "a Gateway API gateway.networking.k8s.io/v1 HTTPRoute",
        "gateway_api_grpc_route" => "a Gateway API gateway.networking.k8s.io/v1 GRPCRoute",
        "gateway_api_gateway_class" => "a Gateway API gateway.networking.k8s.io/v1 GatewayClass",
        "gateway_api_reference_grant" => {
            "a Gateway API gateway.networking.k8s.io/v1beta1 ReferenceGrant"
        }
        "argo_rollout" => "an Argo Rollouts argoproj.io/v1alpha1 Rollout",
        "argo_analysis_template" => "an Argo Rollouts argoproj.io/v1alpha1 AnalysisTemplate",
        other => return format!("a Kubernetes {other} resource"),
    };
    specific.to_owned()
}

/// The YAML inside the first fenced block, or the whole text.
pub(crate) fn extract_yaml(text: &str) -> String {
    let t = text.trim();
    if let Some(start) = t.find("```") {
        let after = t.get(start + 3..).unwrap_or("");
        let after = after
            .split_once('\n')
            .map(|(_, rest)| rest)
            .unwrap_or(after);
        if let Some(end) = after.find("```") {
            return after.get(..end).unwrap_or(after).trim().to_owned();
        }
    }
    t.to_owned()
}

impl GenerateResource {
    async fn exec(&self, args: GenerateArgs, _ctx: &ToolContext) -> Result<ToolOutput> {
        let s = &self.0;
        let Some(model) = &s.model else {
            return Err(K8sError::Unsupported {
                message: "no model is configured for resource generation (K8sToolsBuilder::model)"
                    .into(),
            });
        };
        let ty = args.resource_type.trim();
        if ty.is_empty() || args.resource_description.trim().is_empty() {
            return Err(K8sError::invalid(
                "arguments",
                "resource_type and resource_description are required",
            ));
        }
        let guide = generation_guide(ty);
        let mut req = ChatRequest::new(vec![Message::user(args.resource_description.clone())]);
        req.system = Some(format!(
            "You write Kubernetes manifests. Produce {guide} that does what the user describes. \
             Answer with only the YAML (one document per object, separated by ---), inside a ```yaml \
             fence, with apiVersion, kind and metadata.name set. Use current, non-deprecated API \
             versions. Do not invent cluster-specific values that were not given; use clear \
             placeholders instead."
        ));
        req.temperature = Some(0.0);
        let span = tracing::info_span!(
            "chat",
            "gen_ai.operation.name" = "chat",
            "gen_ai.request.model" = s.model_name.as_deref().unwrap_or("")
        );
        let resp = tracing::Instrument::instrument(model.chat(&req), span)
            .await
            .map_err(|e| K8sError::Unsupported {
                message: format!("the model call failed: {e}"),
            })?;
        let yaml = extract_yaml(&resp.message.text_content());
        match write_check(&yaml) {
            Ok(n) => Ok(ToolOutput::text(format!(
                "{yaml}\n# {n} object(s); review, then apply with k8s_apply_manifest"
            ))),
            Err(problem) => Ok(ToolOutput::text(format!(
                "{yaml}\n# WARNING: the generated text is not a valid manifest ({problem}); review and fix it before applying"
            ))),
        }
    }
}

fn write_check(yaml: &str) -> std::result::Result<usize, String> {
    super::write::parse_manifests(yaml)
        .map(|d| d.len())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_is_taken_from_fences() {
        assert_eq!(
            extract_yaml("Here:\n```yaml\nkind: A\n```\nthanks"),
            "kind: A"
        );
        assert_eq!(extract_yaml("kind: B\n"), "kind: B");
        assert_eq!(
            generation_guide("argo_rollout"),
            "an Argo Rollouts argoproj.io/v1alpha1 Rollout"
        );
        assert_eq!(
            generation_guide("Deployment"),
            "a Kubernetes Deployment resource"
        );
    }
}
