import { format } from "node:util";
import type { Logger } from "@durabletask/api";
import { setLogger } from "@grpc/grpc-js";

/**
 * Sends @grpc/grpc-js's own diagnostics (by default only its errors, e.g. a failed bind; more
 * with `GRPC_VERBOSITY` / `GRPC_TRACE`) through `logger`, so every stderr line has the sidecar's
 * format (JSON lines stay parseable). Process-wide: grpc-js has one logger.
 */
export function routeGrpcLogs(logger: Logger): void {
  const line = (args: unknown[]) => `grpc-js: ${format(...args)}`;
  setLogger({
    error: (...args: unknown[]) => logger.warn(line(args)),
    info: (...args: unknown[]) => logger.info(line(args)),
    debug: (...args: unknown[]) => logger.debug(line(args)),
  });
}
