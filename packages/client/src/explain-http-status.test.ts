import { status } from "@grpc/grpc-js";
import { describe, expect, it } from "vitest";
import { explainHttpStatus } from "./explain-http-status.js";

const target = "operator.opf-system.svc:8443";

describe("explainHttpStatus", () => {
  it("turns kube-rbac-proxy's 401, 403 and 404 into the status to act on, saying what to check", () => {
    const unauthenticated = explainHttpStatus(
      status.UNAUTHENTICATED,
      "Received HTTP status code 401",
      target,
    );
    expect(unauthenticated.code).toBe(status.UNAUTHENTICATED);
    expect(unauthenticated.details).toContain(`at ${target} refused the plugin's token (HTTP 401)`);
    expect(unauthenticated.details).toContain("--auth-token-audiences");

    const denied = explainHttpStatus(status.PERMISSION_DENIED, "Received HTTP status code 403", target);
    expect(denied.code).toBe(status.PERMISSION_DENIED);
    expect(denied.details).toContain(
      'verb "create" on the non-resource URL /pluginframework.v1.PluginFrameworkService/PluginStream',
    );

    const missing = explainHttpStatus(status.UNIMPLEMENTED, "Received HTTP status code 404", target);
    expect(missing.code).toBe(status.UNIMPLEMENTED);
    expect(missing.details).toContain("--allow-paths");
  });

  it("says the proxy could not reach the operator for 502-504", () => {
    const result = explainHttpStatus(status.UNAVAILABLE, "Received HTTP status code 502", target);
    expect(result).toEqual({
      code: status.UNAVAILABLE,
      details: `the proxy in front of the operator at ${target} could not reach the operator (HTTP 502): check that the operator is running and that kube-rbac-proxy's --upstream points at its plugin port`,
    });
  });

  it("leaves gRPC statuses alone", () => {
    const grpc = { code: status.PERMISSION_DENIED, details: 'user "x" may not register plugin "aws"' };
    expect(explainHttpStatus(grpc.code, grpc.details, target)).toEqual(grpc);
  });
});
