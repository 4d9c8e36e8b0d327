export { startFakeKubeRbacProxy } from "./fake-kube-rbac-proxy.js";
export type {
  FakeKubeRbacProxy,
  FakeKubeRbacProxyOptions,
  ProxyAuthorizationAttributes,
  ProxyCacheOptions,
  ProxyIdentity,
  ProxyKubeConnection,
  ProxyLogger,
  ProxyResourceAttributes,
  ProxyStats,
} from "./types.js";
