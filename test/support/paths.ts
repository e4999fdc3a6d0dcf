/** Paths of the built artefacts the tests run (tests are compiled to dist/test). */
import { fileURLToPath } from 'node:url';

export const projectRoot = fileURLToPath(new URL('../../../', import.meta.url));
/** The entry the package runs: the bundle (scripts/bundle.mjs), not the tsc output it is made from. */
export const serverEntry = fileURLToPath(new URL('../../bundle/main.js', import.meta.url));
export const originalCodexBinary = `${projectRoot}node_modules/@openai/codex/bin/codex-x86_64-unknown-linux-musl`;
