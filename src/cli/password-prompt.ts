/**
 * Asks for passwords on a terminal without echoing them (as sudo, ssh and restic do): the terminal is in raw
 * mode while the answers are typed, and is put back as it was on every way out (answer, Ctrl-C, Ctrl-D, the
 * end of input, an error, an interrupt signal).
 */
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { ExitCode, SluiceError, UsageError } from '../errors.js';

/** How one answer ended: Enter (with the text), Ctrl-C, or Ctrl-D / the end of input on an empty line. */
export type LineEnd = { kind: 'line'; text: string } | { kind: 'interrupt' } | { kind: 'eof' };

const CTRL_C = '\x03';
const CTRL_D = '\x04';
const CTRL_H = '\x08';
const CTRL_U = '\x15';
const ESC = '\x1b';
const DEL = '\x7f';

/**
 * The line editing of a password prompt over raw keystrokes: Backspace/Ctrl-H delete the last character,
 * Ctrl-U the whole line, escape sequences (arrow and function keys) and other control characters are
 * dropped, Tab is kept. Text typed ahead belongs to the next answer.
 */
export class PasswordKeys {
  #chars: string[] = [];
  #escape: 'none' | 'start' | 'sequence' = 'none';
  #afterCr = false;
  #stopped = false;

  /** Feeds typed text (any split); returns the answers it completed, in order. */
  feed(text: string): LineEnd[] {
    const ends: LineEnd[] = [];
    for (const ch of text) {
      if (this.#stopped) break;
      const afterCr = this.#afterCr;
      this.#afterCr = false;
      if (this.#escape !== 'none') {
        this.#skipEscape(ch);
        continue;
      }
      if (ch === '\r' || ch === '\n') {
        if (ch === '\n' && afterCr) continue;
        this.#afterCr = ch === '\r';
        ends.push({ kind: 'line', text: this.#chars.join('') });
        this.#chars = [];
      } else if (ch === CTRL_C) {
        ends.push(this.#stop('interrupt'));
      } else if (ch === CTRL_D) {
        if (this.#chars.length === 0) ends.push(this.#stop('eof'));
      } else if (ch === DEL || ch === CTRL_H) {
        this.#chars.pop();
      } else if (ch === CTRL_U) {
        this.#chars = [];
      } else if (ch === ESC) {
        this.#escape = 'start';
      } else if (ch === '\t' || ch >= ' ') {
        this.#chars.push(ch);
      }
    }
    return ends;
  }

  /** The input ended: an answer in progress without Enter is not taken (it may be cut short). */
  end(): LineEnd[] {
    return this.#stopped ? [] : [this.#stop('eof')];
  }

  #stop(kind: 'interrupt' | 'eof'): LineEnd {
    this.#stopped = true;
    this.#chars = [];
    return { kind };
  }

  /** ESC [ … final, ESC O final (CSI and SS3 sequences), or ESC and one key (Alt+key). */
  #skipEscape(ch: string): void {
    if (this.#escape === 'start') {
      this.#escape = ch === '[' || ch === 'O' ? 'sequence' : 'none';
      return;
    }
    const code = ch.codePointAt(0) ?? 0;
    if (code >= 0x40 && code <= 0x7e) this.#escape = 'none';
  }
}

/** A terminal's input side as node's tty.ReadStream has it. */
type TerminalInput = Readable & { isTTY?: boolean; isRaw?: boolean; setRawMode?: (on: boolean) => unknown };

/**
 * Shows each prompt on `output` in turn and reads one answer for it from the terminal `input`, with echo off.
 * Ctrl-C (or `signal`) ends with exit status 130, Ctrl-D or the end of input with a usage error.
 */
export async function askHidden(input: TerminalInput, output: Writable, prompts: readonly string[], signal: AbortSignal): Promise<string[]> {
  if (typeof input.setRawMode !== 'function') throw new UsageError('cannot turn off echo on this terminal to ask for the password: pass --password-file FILE');
  const keys = new PasswordKeys();
  const decoder = new StringDecoder('utf8');
  const pending: LineEnd[] = [];
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const onData = (chunk: Buffer | string): void => {
    pending.push(...keys.feed(typeof chunk === 'string' ? chunk : decoder.write(chunk)));
    wake?.();
  };
  const onEnd = (): void => {
    pending.push(...keys.end());
    wake?.();
  };
  const onError = (err: Error): void => {
    failure = err;
    wake?.();
  };
  const onAbort = (): void => wake?.();
  const next = async (): Promise<LineEnd> => {
    for (;;) {
      if (failure !== undefined) throw failure;
      if (signal.aborted) return { kind: 'interrupt' };
      const end = pending.shift();
      if (end !== undefined) return end;
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
      wake = undefined;
    }
  };

  const wasRaw = input.isRaw === true;
  input.setRawMode(true);
  try {
    input.on('data', onData);
    input.on('end', onEnd);
    input.on('close', onEnd);
    input.on('error', onError);
    signal.addEventListener('abort', onAbort);
    input.resume();
    const answers: string[] = [];
    for (const prompt of prompts) {
      output.write(prompt);
      let end: LineEnd;
      try {
        end = await next();
      } finally {
        output.write('\n');
      }
      if (end.kind === 'interrupt') throw new SluiceError('E_INTERRUPTED', 'interrupted', {}, { exitCode: ExitCode.interrupted });
      if (end.kind === 'eof') throw new UsageError('no password given (end of input at the prompt)');
      answers.push(end.text);
    }
    return answers;
  } finally {
    signal.removeEventListener('abort', onAbort);
    input.off('data', onData);
    input.off('end', onEnd);
    input.off('close', onEnd);
    input.off('error', onError);
    input.pause();
    input.setRawMode(wasRaw);
  }
}
