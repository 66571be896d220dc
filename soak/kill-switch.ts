import type { NotifierEvent } from '../functions/core/events/catalogue.js';
import type { EventSink, PublishOptions, StateStore } from '../functions/cycle/ports.js';
import type { Lease } from '../functions/cycle/records.js';
import { interceptStore } from './intercept.js';

/** Thrown where the soak "kills" the process; nothing after it runs, and the lease is not released. */
export class Killed extends Error {
  override readonly name = 'Killed';
}

/**
 * Wraps the store and the sink so that the process can die at any await point of the cycle: before or
 * after any call, and in the middle of a batch of snapshot writes or of a publish (part delivered).
 */
export class KillSwitch {
  armed = false;
  kills = 0;
  dead = false;
  /** Kills inside a multi-part journal commit: after its first part was written, before it was sealed. */
  killsBetweenParts = 0;
  #callArgs: { call: string; phase: 'before' | 'after'; args: unknown[] } | undefined;
  constructor(
    private readonly random: () => number,
    private readonly rate: number,
    /** The rate inside a multi-part journal commit (between its part writes); defaults to `rate`. */
    private readonly partRate: number = rate,
  ) {}

  /** Called at each point where a real process could die. */
  point(): void {
    if (this.dead) throw new Killed('already dead');
    const between = this.#betweenParts();
    if (this.armed && this.random() < (between ? this.partRate : this.rate)) {
      this.kills++;
      if (between) this.killsBetweenParts++;
      this.dead = true;
      throw new Killed('killed');
    }
  }

  /**
   * Whether the store call at hand lies inside a multi-part journal commit, with at least one part written
   * and the seal still to come: around the write of a second or later part, or just before the seal.
   */
  #betweenParts(): boolean {
    const at = this.#callArgs;
    if (at?.call === 'writeJournalPart') return (at.args[1] as { part: number }).part >= 1;
    if (at?.call === 'sealJournal' && at.phase === 'before')
      return (at.args[1] as { parts: number }).parts > 1;
    return false;
  }

  reset(armed: boolean): void {
    this.armed = armed;
    this.dead = false;
  }

  store(inner: StateStore): StateStore {
    return interceptStore(inner, {
      around: async (call, phase, args) => {
        this.#callArgs = { call, phase, args };
        this.point();
        // Die part-way through a batch of state writes: some transactions applied, the rest not.
        if (call === 'applyWrites' && phase === 'before' && this.armed && this.random() < this.rate) {
          const [fence, writes] = args as Parameters<StateStore['applyWrites']>;
          const cut = Math.floor(this.random() * writes.writes.length);
          await inner.applyWrites(fence, {
            ...writes,
            writes: writes.writes.slice(0, cut),
            checkpoint: null,
          });
          this.kills++;
          this.dead = true;
          throw new Killed('killed mid-batch');
        }
      },
      // A dead process releases nothing: its lease must expire, or be taken over.
      release: async (lease: Lease) => {
        if (!this.dead) await inner.releaseLease(lease);
      },
    });
  }

  sink(inner: EventSink): EventSink {
    return {
      publish: async (events: NotifierEvent[], options?: PublishOptions) => {
        this.#callArgs = undefined;
        this.point();
        const cut =
          this.armed && this.random() < this.rate ? Math.floor(this.random() * events.length) : events.length;
        const result = await inner.publish(events.slice(0, cut), options);
        if (cut < events.length) {
          this.kills++;
          this.dead = true;
          throw new Killed('killed mid-publish');
        }
        this.point();
        return result;
      },
    };
  }
}
