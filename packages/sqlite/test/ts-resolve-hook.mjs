// Module resolve hook for the race workers: lets Node (which strips TypeScript types itself)
// load this package's sources, whose imports name the compiled `.js` files.
export async function resolve(specifier, context, nextResolve) {
  try {
    return await nextResolve(specifier, context);
  } catch (err) {
    if (specifier.startsWith(".") && specifier.endsWith(".js")) {
      return nextResolve(`${specifier.slice(0, -3)}.ts`, context);
    }
    throw err;
  }
}
