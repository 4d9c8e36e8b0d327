import { status } from "@grpc/grpc-js";

const STREAM_PATH = "/pluginframework.v1.PluginFrameworkService/PluginStream";

/**
 * When kube-rbac-proxy refuses the plugin's stream it answers with a plain
 * HTTP status, which grpc-js reports as "Received HTTP status code 401".
 * This turns those into the status a plugin author can act on, with a
 * sentence saying what to check. Anything else is returned unchanged.
 */
export function explainHttpStatus(
  code: status,
  details: string,
  target: string,
): { code: status; details: string } {
  const match = /Received HTTP status code (\d{3})/.exec(details);
  if (!match) return { code, details };
  const http = Number(match[1]);
  const who = `the proxy in front of the operator at ${target}`;
  switch (http) {
    case 401:
      return {
        code: status.UNAUTHENTICATED,
        details: `${who} refused the plugin's token (HTTP 401): check that the token file holds a current ServiceAccount token whose audience is one the proxy accepts (a projected token's audience must match kube-rbac-proxy's --auth-token-audiences)`,
      };
    case 403:
      return {
        code: status.PERMISSION_DENIED,
        details: `${who} denied the plugin stream (HTTP 403): the plugin's ServiceAccount needs RBAC for verb "create" on the non-resource URL ${STREAM_PATH} (a ClusterRole with nonResourceURLs, bound to that ServiceAccount)`,
      };
    case 404:
      return {
        code: status.UNIMPLEMENTED,
        details: `${who} does not serve the plugin stream (HTTP 404): check that kube-rbac-proxy's --allow-paths includes ${STREAM_PATH} and that the target is the operator's plugin Service`,
      };
    case 502:
    case 503:
    case 504:
      return {
        code: status.UNAVAILABLE,
        details: `${who} could not reach the operator (HTTP ${http}): check that the operator is running and that kube-rbac-proxy's --upstream points at its plugin port`,
      };
    default:
      return { code, details: `${who} answered HTTP ${http} instead of gRPC (${details})` };
  }
}
