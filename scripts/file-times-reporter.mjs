// A node:test reporter that prints, per test file, the sum of its top-level tests' durations and
// how many there were, slowest first. `TEST_TIMINGS=1 npm test` adds it; SLOWEST_FIRST in
// run-tests.mjs is kept in the order it prints.
export default async function* fileTimes(source) {
  const files = new Map();
  for await (const event of source) {
    if ((event.type === 'test:pass' || event.type === 'test:fail') && event.data.nesting === 0 && event.data.file) {
      const file = event.data.file.split(/[\\/]/).pop();
      const entry = files.get(file) ?? { ms: 0, tests: 0 };
      entry.ms += event.data.details.duration_ms;
      entry.tests += 1;
      files.set(file, entry);
    }
  }
  yield 'seconds tests file\n';
  for (const [file, { ms, tests }] of [...files].sort((a, b) => b[1].ms - a[1].ms)) {
    yield `${(ms / 1000).toFixed(1).padStart(7)} ${String(tests).padStart(5)} ${file}\n`;
  }
}
