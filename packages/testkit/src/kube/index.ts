export { defaultApiAudiences, startFakeKubeApi } from "./fake-kube-api.js";
export type {
  FakeAccessRule,
  FakeKubeApi,
  FakeKubeApiOptions,
  FakeKubeApiRequestCounts,
  FakeNonResourceAttributes,
  FakeResourceAttributes,
  FakeRuleStore,
  FakeTokenIdentity,
  FakeTokenStore,
} from "./types.js";
