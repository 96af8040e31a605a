// In the guest: apply/undo --json with a thousand blockers is ~200 KB, past what one console line carries. This
// keeps the result whole except `blockers` (count, and per comm the patched functions livepatch named) and
// `runPre`, compact on one line. Input that is not JSON passes through.
let text = '';
process.stdin.on('data', (d) => (text += d));
process.stdin.on('end', () => {
  let r;
  try {
    r = JSON.parse(text);
  } catch {
    process.stdout.write(text);
    return;
  }
  if (Array.isArray(r.blockers)) {
    const byComm = {};
    for (const b of r.blockers) (byComm[b.comm] = byComm[b.comm] || new Set()).add(b.function || '?');
    const functions = {};
    for (const [comm, set] of Object.entries(byComm)) functions[comm] = [...set].sort();
    r.blockers = { count: r.blockers.length, functions };
  }
  delete r.runPre;
  process.stdout.write(`${JSON.stringify(r)}\n`);
});
