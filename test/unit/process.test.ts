import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { abandonedOnThisHost, processRuns, thisProcess } from '../../functions/shared/process.js';

const children: number[] = [];
afterEach(() => {
  for (const pid of children.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {}
  }
});

/** The same system, a later start time: another process than the one that recorded it. */
const laterStart = (start: string): string => {
  const parts = start.split('/');
  return [...parts.slice(0, -1), String(Number(parts.at(-1)) + 1)].join('/');
};

const stateOf = (pid: number): string | undefined => {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
};

/** Polls the kernel's view of a process until `done` (a real process: there is no clock to fake). */
const until = async (done: () => boolean) => {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  return done();
};

/**
 * A zombie: a child that exited and that its parent never reaps (the shell execs into a sleep that does not
 * wait for it). Signal 0 still finds such a pid; the lease holder it stands for is dead.
 */
const zombie = async (): Promise<number> => {
  const group = spawn('sh', ['-c', 'sleep 0.05 & echo $!; exec sleep 60'], {
    detached: true,
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  children.push(group.pid as number);
  const pid = await new Promise<number>((resolve) => {
    group.stdout?.once('data', (d) => resolve(Number(String(d).trim())));
  });
  expect(await until(() => stateOf(pid) === 'Z')).toBe(true);
  return pid;
};

describe('process liveness', () => {
  it('this process runs, with its own start time; with another start time its pid is someone else', () => {
    const me = thisProcess();
    expect(me.pid).toBe(process.pid);
    // The system (boot id and pid namespace), then the start time.
    expect(me.start).toMatch(/^[0-9a-f-]{36}\/\d+\/\d+$/);
    expect(processRuns(me.pid, me.start)).toBe(true);
    expect(processRuns(me.pid)).toBe(true);
    // The same pid, started at another time: a reused pid, not the holder that recorded it.
    expect(processRuns(me.pid, laterStart(me.start as string))).toBe(false);
  });

  it('a killed process not yet reaped (a zombie) does not run, although signal 0 still finds its pid', async () => {
    const pid = await zombie();
    expect(() => process.kill(pid, 0)).not.toThrow();
    expect(processRuns(pid)).toBe(false);
  });

  it('a pid no process has does not run', async () => {
    const child = spawn('true');
    const pid = child.pid as number;
    await new Promise((r) => child.on('close', r));
    expect(await until(() => stateOf(pid) === undefined)).toBe(true);
    expect(processRuns(pid)).toBe(false);
    expect(processRuns(0)).toBe(false);
    expect(processRuns(-1)).toBe(false);
  });

  it('a holder is abandoned only when it is a process of this host that no longer runs', async () => {
    const me = thisProcess();
    const abandoned = abandonedOnThisHost(me);
    const dead = await zombie();
    expect(abandoned({ host: me.host, pid: dead })).toBe(true);
    expect(abandoned({ host: 'another-host', pid: dead })).toBe(false);
    expect(abandoned({ host: me.host })).toBe(false);
    expect(abandoned({ host: me.host, pid: me.pid, ...(me.start ? { start: me.start } : {}) })).toBe(false);
    // This pid recorded by a process that started at another time: that process is gone.
    expect(abandoned({ host: me.host, pid: me.pid, start: laterStart(me.start as string) })).toBe(true);
    expect(abandoned({ host: me.host, pid: process.ppid })).toBe(false);
  });

  it('a holder of another system with the same hostname (a clone, a container) is never judged from here', async () => {
    const me = thisProcess();
    const dead = await zombie();
    const otherSystem = `00000000-0000-0000-0000-000000000000/4026531836/${(me.start as string).split('/')[2]}`;
    expect(abandonedOnThisHost(me)({ host: me.host, pid: dead, start: otherSystem })).toBe(false);
    expect(abandonedOnThisHost(me)({ host: me.host, pid: 999_999_999, start: otherSystem })).toBe(false);
  });
});
