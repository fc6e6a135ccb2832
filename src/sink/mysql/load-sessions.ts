/**
 * The loader's connections. Each runs with binary logging off (unless enableBinlog), foreign key and
 * unique checks off, sql_mode NO_AUTO_VALUE_ON_ZERO and time zone +00:00, and a long wait_timeout
 * (a connection may wait a long time for a table's schema or its first rows).
 */
import { type ConnectOptions, Session } from '../../mysql/connection.js';

export interface SessionSetup {
  enableBinlog?: boolean;
  onWarning?: (message: string) => void;
}

/** Opens `count` sessions (binary character set) and sets each up; on failure, none stays open. */
export async function openLoadSessions(connection: ConnectOptions, count: number, setup: SessionSetup): Promise<Session[]> {
  const sessions: Session[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const s = await Session.open(connection, true);
      sessions.push(s);
      await setUpSession(s, setup);
    }
  } catch (err) {
    for (const s of sessions) s.destroy();
    throw err;
  }
  return sessions;
}

async function setUpSession(s: Session, setup: SessionSetup): Promise<void> {
  if (setup.enableBinlog !== true) {
    await s.exec('SET SESSION sql_log_bin = 0').catch((err: unknown) => {
      setup.onWarning?.(`cannot turn binary logging off for the load (${(err as Error).message}); it stays on`);
    });
  }
  await s.exec('SET SESSION foreign_key_checks = 0');
  await s.exec('SET SESSION unique_checks = 0');
  await s.exec("SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'");
  await s.exec("SET SESSION time_zone = '+00:00'");
  await s.exec('SET SESSION wait_timeout = 2147483').catch(() => undefined);
}
