import { type Timestamp, timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";

/** A protobuf Timestamp for epoch milliseconds. */
export function timestampOfMs(ms: number): Timestamp {
  return timestampFromMs(ms);
}

/** Epoch milliseconds of a protobuf Timestamp; `undefined` stays `undefined`. */
export function msOfTimestamp(ts: Timestamp | undefined): number | undefined {
  if (ts === undefined) return undefined;
  return Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1_000_000);
}

/** A Date of a protobuf Timestamp; `undefined` stays `undefined`. */
export function dateOfTimestamp(ts: Timestamp | undefined): Date | undefined {
  return ts === undefined ? undefined : timestampDate(ts);
}
