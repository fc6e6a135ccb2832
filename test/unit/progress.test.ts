/** The one progress renderer: in place on a terminal, a line now and then in a log, nothing when off. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Writable } from 'node:stream';
import type { CliContext } from '../../src/cli/context.js';
import { ProgressLine } from '../../src/cli/progress.js';

function stderrOf(isTTY: boolean): { ctx: CliContext; written: string[] } {
  const written: string[] = [];
  const stderr = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        written.push(chunk.toString('utf8'));
        done();
      },
    }),
    { isTTY },
  );
  return { ctx: { stderr } as unknown as CliContext, written };
}

test('off a terminal: a line every everyMs of the job clock, with the prefix; done() adds nothing', () => {
  const { ctx, written } = stderrOf(false);
  const line = new ProgressLine(ctx, { enabled: true, everyMs: 10_000, logPrefix: 'sluice: ' });
  for (const ms of [1000, 5000, 10_000, 15_000, 19_999, 20_000, 31_000]) line.update(`at ${ms}`, ms);
  line.done();
  assert.deepEqual(written, ['sluice: at 10000\n', 'sluice: at 20000\n', 'sluice: at 31000\n']);
});

test('off a terminal with printFirst: the first update at once, and the final word printed', () => {
  const { ctx, written } = stderrOf(false);
  const line = new ProgressLine(ctx, { enabled: true, everyMs: 2000, printFirst: true });
  line.update('first', 0);
  line.update('too soon', 1999);
  line.done('final');
  assert.deepEqual(written, ['first\n', 'final\n']);
});

test('on a terminal: every update redrawn in place, erased by done() or left as the final line', () => {
  const erased = stderrOf(true);
  const line = new ProgressLine(erased.ctx, { enabled: true });
  line.update('one', 0);
  line.update('two', 1);
  line.done();
  assert.deepEqual(erased.written, ['\r\x1b[Kone', '\r\x1b[Ktwo', '\r\x1b[K']);

  const kept = stderrOf(true);
  const last = new ProgressLine(kept.ctx, { enabled: true });
  last.update('one', 0);
  last.done('all done');
  assert.deepEqual(kept.written, ['\r\x1b[Kone', '\r\x1b[Kall done\n']);
});

test('disabled (--quiet, --no-progress): nothing at all', () => {
  const { ctx, written } = stderrOf(true);
  const line = new ProgressLine(ctx, { enabled: false });
  line.update('x', 50_000);
  line.done('y');
  assert.deepEqual(written, []);
});
