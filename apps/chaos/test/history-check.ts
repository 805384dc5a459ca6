import type { HistoryEvent } from "@durabletask/api/proto";

/** How many events of each kind a history holds, by `eventType.case`. */
export function countKinds(history: readonly HistoryEvent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const event of history) {
    const kind = event.eventType.case ?? "unknown";
    counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

/** One scheduled activity call of a history: its task id and JSON input. */
export interface ScheduledCall {
  readonly taskId: number;
  readonly input: string | undefined;
}

/** The activity calls a history scheduled. */
export function scheduledCalls(history: readonly HistoryEvent[]): ScheduledCall[] {
  return history.flatMap((event) =>
    event.eventType.case === "taskScheduled"
      ? [{ taskId: event.eventId, input: event.eventType.value.input }]
      : [],
  );
}

/** The task ids of a history's `taskCompleted` events, in history order (duplicates kept). */
export function completedTaskIds(history: readonly HistoryEvent[]): number[] {
  return history.flatMap((event) =>
    event.eventType.case === "taskCompleted" ? [event.eventType.value.taskScheduledId] : [],
  );
}
