import { once } from "node:events";
import { createServer, request, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { createTestCertificates, type TestCertificates } from "./index.js";

let certs: TestCertificates;
let otherCerts: TestCertificates;
const servers: Server[] = [];

beforeAll(async () => {
  [certs, otherCerts] = await Promise.all([createTestCertificates(), createTestCertificates()]);
});

afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(async (server) => {
      server.closeAllConnections();
      server.close();
      await once(server, "close");
    }),
  );
});

async function listen(options: { requestCert?: boolean } = {}): Promise<number> {
  const server = createServer(
    {
      cert: certs.server.cert,
      key: certs.server.key,
      ca: certs.ca.cert,
      requestCert: options.requestCert ?? false,
      rejectUnauthorized: options.requestCert ?? false,
    },
    (req, res) => {
      const peer = (req.socket as TLSSocket).getPeerCertificate();
      res.end(peer?.subject?.CN ?? "anonymous");
    },
  );
  servers.push(server);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

function get(
  port: number,
  options: { ca: string; host?: string; servername?: string; cert?: string; key?: string },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        path: "/",
        agent: false,
        ca: options.ca,
        servername: options.servername,
        cert: options.cert,
        key: options.key,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve(body));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

describe("createTestCertificates", () => {
  it("issues a server certificate that a client trusting only the CA accepts by IP address", async () => {
    const port = await listen();
    await expect(get(port, { ca: certs.ca.cert })).resolves.toBe("anonymous");
  });

  it("issues a server certificate valid for the host name localhost", async () => {
    const port = await listen();
    await expect(get(port, { ca: certs.ca.cert, servername: "localhost" })).resolves.toBe("anonymous");
  });

  it("is rejected by a client that trusts a different CA", async () => {
    const port = await listen();
    // The server sends its CA along (it is in its `ca` option), so the client
    // sees an untrusted self-signed certificate in the chain.
    await expect(get(port, { ca: otherCerts.ca.cert })).rejects.toMatchObject({
      code: expect.stringMatching(/^(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/),
    });
  });

  it("does not cover host names that were not requested", async () => {
    const port = await listen();
    await expect(get(port, { ca: certs.ca.cert, servername: "example.com" })).rejects.toMatchObject({
      code: "ERR_TLS_CERT_ALTNAME_INVALID",
    });
  });

  it("issues a client certificate that a mutual-TLS server accepts", async () => {
    const port = await listen({ requestCert: true });
    await expect(
      get(port, { ca: certs.ca.cert, cert: certs.client.cert, key: certs.client.key }),
    ).resolves.toBe("test-client");
  });

  it("puts the requested hosts into the server certificate as DNS and IP SANs", async () => {
    const custom = await createTestCertificates({ hosts: ["my-operator.ns.svc", "10.0.0.7"] });
    const { X509Certificate } = await import("node:crypto");
    const cert = new X509Certificate(custom.server.cert);
    expect(cert.subjectAltName).toBe("DNS:my-operator.ns.svc, IP Address:10.0.0.7");
    expect(cert.subject).toBe("CN=my-operator.ns.svc");
    expect(cert.checkIssued(new X509Certificate(custom.ca.cert))).toBe(true);
    expect(new X509Certificate(custom.ca.cert).ca).toBe(true);
  });

  it("refuses an empty host list", async () => {
    await expect(createTestCertificates({ hosts: [] })).rejects.toThrow(/hosts/);
  });
});

describe("ipBytes", () => {
  it("encodes IPv4, compressed IPv6 and IPv4-mapped IPv6 addresses", async () => {
    const { ipBytes } = await import("./ip-bytes.js");
    expect([...ipBytes("10.0.0.7")]).toEqual([10, 0, 0, 7]);
    expect(ipBytes("::1").toString("hex")).toBe("00000000000000000000000000000001");
    expect(ipBytes("fe80::1:2").toString("hex")).toBe("fe800000000000000000000000010002");
    expect(ipBytes("::ffff:10.0.0.1").toString("hex")).toBe("00000000000000000000ffff0a000001");
    expect(ipBytes("2001:db8:0:0:0:0:0:1").toString("hex")).toBe("20010db8000000000000000000000001");
  });
});
