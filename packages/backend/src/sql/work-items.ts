import type { HistoryEvent } from "@durabletask/api/proto";
import type { ActivityWorkItem, OrchestrationWorkItem } from "../backend.js";
import type { SqlResult, SqlValue } from "./driver.js";
import type { HistoryRows } from "./history-cache.js";
import { decodeEvent, int, text } from "./rows.js";

interface Claimed {
  readonly sequence: number;
  readonly visibleAt: number;
  readonly dequeueCount: number;
  readonly event: HistoryEvent;
}

function groupBy<T>(rows: readonly (readonly SqlValue[])[], map: (row: readonly SqlValue[]) => T) {
  const groups = new Map<string, T[]>();
  for (const row of rows) {
    const id = text(row[0], "InstanceID");
    const group = groups.get(id);
    if (group === undefined) groups.set(id, [map(row)]);
    else group.push(map(row));
  }
  return groups;
}

function claimedOf(row: readonly SqlValue[]): Claimed {
  return {
    sequence: int(row[1], "SequenceNumber"),
    visibleAt: int(row[2], "VisibleTime"),
    dequeueCount: int(row[3], "DequeueCount"),
    event: decodeEvent(row[4]),
  };
}

/** When the instance's first claimed event arrived: its earliest visible time, then sequence. */
interface Arrival {
  readonly visibleAt: number;
  readonly sequence: number;
}

function firstArrival(events: readonly Claimed[]): Arrival {
  let visibleAt = Number.POSITIVE_INFINITY;
  let sequence = Number.POSITIVE_INFINITY;
  for (const e of events) {
    visibleAt = Math.min(visibleAt, e.visibleAt);
    sequence = Math.min(sequence, e.sequence);
  }
  return { visibleAt, sequence };
}

function historyRowsOf(rows: readonly (readonly SqlValue[])[]): Map<string, HistoryRows> {
  const groups = new Map<string, HistoryRows>();
  for (const row of rows) {
    const id = text(row[0], "InstanceID");
    let group = groups.get(id);
    if (group === undefined) {
      group = { sequences: [], payloads: [] };
      groups.set(id, group);
    }
    group.sequences.push(int(row[1], "SequenceNumber"));
    group.payloads.push(row[2] ?? null);
  }
  return groups;
}

/**
 * The work items of one lock batch (results: locked ids, claimed events, history rows), in the
 * order the instances were picked: oldest visible event first. `historyOf` turns an instance's
 * history rows into its whole history (`undefined`: read it whole, see `needsHistory`).
 */
export function orchestrationItems(
  results: readonly SqlResult[],
  lockToken: string,
  lockExpiresAtMs: number,
  historyOf: (instanceId: string, rows: HistoryRows | undefined) => HistoryEvent[] | undefined,
): { items: OrchestrationWorkItem[]; needsHistory: string[] } {
  const claimed = groupBy(results[1]?.rows ?? [], claimedOf);
  const history = historyRowsOf(results[2]?.rows ?? []);
  const locked = (results[0]?.rows ?? []).map((row) => text(row[0], "InstanceID"));
  const events = (id: string) => claimed.get(id) ?? [];
  const arrivals = new Map(locked.map((id) => [id, firstArrival(events(id))]));
  const arrival = (id: string) => arrivals.get(id) as Arrival;
  const byFirstArrival = (a: string, b: string) => {
    const x = arrival(a);
    const y = arrival(b);
    return x.visibleAt - y.visibleAt || x.sequence - y.sequence;
  };
  const needsHistory: string[] = [];
  const items = locked.sort(byFirstArrival).map((instanceId) => {
    const newEvents = events(instanceId).sort((a, b) => a.sequence - b.sequence);
    let maxDequeue = 1;
    for (const e of newEvents) maxDequeue = Math.max(maxDequeue, e.dequeueCount);
    const past = historyOf(instanceId, history.get(instanceId));
    if (past === undefined) needsHistory.push(instanceId);
    return {
      instanceId,
      lockToken,
      lockExpiresAtMs,
      history: past ?? [],
      newEvents: newEvents.map((e) => e.event),
      retryCount: maxDequeue - 1,
    };
  });
  return { items, needsHistory };
}

/** The work items of activity lock rows, oldest task first. */
export function activityItems(
  rows: readonly (readonly SqlValue[])[],
  lockToken: string,
  lockExpiresAtMs: number,
): ActivityWorkItem[] {
  return rows
    .map((row) => ({
      sequenceNumber: int(row[0], "SequenceNumber"),
      instanceId: text(row[1], "InstanceID"),
      executionId: text(row[2], "ExecutionID"),
      lockToken,
      lockExpiresAtMs,
      event: decodeEvent(row[4]),
      retryCount: int(row[3], "DequeueCount") - 1,
    }))
    .sort((a, b) => a.sequenceNumber - b.sequenceNumber);
}
