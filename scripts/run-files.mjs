// Runs the test files it is given, in the order given, CONCURRENCY at a time, through node:test's
// run(): `node --test` sorts its files by name, so an order of our own (the slowest first) needs
// run(). Each file runs in a process of its own, as with `node --test`. Prints the spec report on
// stdout (and, with TEST_TIMINGS, each file's time on stderr); exits 1 if any test failed.
//
// argv: CONCURRENCY FILE...
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import fileTimes from './file-times-reporter.mjs';

const [concurrency, ...files] = process.argv.slice(2);
let failed = false;
// A hung test fails after 4 minutes instead of holding the suite for ever (run-tests.mjs also
// bounds the whole run, for a file whose tests are done but whose process cannot exit).
const stream = run({ files, concurrency: Number(concurrency), timeout: 240_000 });
stream.on('test:fail', (data) => {
  if (!data.todo) failed = true;
});
// Node 20's reporters are classes, Node 22's and later's `spec` too; either way, one per stream.
stream.compose(new spec()).pipe(process.stdout);
if (process.env['TEST_TIMINGS']) stream.compose(fileTimes).pipe(process.stderr);
process.on('beforeExit', () => {
  process.exitCode = failed ? 1 : 0;
});
