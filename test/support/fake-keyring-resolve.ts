/** The resolve hook fake-keyring-hooks.ts registers: the keyring binding is the fake, anything else as usual. */
const FAKE = new URL('./fake-keyring.js', import.meta.url).href;

type NextResolve = (specifier: string, context?: unknown) => Promise<unknown>;

export async function resolve(specifier: string, context: unknown, nextResolve: NextResolve): Promise<unknown> {
  if (specifier === '@napi-rs/keyring') return { url: FAKE, shortCircuit: true };
  return nextResolve(specifier, context);
}
