// An esbuild plugin: zod's index re-exports every locale (`z.locales`, ~40 languages); its
// messages are English (src/protocol/zod.ts), and nothing here asks for another language.
// zod/mini, imported as a namespace, leaves them to tree-shaking; this keeps them out should a
// `z` be used as a value. Used by scripts/bundle.mjs and by tests that bundle a helper process.
// The stand-in module is named by its folder relative to the build's working folder: esbuild writes
// that name into the bundle and its source map, which ship (an absolute path would be this machine's).
import { relative, resolve } from 'node:path';

export const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    const root = build.initialOptions.absWorkingDir ?? process.cwd();
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${'node_modules'}/zod/`) ? { path: relative(root, args.resolveDir), namespace: 'zod-locales' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: "export { default as en } from '../locales/en.js';",
      resolveDir: resolve(root, args.path),
    }));
  },
};
