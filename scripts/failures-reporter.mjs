// A node:test reporter that writes only the tests that failed: file, the test's path of names, and the error's
// first lines. run-tests.mjs sends it to a file beside the TAP stream and prints that file after the run, so
// the end of a long CI log says which tests failed without scrolling back through 1,600 results.
// A suite that fails only because a test inside it failed is left out: its failing test is listed.

function firstLines(text, n) {
  return String(text).split('\n').slice(0, n).join('\n');
}

function describe(error) {
  if (error === undefined || error === null) return 'no error object';
  const cause = error.cause ?? error;
  const parts = [];
  if (error.failureType !== undefined && error.failureType !== 'testCodeFailure') parts.push(`(${error.failureType})`);
  if (cause instanceof Error) parts.push(firstLines(cause.stack ?? `${cause.name}: ${cause.message}`, 12));
  else parts.push(firstLines(typeof cause === 'object' ? JSON.stringify(cause) : String(cause), 12));
  return parts.join(' ');
}

export default async function* failuresReporter(source) {
  // The names of the open tests per file and nesting level, so a failure is printed with its suites' names
  // (files run side by side, so their events interleave).
  const openByFile = new Map();
  let failed = 0;
  for await (const event of source) {
    if (event.type === 'test:start') {
      const key = event.data.file ?? '';
      const open = openByFile.get(key) ?? [];
      openByFile.set(key, open);
      open[event.data.nesting] = event.data.name;
      open.length = event.data.nesting + 1;
      continue;
    }
    if (event.type !== 'test:fail') continue;
    const { data } = event;
    const error = data.details?.error;
    if (error?.failureType === 'subtestsFailed') continue;
    failed += 1;
    const open = openByFile.get(data.file ?? '') ?? [];
    const path = [...open.slice(0, data.nesting), data.name].join(' > ');
    yield `not ok: ${data.file ?? '(unknown file)'}\n  ${path}\n  ${describe(error).split('\n').join('\n  ')}\n`;
  }
  yield failed === 0 ? 'no test failed\n' : `${failed} test(s) failed\n`;
}
