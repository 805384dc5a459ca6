import { assertName, describe, invalidArgument } from "@durabletask/api";

/**
 * The name of an orchestrator or activity given either as a string or as a named function.
 *
 * @throws {@link DurableTaskError} `InvalidArgument` naming `field` for anything else, an
 *   anonymous function, or a name {@link assertName} rejects.
 * @internal
 */
export function taskNameOf(nameOrFn: unknown, field: string): string {
  if (typeof nameOrFn === "function") {
    if (nameOrFn.name === "") {
      throw invalidArgument(
        field,
        "is an anonymous function; give it a name or pass the name explicitly",
      );
    }
    assertName(nameOrFn.name, `${field}.name`);
    return nameOrFn.name;
  }
  if (typeof nameOrFn !== "string") {
    throw invalidArgument(field, `must be a name or a named function, got ${describe(nameOrFn)}`);
  }
  assertName(nameOrFn, field);
  return nameOrFn;
}
