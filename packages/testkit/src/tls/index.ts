export {
  type CreateTestCertificatesOptions,
  createTestCertificates,
  type PemKeyPair,
  type TestCertificates,
} from "./create-test-certificates.js";
