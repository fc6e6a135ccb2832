/** Loads something when its key changes; the previous answer is dropped if a newer one was asked for. */
import { useEffect, useState } from 'preact/hooks';

export type Loaded<T> = { state: 'loading' } | { state: 'error'; error: string } | { state: 'ok'; value: T };

export function useLoad<T>(load: () => Promise<T>, key: readonly unknown[]): [Loaded<T>, () => void] {
  const [result, setResult] = useState<Loaded<T>>({ state: 'loading' });
  const [again, setAgain] = useState(0);
  useEffect(() => {
    let current = true;
    setResult({ state: 'loading' });
    load().then(
      (value) => current && setResult({ state: 'ok', value }),
      (err: unknown) => current && setResult({ state: 'error', error: err instanceof Error ? err.message : String(err) }),
    );
    return () => {
      current = false;
    };
  }, [...key, again]);
  return [result, () => setAgain((n) => n + 1)];
}
