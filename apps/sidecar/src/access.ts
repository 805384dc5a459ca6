import { createPrivateKey, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { BlockList, isIP } from "node:net";
import { ServerCredentials } from "@grpc/grpc-js";
import { UsageError } from "./usage-error.js";

const loopback = new BlockList();
loopback.addSubnet("127.0.0.0", 8, "ipv4");
loopback.addAddress("::1", "ipv6");
loopback.addSubnet("::ffff:127.0.0.0", 104, "ipv6");

/**
 * Is `host` reachable from this machine only: `localhost`, an address in 127.0.0.0/8 or `::1`
 * (also as `[::1]`)? Anything else (`0.0.0.0`, `::`, other names and addresses) may be
 * reachable from the network.
 */
export function isLoopbackHost(host: string): boolean {
  const bare = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (bare.toLowerCase() === "localhost") return true;
  const family = isIP(bare);
  if (family === 0) return false;
  return loopback.check(bare, family === 4 ? "ipv4" : "ipv6");
}

/** What {@link exposureProblem} looks at. */
export interface Exposure {
  readonly host: string;
  readonly tls: boolean;
  readonly authToken: boolean;
  readonly insecure: boolean;
}

/**
 * Why the sidecar must not start as `exposure` says, or undefined if it may. Off loopback it
 * needs both TLS and a token, unless `insecure` accepts the risk.
 */
export function exposureProblem(exposure: Exposure): string | undefined {
  if (isLoopbackHost(exposure.host) || exposure.insecure) return undefined;
  const missing = [
    exposure.tls ? undefined : "TLS (--tls-cert and --tls-key)",
    exposure.authToken ? undefined : "a token (--auth-token)",
  ].filter((m) => m !== undefined);
  if (missing.length === 0) return undefined;
  return (
    `--host ${exposure.host}: not a loopback address, and the sidecar would serve without ` +
    `${missing.join(" and without ")}, so anyone who can reach it could start, read and ` +
    "terminate orchestrations. Add them, or add --insecure to serve like this anyway"
  );
}

/** The warning logged when `--insecure` lets a sidecar off loopback serve without protection. */
export function insecureWarning(exposure: Exposure): string | undefined {
  if (isLoopbackHost(exposure.host) || (exposure.tls && exposure.authToken)) return undefined;
  const lacking = [exposure.tls ? undefined : "TLS", exposure.authToken ? undefined : "a token"]
    .filter((m) => m !== undefined)
    .join(" or ");
  return `--insecure: serving on ${exposure.host} (not loopback) without ${lacking}: anyone who can reach it controls the task hub`;
}

/**
 * TLS server credentials from PEM files. Throws a {@link UsageError} naming the flag (and the
 * path) when only one is given or a file cannot be read or parsed.
 */
export function tlsCredentials(
  certPath: string | undefined,
  keyPath: string | undefined,
): ServerCredentials | undefined {
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined || keyPath === undefined) {
    throw new UsageError("--tls-cert and --tls-key must be given together");
  }
  const cert = readPem("--tls-cert", certPath);
  const key = readPem("--tls-key", keyPath);
  try {
    new X509Certificate(cert);
  } catch {
    throw new UsageError(`--tls-cert: '${certPath}' is not a PEM certificate`);
  }
  try {
    createPrivateKey(key);
  } catch {
    // Never include the file's content: it is the private key.
    throw new UsageError(`--tls-key: '${keyPath}' is not an unencrypted PEM private key`);
  }
  return ServerCredentials.createSsl(null, [{ cert_chain: cert, private_key: key }], false);
}

function readPem(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new UsageError(`${flag}: cannot read '${path}' (${code})`);
  }
}
