import {
  type ActivityContext,
  createTaskRegistry,
  type OrchestrationContext,
  type TaskRegistry,
} from "@durabletask/task";

/** One employee as `GetEmployeeDetailById` returns it. */
export interface Employee {
  readonly id: string;
  readonly name: string;
  readonly age: number;
}

/** What `SimpleOrchestration` returns. */
export interface SimpleOrchestrationSummary {
  /** The input the orchestration was started with (the POST body), or null. */
  readonly input: unknown;
  /** The employees looked up, in lookup order (ids 1, 4, 2, 3 as in the seed). */
  readonly employees: readonly Employee[];
  /** What `Task2` reported. */
  readonly task2: string;
}

/** The seed example's employee "database". */
export const employees: Readonly<Record<string, Employee>> = {
  "1": { id: "1", name: "John Doe", age: 30 },
  "2": { id: "2", name: "Jane Doe", age: 25 },
  "3": { id: "3", name: "Steven Smith", age: 40 },
  "4": { id: "4", name: "Lily Smith", age: 35 },
};

/** The order in which `SimpleOrchestration` looks employees up (the seed's order). */
export const employeeIds = ["1", "4", "2", "3"] as const;

/** Activity: one employee by id; an unknown id fails the activity. */
export async function getEmployeeDetailById(_ctx: ActivityContext, id: string): Promise<Employee> {
  const employee = employees[id];
  if (employee === undefined) throw new Error(`no employee with id '${id}'`);
  return employee;
}

/** Activity: the seed's `Task2`, which does nothing but report that. */
export async function task2(_ctx: ActivityContext): Promise<string> {
  return "Task2 is not doing anything";
}

/**
 * Orchestrator: the seed's `SimpleOrchestration` — four `GetEmployeeDetailById` calls in
 * sequence, then `Task2`; returns a summary.
 */
export async function simpleOrchestration(
  ctx: OrchestrationContext,
  input: unknown,
): Promise<SimpleOrchestrationSummary> {
  const found: Employee[] = [];
  for (const id of employeeIds) {
    found.push(await ctx.callActivity<Employee>("GetEmployeeDetailById", id));
  }
  const note = await ctx.callActivity<string>("Task2");
  return { input: input ?? null, employees: found, task2: note };
}

/** A registry with `SimpleOrchestration` and its two activities. */
export function simpleOrchestrationRegistry(): TaskRegistry {
  return createTaskRegistry()
    .addOrchestrator("SimpleOrchestration", simpleOrchestration)
    .addActivity("GetEmployeeDetailById", getEmployeeDetailById)
    .addActivity("Task2", task2);
}
