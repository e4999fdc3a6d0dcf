// An esbuild plugin: zod's index re-exports every locale (`z.locales`, ~40 languages); its
// messages are English (src/protocol/zod.ts), and nothing here asks for another language.
// zod/mini, imported as a namespace, leaves them to tree-shaking; this keeps them out should a
// `z` be used as a value. Used by scripts/bundle.mjs and by tests that bundle a helper process.
export const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
      args.importer.includes(`${'node_modules'}/zod/`) ? { path: args.resolveDir, namespace: 'zod-locales' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: `export { default as en } from ${JSON.stringify(`${args.path}/../locales/en.js`)};`,
      resolveDir: args.path,
    }));
  },
};
