/**
 * Servers the e2e harnesses start: each runs detached in its own process group, writes its output
 * to a log file and its PID to a file in the state folder, so that `down` (or a test's cleanup)
 * stops exactly what `up` started, by PID, even from another process.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface Started {
  name: string;
  pid: number;
  log: string;
}

export interface StartOptions {
  /** Folder for `<name>.pid` and `<name>.log`. */
  dir: string;
  name: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

/** Starts a server in the background; it outlives this process until stopped. */
export function startDetached(options: StartOptions): Started {
  mkdirSync(options.dir, { recursive: true });
  const log = join(options.dir, `${options.name}.log`);
  const fd = openSync(log, 'a');
  const child = spawn(options.command, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${options.command}`);
  child.unref();
  writeFileSync(join(options.dir, `${options.name}.pid`), `${child.pid}\n`);
  return { name: options.name, pid: child.pid, log };
}

/** Whether a process is alive. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Stops a process group started by startDetached: SIGTERM, then SIGKILL after `graceMs`. */
export async function stopPid(pid: number, graceMs = 10_000): Promise<void> {
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // gone already
      }
    }
  };
  if (!alive(pid)) return;
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(100);
  if (alive(pid)) {
    signal('SIGKILL');
    const hard = Date.now() + 5_000;
    while (alive(pid) && Date.now() < hard) await sleep(50);
  }
}

/** Stops every process whose PID file is in `dir`, the last started first, and removes the files. */
export async function stopAll(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const pidFiles = readdirSync(dir)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => ({ f, pid: Number(readFileSync(join(dir, f), 'utf8').trim()), started: statSync(join(dir, f)).mtimeMs }))
    .sort((a, b) => b.started - a.started);
  const stopped: string[] = [];
  for (const { f, pid } of pidFiles) {
    if (Number.isInteger(pid) && pid > 1) {
      await stopPid(pid);
      stopped.push(f.replace(/\.pid$/, ''));
    }
    rmSync(join(dir, f), { force: true });
  }
  return stopped;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Polls `probe` until it returns true; throws with the log's tail when `pid` dies or time runs out. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  options: { timeoutMs: number; started?: Started; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (options.started && !alive(options.started.pid)) {
      throw new Error(`${what}: ${options.started.name} exited; the end of ${options.started.log}:\n${tail(options.started.log)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not ready after ${options.timeoutMs / 1000} s${options.started ? `; the end of ${options.started.log}:\n${tail(options.started.log)}` : ''}`);
    }
    await sleep(options.intervalMs ?? 250);
  }
}

/** The last lines of a log file. */
export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
