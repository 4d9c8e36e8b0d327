/**
 * Builds a kubeconfig for one API server and one bearer token. JSON is valid
 * YAML, so client-node, kubectl and Go clients all load it.
 */
export function buildKubeconfig(options: { url: string; caPem: string; token: string }): string {
  return JSON.stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      clusters: [
        {
          name: "fake",
          cluster: {
            server: options.url,
            "certificate-authority-data": Buffer.from(options.caPem, "utf8").toString("base64"),
          },
        },
      ],
      users: [{ name: "fake-user", user: { token: options.token } }],
      contexts: [{ name: "fake", context: { cluster: "fake", user: "fake-user", namespace: "default" } }],
      "current-context": "fake",
    },
    null,
    2,
  );
}
