import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import * as wire from "@durabletask/api/proto";
import { health } from "@durabletask/api/proto";
import { makeTestCert, type TestCert } from "@durabletask/testing";
import { credentials, type ServiceError, status } from "@grpc/grpc-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { callSidecar, checkHealth, killAll, startCli } from "./cli-process.js";

let cert: TestCert;
beforeAll(() => {
  cert = makeTestCert();
});
afterEach(killAll);
afterAll(() => cert.cleanup());

const token = "cli-T0ken.secret";
const getInstance = create(wire.GetInstanceRequestSchema, { instanceId: "nobody" });

describe("durabletask-sidecar access control", () => {
  it.each([
    [["--tls-cert", "c.pem"], {}, "--tls-cert: needs --tls-key too"],
    [[], { DURABLETASK_TLS_KEY: "k.pem" }, "DURABLETASK_TLS_KEY (--tls-key): needs --tls-cert too"],
    [
      ["--tls-cert", "/nonexistent/c.pem", "--tls-key", "/nonexistent/k.pem"],
      {},
      "--tls-cert: cannot read '/nonexistent/c.pem' (ENOENT)",
    ],
    [["--auth-token", "two words"], {}, "--auth-token: must be printable ASCII without spaces"],
    [
      ["--host", "0.0.0.0", "--port", "0"],
      {},
      "--host 0.0.0.0: not a loopback address, and the sidecar would serve without TLS (--tls-cert and --tls-key) and without a token (--auth-token)",
    ],
    [
      ["--host", "0.0.0.0", "--port", "0"],
      { DURABLETASK_AUTH_TOKEN: token },
      "without TLS (--tls-cert and --tls-key), so anyone",
    ],
  ])("refuses %j %j with exit code 2 before binding", async (args, env, message) => {
    const cli = startCli(args, env);
    expect(await cli.exited).toBe(2);
    const lines = cli.stderr().trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^durabletask-sidecar: /);
    expect(lines[0]).toContain(message);
    expect(lines[0]).not.toContain(token);
    expect(lines[0]).not.toContain("two words");
    if ((args as string[]).includes("0.0.0.0")) expect(lines[0]).toContain("--insecure");
  });

  it("the unreadable file named is the one that is missing", async () => {
    const missing = join(cert.dir, "nope.pem");
    const cli = startCli(["--tls-cert", cert.certPath, "--tls-key", missing]);
    expect(await cli.exited).toBe(2);
    expect(cli.stderr()).toContain(`--tls-key: cannot read '${missing}' (ENOENT)`);
  });

  it("starts on a non-loopback host with DURABLETASK_INSECURE=1, with a warning", async () => {
    // Port 0 on 0.0.0.0, stopped at once: nothing outside this machine connects to it.
    const cli = startCli(["--host", "0.0.0.0", "--port", "0"], { DURABLETASK_INSECURE: "1" });
    await cli.listening();
    cli.child.kill("SIGKILL");
    expect(cli.stderr()).toMatch(
      /WARN --insecure: serving on 0\.0\.0\.0 \(not loopback\) without TLS or a token/,
    );
  });

  it("serves TLS and requires the token, except on the health service; never logs the token", async () => {
    const cli = startCli(
      [
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--tls-cert",
        cert.certPath,
        "--tls-key",
        cert.keyPath,
        "--log-level",
        "debug",
      ],
      { DURABLETASK_AUTH_TOKEN: token },
    );
    const port = await cli.listening();
    const address = `localhost:${port}`;
    const tls = credentials.createSsl(cert.cert);
    expect(await checkHealth(address, tls)).toBe(health.HealthCheckResponse_ServingStatus.SERVING);
    const authorized = await callSidecar<wire.GetInstanceResponse>(
      address,
      "getInstance",
      getInstance,
      { credentials: tls, metadata: { authorization: `Bearer ${token}` } },
    );
    expect(authorized.exists).toBe(false);
    const attempts: Record<string, string>[] = [{}, { authorization: "Bearer wrong" }];
    for (const metadata of attempts) {
      const error = await callSidecar(address, "getInstance", getInstance, {
        credentials: tls,
        metadata,
      }).catch((e: unknown) => e as ServiceError);
      expect((error as ServiceError).code).toBe(status.UNAUTHENTICATED);
    }
    const plain = await callSidecar(`127.0.0.1:${port}`, "getInstance", getInstance, {
      metadata: { authorization: `Bearer ${token}` },
    }).catch((e: unknown) => e as ServiceError);
    expect((plain as ServiceError).code).toBe(status.UNAVAILABLE);
    cli.child.kill("SIGTERM");
    expect(await cli.exited).toBe(0);
    expect(cli.stderr()).toContain("rejected an unauthenticated call");
    expect(cli.stderr()).toMatch(/listening on 127\.0\.0\.1:\d+ .* tls=true auth="?bearer token/);
    expect(cli.stderr()).not.toContain(token);
  });
});
