import { createHash, timingSafeEqual } from "node:crypto";
import { invalidArgument, type Logger, silentLogger } from "@durabletask/api";
import * as wire from "@durabletask/api/proto";
import {
  type Metadata,
  ServerInterceptingCall,
  type ServerInterceptingCallInterface,
  type ServerInterceptor,
  status,
} from "@grpc/grpc-js";

/** Options of {@link bearerTokenInterceptor}. */
export interface BearerTokenInterceptorOptions {
  /** Logs rejected calls at `debug` (method and peer; never a token). */
  readonly logger?: Logger | undefined;
}

/** A printable ASCII token without spaces: what fits in `authorization: Bearer <token>`. */
const tokenPattern = /^[\x21-\x7e]+$/;

/**
 * A `@grpc/grpc-js` server interceptor that requires `authorization: Bearer <token>` metadata on
 * every call of `TaskHubSidecarService` (unary calls and streams alike); other calls (the
 * `grpc.health.v1.Health` service, for probes) pass unchecked. A missing or wrong token ends the
 * call with UNAUTHENTICATED before its request is read; the status details never contain a
 * token. The comparison takes the same time whatever the token sent.
 *
 * `createSidecarServer({ authToken })` installs it; with {@link addSidecarServices}, pass it as
 * `new Server({ interceptors: [bearerTokenInterceptor(token)] })`.
 */
export function bearerTokenInterceptor(
  token: string,
  options: BearerTokenInterceptorOptions = {},
): ServerInterceptor {
  if (typeof token !== "string" || !tokenPattern.test(token)) {
    // Never echo the value: it is a secret, even when malformed.
    throw invalidArgument("authToken", "must be non-empty printable ASCII without spaces");
  }
  const logger = options.logger ?? silentLogger;
  const expected = digest(token);
  const guarded = `/${wire.TaskHubSidecarService.typeName}/`;
  return (method, call: ServerInterceptingCallInterface) => {
    if (!method.path.startsWith(guarded)) return new ServerInterceptingCall(call);
    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, pass) {
            const problem = checkBearer(metadata, expected);
            if (problem === undefined) {
              pass(metadata);
              return;
            }
            logger.debug("rejected an unauthenticated call", {
              method: method.path,
              peer: call.getPeer(),
            });
            call.sendStatus({ code: status.UNAUTHENTICATED, details: problem });
          },
        });
      },
    });
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** Why `metadata` does not authenticate the call, or undefined if it does. */
function checkBearer(metadata: Metadata, expected: Buffer): string | undefined {
  const values = metadata.get("authorization");
  const header = values.length === 1 ? values[0] : undefined;
  if (typeof header !== "string") {
    return "this sidecar requires 'authorization: Bearer <token>' metadata on every call";
  }
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (match === null) {
    return "the authorization metadata must be 'Bearer <token>'";
  }
  // Hashing first gives equal-length buffers, so neither the content nor the length of the
  // expected token shows in the time the comparison takes.
  if (!timingSafeEqual(digest(match[1] ?? ""), expected)) {
    return "the bearer token is not valid for this sidecar";
  }
  return undefined;
}
