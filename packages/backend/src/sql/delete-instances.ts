import type { SqlStatement, SqlValue } from "./driver.js";

/** The terminal statuses as an SQL list (see `terminalStatuses` of `@durabletask/api`). */
export const terminalStatusList = "('COMPLETED', 'FAILED', 'TERMINATED', 'CANCELED')";

/**
 * Deletes every row of the instances matching `condition` (an SQL condition on `Instances`,
 * with `args` for its placeholders): history, inbox, activity tasks, then the instance rows
 * themselves. The last statement returns the deleted instance ids.
 */
export function deleteInstancesWhere(condition: string, args: readonly SqlValue[]): SqlStatement[] {
  const ids = `SELECT InstanceID FROM Instances WHERE ${condition}`;
  return [
    { sql: `DELETE FROM History WHERE InstanceID IN (${ids})`, args },
    { sql: `DELETE FROM Inbox WHERE InstanceID IN (${ids})`, args },
    { sql: `DELETE FROM ActivityTasks WHERE InstanceID IN (${ids})`, args },
    { sql: `DELETE FROM Instances WHERE ${condition} RETURNING InstanceID`, args },
  ];
}
