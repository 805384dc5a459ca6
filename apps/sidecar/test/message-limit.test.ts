// The spawned sidecar binary enforces --max-message-bytes: a request over the limit is refused
// with RESOURCE_EXHAUSTED and stores nothing; one under it is served.
import { create } from "@bufbuild/protobuf";
import * as wire from "@durabletask/api/proto";
import { type ServiceError, status } from "@grpc/grpc-js";
import { afterEach, expect, it } from "vitest";
import { callSidecar, killAll, startCli } from "./cli-process.js";

afterEach(killAll);

it("--max-message-bytes refuses larger requests with RESOURCE_EXHAUSTED and stores nothing", async () => {
  const cli = startCli(["--port", "0", "--host", "127.0.0.1", "--max-message-bytes", "65536"]);
  const address = `127.0.0.1:${await cli.listening()}`;
  const start = (instanceId: string, inputBytes: number) =>
    callSidecar(
      address,
      "startInstance",
      create(wire.CreateInstanceRequestSchema, {
        instanceId,
        name: "Big",
        input: JSON.stringify("x".repeat(inputBytes)),
      }),
    );
  const error = (await start("too-big", 70_000).catch((e: unknown) => e)) as ServiceError;
  expect(error.code).toBe(status.RESOURCE_EXHAUSTED);
  expect(error.details).toMatch(/larger than max \(\d+ vs\.? 65536\)/);
  const missing = await callSidecar<wire.GetInstanceResponse>(
    address,
    "getInstance",
    create(wire.GetInstanceRequestSchema, { instanceId: "too-big" }),
  );
  expect(missing.exists).toBe(false);

  await start("fits", 60_000);
  const found = await callSidecar<wire.GetInstanceResponse>(
    address,
    "getInstance",
    create(wire.GetInstanceRequestSchema, { instanceId: "fits", getInputsAndOutputs: true }),
  );
  expect(found.orchestrationState?.input).toHaveLength(60_002);
});
