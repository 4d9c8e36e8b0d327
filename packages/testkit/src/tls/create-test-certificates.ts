import { createHash, generateKeyPair, type KeyObject, randomBytes, sign } from "node:crypto";
import { isIP } from "node:net";
import { promisify } from "node:util";
import {
  bitString,
  booleanTrue,
  explicit,
  implicit,
  namedBits,
  objectIdentifier,
  octetString,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from "./der.js";
import { ipBytes } from "./ip-bytes.js";

/** A certificate and its private key, both PEM. */
export interface PemKeyPair {
  /** The certificate, PEM (`-----BEGIN CERTIFICATE-----`). */
  cert: string;
  /** The private key, PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
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

const oid = {
  commonName: "2.5.4.3",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  extKeyUsage: "2.5.29.37",
  subjectAltName: "2.5.29.17",
  subjectKeyIdentifier: "2.5.29.14",
  authorityKeyIdentifier: "2.5.29.35",
  serverAuth: "1.3.6.1.5.5.7.3.1",
  clientAuth: "1.3.6.1.5.5.7.3.2",
};
// KeyUsage bit positions from RFC 5280 4.2.1.3.
const keyUsage = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 };

interface Keys {
  privateKey: KeyObject;
  spki: Buffer;
  keyId: Buffer;
}

// ECDSA P-256 through node's native crypto: a key and a signature take about
// a millisecond, so every test can afford a fresh PKI (RSA keys take seconds).
async function generateKeys(): Promise<Keys> {
  const { publicKey, privateKey } = await generateKeyPairAsync("ec", { namedCurve: "P-256" });
  const spki = publicKey.export({ type: "spki", format: "der" });
  return { privateKey, spki, keyId: createHash("sha1").update(spki).digest() };
}

function name(commonName: string): Buffer {
  return sequence(set(sequence(objectIdentifier(oid.commonName), utf8String(commonName))));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(objectIdentifier(id), ...(critical ? [booleanTrue()] : []), octetString(value));
}

function subjectAltNames(hosts: readonly string[]): Buffer {
  // GeneralName tags from RFC 5280: [2] dNSName (IA5String), [7] iPAddress (OCTET STRING).
  return sequence(
    ...hosts.map((host) =>
      isIP(host) === 0 ? implicit(2, Buffer.from(host, "ascii")) : implicit(7, ipBytes(host)),
    ),
  );
}

function certificate(options: {
  subject: string;
  issuer: string;
  keys: Keys;
  signer: Keys;
  extensions: Buffer[];
}): string {
  // A day of slack on both sides tolerates clock differences between processes.
  const now = Date.now();
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x01;
  const algorithm = sequence(objectIdentifier(oid.ecdsaWithSha256));
  const tbs = sequence(
    explicit(0, smallInteger(2)),
    unsignedInteger(serial),
    algorithm,
    name(options.issuer),
    sequence(time(new Date(now - day)), time(new Date(now + 30 * day))),
    name(options.subject),
    options.keys.spki,
    explicit(
      3,
      sequence(
        ...options.extensions,
        extension(oid.subjectKeyIdentifier, false, octetString(options.keys.keyId)),
        extension(oid.authorityKeyIdentifier, false, sequence(implicit(0, options.signer.keyId))),
      ),
    ),
  );
  const signature = sign("sha256", tbs, options.signer.privateKey);
  const der = sequence(tbs, algorithm, bitString(signature));
  const base64 = der.toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${base64.trimEnd()}\n-----END CERTIFICATE-----\n`;
}

function privateKeyPem(keys: Keys): string {
  return keys.privateKey.export({ type: "pkcs8", format: "pem" }) as string;
}

/**
 * Generates a CA and a server and a client certificate signed by it (ECDSA
 * P-256, valid for 30 days), with node's crypto and no openssl binary.
 * Nothing is written to disk.
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
  const leafExtensions = (usage: string) => [
    extension(oid.basicConstraints, true, sequence()),
    extension(oid.keyUsage, true, namedBits([keyUsage.digitalSignature])),
    extension(oid.extKeyUsage, false, sequence(objectIdentifier(usage))),
  ];
  const ca = certificate({
    subject: caName,
    issuer: caName,
    keys: caKeys,
    signer: caKeys,
    extensions: [
      extension(oid.basicConstraints, true, sequence(booleanTrue(), smallInteger(0))),
      extension(oid.keyUsage, true, namedBits([keyUsage.keyCertSign, keyUsage.cRLSign])),
    ],
  });
  const server = certificate({
    subject: options.commonName ?? hosts[0]!,
    issuer: caName,
    keys: serverKeys,
    signer: caKeys,
    extensions: [
      ...leafExtensions(oid.serverAuth),
      extension(oid.subjectAltName, false, subjectAltNames(hosts)),
    ],
  });
  const client = certificate({
    subject: options.clientCommonName ?? "test-client",
    issuer: caName,
    keys: clientKeys,
    signer: caKeys,
    extensions: leafExtensions(oid.clientAuth),
  });
  return {
    ca: { cert: ca, key: privateKeyPem(caKeys) },
    server: { cert: server, key: privateKeyPem(serverKeys) },
    client: { cert: client, key: privateKeyPem(clientKeys) },
  };
}
