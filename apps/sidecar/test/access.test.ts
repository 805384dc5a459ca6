import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { makeTestCert, type TestCert } from "@durabletask/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exposureProblem, insecureWarning, isLoopbackHost, tlsCredentials } from "../src/access.js";
import { createSidecar } from "../src/sidecar.js";
import { UsageError } from "../src/usage-error.js";

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describe("isLoopbackHost", () => {
  it.each([
    "localhost",
    "LOCALHOST",
    "127.0.0.1",
    "127.255.0.9",
    "::1",
    "[::1]",
    "::ffff:127.0.0.1",
  ])("%s is loopback", (host) => expect(isLoopbackHost(host)).toBe(true));
  it.each([
    "0.0.0.0",
    "::",
    "[::]",
    "10.0.0.1",
    "128.0.0.1",
    "example.com",
    "localhost.evil.com",
    "",
  ])("%s is not", (host) => expect(isLoopbackHost(host)).toBe(false));
});

describe("exposureProblem", () => {
  const base = { host: "0.0.0.0", tls: false, authToken: false, insecure: false };

  it("allows loopback hosts without TLS or token", () => {
    expect(exposureProblem({ ...base, host: "localhost" })).toBeUndefined();
    expect(exposureProblem({ ...base, host: "127.0.0.1" })).toBeUndefined();
  });

  it("refuses a non-loopback host unless it has TLS and a token, naming what is missing and --insecure", () => {
    expect(exposureProblem(base)).toMatch(
      /^--host 0\.0\.0\.0: not a loopback address.*without TLS \(--tls-cert and --tls-key\) and without a token \(--auth-token\).*--insecure/,
    );
    const tlsOnly = exposureProblem({ ...base, tls: true });
    expect(tlsOnly).toContain("without a token (--auth-token)");
    expect(tlsOnly).not.toContain("--tls-cert");
    expect(exposureProblem({ ...base, authToken: true })).toContain("without TLS");
    expect(exposureProblem({ ...base, tls: true, authToken: true })).toBeUndefined();
  });

  it("lets --insecure through, with a warning only when something is missing", () => {
    expect(exposureProblem({ ...base, insecure: true })).toBeUndefined();
    expect(insecureWarning({ ...base, insecure: true })).toMatch(
      /--insecure: serving on 0\.0\.0\.0 \(not loopback\) without TLS or a token/,
    );
    expect(insecureWarning({ ...base, tls: true, authToken: true })).toBeUndefined();
    expect(insecureWarning({ ...base, host: "localhost" })).toBeUndefined();
  });
});

describe("tlsCredentials", () => {
  let cert: TestCert;
  beforeAll(() => {
    cert = makeTestCert();
  });
  afterAll(() => cert.cleanup());

  it("loads a certificate and key; neither means plain text", () => {
    expect(tlsCredentials(cert.certPath, cert.keyPath)).toBeDefined();
    expect(tlsCredentials(undefined, undefined)).toBeUndefined();
  });

  it("refuses one without the other, unreadable files and non-PEM content, naming flag and path", () => {
    expect(() => tlsCredentials(cert.certPath, undefined)).toThrow(
      "--tls-cert and --tls-key must be given together",
    );
    expect(() => tlsCredentials(undefined, cert.keyPath)).toThrow(UsageError);
    const missing = join(cert.dir, "missing.pem");
    expect(() => tlsCredentials(missing, cert.keyPath)).toThrow(
      `--tls-cert: cannot read '${missing}' (ENOENT)`,
    );
    expect(() => tlsCredentials(cert.certPath, missing)).toThrow(
      `--tls-key: cannot read '${missing}'`,
    );
    const junk = join(cert.dir, "junk.pem");
    writeFileSync(junk, "not pem");
    expect(() => tlsCredentials(junk, cert.keyPath)).toThrow(
      /^--tls-cert: '.*junk\.pem' is not a PEM certificate$/,
    );
    // The certificate is no private key: refused without printing the file.
    expect(() => tlsCredentials(cert.certPath, cert.certPath)).toThrow(
      /^--tls-key: '.*cert\.pem' is not/,
    );
  });
});

describe("createSidecar (access control)", () => {
  it("refuses a non-loopback host before opening or binding anything", async () => {
    // 192.0.2.1 (TEST-NET-1) is no address of this machine: had it tried to bind, the error
    // would be EADDRNOTAVAIL rather than the UsageError, and nothing would ever listen.
    const error = await createSidecar({ host: "192.0.2.1", port: 0, logger: quiet }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(
      /^--host 192\.0\.2\.1: not a loopback address.*--insecure/,
    );
  });

  it("refuses a malformed token without echoing it", async () => {
    const error = await createSidecar({ port: 0, logger: quiet, authToken: "a secret" }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe("--auth-token: must be printable ASCII without spaces");
  });
});
