/** Runs `sluice ui` on a free port of its own against a test repository, and reads the URL it prints. */
import { type ChildProcess, spawn } from 'node:child_process';
import { SLUICE_JS } from '../helpers/cli.js';
import type { TestContextLike } from '../helpers/tmp.js';
import type { TestRepo } from '../repo/helpers.js';

export interface RunningUi {
  /** The printed URL, with #token=… */
  url: string;
  /** http://127.0.0.1:PORT */
  base: string;
  token: string;
  port: number;
  child: ChildProcess;
  stderr(): string;
  stop(): Promise<number | null>;
}

export async function startUi(t: TestContextLike, r: TestRepo, args: readonly string[] = []): Promise<RunningUi> {
  const child = spawn(process.execPath, [SLUICE_JS, 'ui', '--listen', '127.0.0.1:0', ...args], { env: { ...process.env, ...r.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sluice ui printed no URL: ${err}`)), 30_000);
    child.stderr?.on('data', (b: Buffer) => {
      err += b.toString();
      const m = /sluice ui: (http:\/\/\S+)\n/.exec(err);
      if (m !== null) {
        clearTimeout(timer);
        resolve(m[1] as string);
      }
    });
    child.on('exit', (code) => reject(new Error(`sluice ui exited ${code}: ${err}`)));
  });
  const parsed = new URL(url);
  const stop = async (): Promise<number | null> => {
    if (child.exitCode === null) child.kill('SIGINT');
    const code = await exited;
    if (out !== '') throw new Error(`sluice ui wrote to stdout: ${out}`);
    return code;
  };
  t.after(stop);
  return { url, base: parsed.origin, token: parsed.hash.replace('#token=', ''), port: Number(parsed.port), child, stderr: () => err, stop };
}
