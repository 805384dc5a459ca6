import type { Backend } from "@durabletask/backend";

/**
 * `backend` with some methods replaced; the others are the backend's own, bound to it (the
 * backends keep private state, so they must run with `this` = the real backend).
 */
export function withOverrides(backend: Backend, overrides: Partial<Backend>): Backend {
  return new Proxy(backend, {
    get(target, property, receiver) {
      if (Object.hasOwn(overrides, property)) return overrides[property as keyof Backend];
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
