import { create } from "@bufbuild/protobuf";
import type { FailureDetails } from "./errors.js";
import {
  type TaskFailureDetails,
  TaskFailureDetailsSchema,
} from "./gen/orchestrator_service_pb.js";

/** The wire form of {@link FailureDetails}. */
export function toWireFailure(details: FailureDetails): TaskFailureDetails {
  return create(TaskFailureDetailsSchema, {
    errorType: details.errorType,
    errorMessage: details.errorMessage,
    stackTrace: details.stackTrace,
    innerFailure:
      details.innerFailure === undefined ? undefined : toWireFailure(details.innerFailure),
    isNonRetriable: details.isNonRetriable ?? false,
  });
}

/** The plain form of a wire TaskFailureDetails. */
export function fromWireFailure(details: TaskFailureDetails): FailureDetails {
  return {
    errorType: details.errorType,
    errorMessage: details.errorMessage,
    stackTrace: details.stackTrace,
    innerFailure:
      details.innerFailure === undefined ? undefined : fromWireFailure(details.innerFailure),
    isNonRetriable: details.isNonRetriable || undefined,
  };
}

/**
 * Failure details of anything thrown: an Error's name, message, stack and `cause` chain; for
 * anything else its string form under the type `Error`.
 */
export function failureOf(thrown: unknown, depth = 0): FailureDetails {
  if (thrown instanceof Error) {
    const withDetails = thrown as Error & { failureDetails?: FailureDetails };
    const cause =
      depth < 8 && thrown.cause !== undefined ? failureOf(thrown.cause, depth + 1) : undefined;
    return {
      errorType: thrown.name || thrown.constructor.name || "Error",
      errorMessage: thrown.message,
      stackTrace: thrown.stack,
      innerFailure: withDetails.failureDetails ?? cause,
      isNonRetriable: (thrown as { isNonRetriable?: boolean }).isNonRetriable === true || undefined,
    };
  }
  return { errorType: "Error", errorMessage: String(thrown) };
}
