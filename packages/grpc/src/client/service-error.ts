import { DurableTaskError, type ErrorCode } from "@durabletask/api";
import { status } from "@grpc/grpc-js";

const statusToCode: Readonly<Partial<Record<status, ErrorCode>>> = {
  [status.NOT_FOUND]: "InstanceNotFound",
  [status.ALREADY_EXISTS]: "InstanceExists",
  [status.INVALID_ARGUMENT]: "InvalidArgument",
  [status.FAILED_PRECONDITION]: "NotCompleted",
  [status.DEADLINE_EXCEEDED]: "Timeout",
  [status.CANCELLED]: "Aborted",
  [status.UNAVAILABLE]: "Unavailable",
  [status.UNIMPLEMENTED]: "Unimplemented",
  [status.UNAUTHENTICATED]: "Unauthenticated",
  [status.RESOURCE_EXHAUSTED]: "PayloadTooLarge",
};

/** The gRPC status code of an error a `@grpc/grpc-js` call failed with, if it has one. */
function grpcStatusOf(error: unknown): status | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? (code as status) : undefined;
}

/**
 * The {@link DurableTaskError} for an error a sidecar call failed with. The gRPC status picks the
 * code (NOT_FOUND → `InstanceNotFound`, ALREADY_EXISTS → `InstanceExists`, INVALID_ARGUMENT →
 * `InvalidArgument`, FAILED_PRECONDITION → `NotCompleted`, DEADLINE_EXCEEDED → `Timeout`,
 * CANCELLED → `Aborted`, UNAVAILABLE → `Unavailable`, UNIMPLEMENTED → `Unimplemented`,
 * UNAUTHENTICATED → `Unauthenticated`, RESOURCE_EXHAUSTED → `PayloadTooLarge`, anything else →
 * `Internal`); the message is the server's status details, so it still names the field or the
 * instance (for RESOURCE_EXHAUSTED, prefixed with what it means: the request or response is
 * larger than the sidecar or this client accepts). The gRPC error is kept as `cause`. DurableTaskErrors pass through unchanged.
 */
export function fromServiceError(error: unknown): DurableTaskError {
  if (DurableTaskError.is(error)) return error;
  const grpcStatus = grpcStatusOf(error);
  const code = (grpcStatus === undefined ? undefined : statusToCode[grpcStatus]) ?? "Internal";
  const details = (error as { details?: unknown } | null)?.details;
  const message =
    typeof details === "string" && details !== ""
      ? details
      : error instanceof Error
        ? error.message
        : String(error);
  if (code === "PayloadTooLarge") {
    return new DurableTaskError(
      code,
      `the message is larger than the sidecar accepts (its --max-message-bytes): ${message}`,
      { cause: error },
    );
  }
  return new DurableTaskError(code, message, { cause: error });
}
