import { generateKeyPair, randomBytes } from "node:crypto";
import { isIP } from "node:net";
import { promisify } from "node:util";
import forge from "node-forge";

/** A certificate and its private key, both PEM. */
export interface PemKeyPair {
  /** The certificate, PEM (`-----BEGIN CERTIFICATE-----`). */
  cert: string;
  /** The private key, PEM (`-----BEGIN RSA PRIVATE KEY-----`). */
  key: string;
}

/** A throwaway PKI: one CA and a server and a client certificate it signed. */
export interface TestCertificates {
  /** The CA. Give `ca.cert` to whoever must trust the server or the client. */
  ca: PemKeyPair;
  /** A server certificate (serverAuth) with SANs for every requested host. */
  server: PemKeyPair;
  /** A client certificate (clientAuth) for mutual TLS. */
  client: PemKeyPair;
}

/** Options of {@link createTestCertificates}. */
export interface CreateTestCertificatesOptions {
  /**
   * Host names and IP addresses the server certificate is valid for. IP
   * addresses become IP SANs, everything else DNS SANs.
   * Default: `["localhost", "127.0.0.1", "::1"]`.
   */
  hosts?: string[];
  /** Common name of the server certificate. Default: the first host. */
  commonName?: string;
  /** Common name of the client certificate. Default: `"test-client"`. */
  clientCommonName?: string;
}

const generateKeyPairAsync = promisify(generateKeyPair);
const day = 24 * 60 * 60 * 1000;

interface KeyPair {
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
  pem: string;
}

// Key generation goes through node's native crypto: forge's pure-JS RSA key
// generation takes seconds, signing a certificate takes milliseconds.
async function generateKeys(): Promise<KeyPair> {
  const { privateKey: pem } = await generateKeyPairAsync("rsa", {
    modulusLength: 2048,
    publicKeyEncoding: { type: "spki", format: "pem" },
    privateKeyEncoding: { type: "pkcs1", format: "pem" },
  });
  const privateKey = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  const publicKey = forge.pki.setRsaPublicKey(privateKey.n, privateKey.e);
  return { privateKey, publicKey, pem };
}

/** A random positive serial: two CAs from one run must never look alike to a verifier. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString("hex");
}

function newCertificate(publicKey: forge.pki.rsa.PublicKey, commonName: string): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serialNumber();
  // A day of slack on both sides tolerates clock differences between processes.
  const now = Date.now();
  cert.validity.notBefore = new Date(now - day);
  cert.validity.notAfter = new Date(now + 30 * day);
  cert.setSubject([{ name: "commonName", value: commonName }]);
  return cert;
}

function subjectAltNames(hosts: readonly string[]): object[] {
  // GeneralName tags from RFC 5280: 2 = dNSName, 7 = iPAddress.
  return hosts.map((host) => (isIP(host) === 0 ? { type: 2, value: host } : { type: 7, ip: host }));
}

/**
 * Generates a CA and a server and a client certificate signed by it, all
 * valid for 30 days, in JavaScript (no openssl). Nothing is written to disk.
 *
 * @example
 * const certs = await createTestCertificates();
 * const server = https.createServer({ cert: certs.server.cert, key: certs.server.key }, handler);
 * https.request({ host: "127.0.0.1", port, ca: certs.ca.cert }, onResponse);
 */
export async function createTestCertificates(
  options: CreateTestCertificatesOptions = {},
): Promise<TestCertificates> {
  const hosts = options.hosts ?? ["localhost", "127.0.0.1", "::1"];
  if (hosts.length === 0) {
    throw new Error("createTestCertificates: `hosts` is empty; give at least one host name or IP address");
  }
  const [caKeys, serverKeys, clientKeys] = await Promise.all([
    generateKeys(),
    generateKeys(),
    generateKeys(),
  ]);

  // A unique CA name: verifiers look issuers up by name, and two test CAs with
  // one name would make a wrong-CA failure look like a chain error.
  const caName = `operator-plugin-framework test CA ${randomBytes(4).toString("hex")}`;
  const ca = newCertificate(caKeys.publicKey, caName);
  ca.setIssuer(ca.subject.attributes);
  ca.setExtensions([
    { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
    { name: "keyUsage", keyCertSign: true, cRLSign: true, critical: true },
    { name: "subjectKeyIdentifier" },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());
  const caKeyId = ca.generateSubjectKeyIdentifier().getBytes();

  function issue(keys: KeyPair, commonName: string, extensions: object[]): PemKeyPair {
    const cert = newCertificate(keys.publicKey, commonName);
    cert.setIssuer(ca.subject.attributes);
    cert.setExtensions([
      { name: "basicConstraints", cA: false, critical: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "subjectKeyIdentifier" },
      { name: "authorityKeyIdentifier", keyIdentifier: caKeyId },
      ...extensions,
    ]);
    cert.sign(caKeys.privateKey, forge.md.sha256.create());
    return { cert: forge.pki.certificateToPem(cert), key: keys.pem };
  }

  const server = issue(serverKeys, options.commonName ?? hosts[0]!, [
    { name: "extKeyUsage", serverAuth: true },
    { name: "subjectAltName", altNames: subjectAltNames(hosts) },
  ]);
  const client = issue(clientKeys, options.clientCommonName ?? "test-client", [
    { name: "extKeyUsage", clientAuth: true },
  ]);
  return { ca: { cert: forge.pki.certificateToPem(ca), key: caKeys.pem }, server, client };
}
