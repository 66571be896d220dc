import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Who a process is on this host: its pid and, on Linux, when it started (the `starttime` of
 * /proc/PID/stat, in clock ticks since boot), so that a pid reused by another process is not mistaken for
 * the one that took a lease.
 */
export interface ProcessIdentity {
  host: string;
  pid: number;
  /** Linux only: the process's start time (clock ticks since boot); absent elsewhere. */
  start?: string;
}

/** What /proc/PID/stat says of a process: its state letter, kernel flags and start time. */
interface ProcStat {
  state: string;
  flags: number;
  start: string;
}

/** The kernel's PF_EXITING: the process is on its way out (killed, or past exit()). */
const PF_EXITING = 0x4;

/**
 * /proc/PID/stat, parsed: the second field (the command) is in parentheses and may hold spaces or
 * parentheses itself, so the fields are counted from the last ')'. undefined: no such process (or no /proc).
 */
const procStat = (pid: number): ProcStat | undefined => {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // After the command: state (3), ppid, pgrp, session, tty, tpgid, flags (9), ... starttime (22).
  const state = fields[0];
  const flags = Number(fields[6]);
  const start = fields[19];
  if (state === undefined || start === undefined || !Number.isFinite(flags)) return undefined;
  return { state, flags, start };
};

const hasProc = (): boolean => procStat(process.pid) !== undefined;

let self: ProcessIdentity | undefined;

/** This process: host, pid and (on Linux) start time. */
export const thisProcess = (): ProcessIdentity => {
  self ??= (() => {
    const start = procStat(process.pid)?.start;
    return { host: hostname(), pid: process.pid, ...(start === undefined ? {} : { start }) };
  })();
  return self;
};

/**
 * Whether the process `pid` of this host, started at `start` when that is known, still runs. A zombie
 * (killed, not yet reaped by its parent), a process already exiting, and a pid now used by a process that
 * started at another time are not running. Where there is no /proc, signal 0 tells whether the pid exists.
 */
export const processRuns = (pid: number, start?: string): boolean => {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (hasProc()) {
    const stat = procStat(pid);
    if (!stat) return false;
    if (stat.state === 'Z' || stat.state === 'X' || stat.state === 'x') return false;
    if ((stat.flags & PF_EXITING) !== 0) return false;
    return start === undefined || stat.start === start;
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Whether a lease or lock holder is a process of this host that no longer runs (its lease may be taken
 * over at once). Another host's holder is never judged from here; this very process is never abandoned.
 */
export const abandonedOnThisHost =
  (me: ProcessIdentity = thisProcess()) =>
  (holder: { host?: string; pid?: number; start?: string }): boolean => {
    if (holder.host !== me.host || holder.pid === undefined) return false;
    if (holder.pid === me.pid && (holder.start === undefined || holder.start === me.start)) return false;
    return !processRuns(holder.pid, holder.start);
  };

/** This process as a lease holder: owner `host:pid`, with its host, pid and start time. */
export const localRunner = (): { owner: string; host: string; pid: number; start?: string } => {
  const me = thisProcess();
  return { owner: `${me.host}:${me.pid}`, ...me };
};
