import { readFileSync, readlinkSync } from 'node:fs';
import { hostname } from 'node:os';

/**
 * Who a process is: its host, its pid and, on Linux, `start`: the system it runs on (the boot id and its
 * pid namespace, so that two machines or containers with one hostname never judge each other's pids) and
 * when the process started (the `starttime` of /proc/PID/stat, so that a pid reused by another process is
 * not mistaken for the one that took a lease): `<boot id>/<pid namespace>/<start time>`.
 */
export interface ProcessIdentity {
  host: string;
  pid: number;
  /** Linux only: `<boot id>/<pid namespace>/<start time>`; absent elsewhere. */
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

/** The system this process runs on, as `<boot id>/<pid namespace>`; undefined where Linux does not tell. */
const systemOf = (): string | undefined => {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const namespace = /\[(\d+)\]/.exec(readlinkSync('/proc/self/ns/pid'))?.[1];
    return boot && namespace ? `${boot}/${namespace}` : undefined;
  } catch {
    return undefined;
  }
};

let self: ProcessIdentity | undefined;

/** This process: host, pid and (on Linux) its system and start time. */
export const thisProcess = (): ProcessIdentity => {
  self ??= (() => {
    const started = procStat(process.pid)?.start;
    const system = systemOf();
    const start = started !== undefined && system !== undefined ? `${system}/${started}` : undefined;
    return { host: hostname(), pid: process.pid, ...(start === undefined ? {} : { start }) };
  })();
  return self;
};

/** The system part of a `start` (all but the start time), and the start time itself. */
const splitStart = (start: string): { system: string; ticks: string } => {
  const cut = start.lastIndexOf('/');
  return cut < 0
    ? { system: '', ticks: start }
    : { system: start.slice(0, cut), ticks: start.slice(cut + 1) };
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
    // Unreadable: gone, or another user's process where /proc hides them (then signal 0 tells).
    if (stat) {
      if (stat.state === 'Z' || stat.state === 'X' || stat.state === 'x') return false;
      if ((stat.flags & PF_EXITING) !== 0) return false;
      return start === undefined || stat.start === splitStart(start).ticks;
    }
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
    // Another system with this hostname (a clone, a container): its pids are not ours to judge.
    if (holder.start !== undefined && me.start !== undefined) {
      if (splitStart(holder.start).system !== splitStart(me.start).system) return false;
    }
    if (holder.pid === me.pid && (holder.start === undefined || holder.start === me.start)) return false;
    return !processRuns(holder.pid, holder.start);
  };

/** This process as a lease holder: owner `host:pid`, with its host, pid and start time. */
export const localRunner = (): { owner: string; host: string; pid: number; start?: string } => {
  const me = thisProcess();
  return { owner: `${me.host}:${me.pid}`, ...me };
};
