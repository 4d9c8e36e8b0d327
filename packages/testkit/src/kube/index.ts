export { defaultApiAudiences, startFakeKubeApi } from "./fake-kube-api.js";
export type {
  FakeFaultHandle,
  FakeFaultMatch,
  FakeFaults,
  FakeResourceStore,
  FakeResourceType,
} from "./resource-types.js";
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
