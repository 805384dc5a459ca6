import { createHash } from "node:crypto";

/** The namespace of the .NET Durable Task SDK's deterministic GUIDs. @internal */
export const dotnetGuidNamespace = "9e952958-5e33-4daf-827f-2fa12937b875";

/** A name-based UUID, version 5 (SHA-1), per RFC 9562 §5.5. @internal */
export function uuidV5(namespace: string, name: string): string {
  const namespaceBytes = Buffer.from(namespace.replaceAll("-", ""), "hex");
  const hash = createHash("sha1").update(namespaceBytes).update(name, "utf8").digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x50;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * The `counter`-th deterministic GUID of an execution: UUID v5 over
 * `<instanceId>_<time as ISO 8601 with 7 fractional digits>Z_<counter>`, as the .NET SDK does
 * (its round-trip "o" format has 100 ns precision; ours pads milliseconds with zeros).
 *
 * @internal
 */
export function deterministicGuid(instanceId: string, time: Date, counter: number): string {
  // toISOString always ends in ".sssZ": append four zeros to the milliseconds.
  const timestamp = `${time.toISOString().slice(0, -1)}0000Z`;
  return uuidV5(dotnetGuidNamespace, `${instanceId}_${timestamp}_${counter}`);
}
