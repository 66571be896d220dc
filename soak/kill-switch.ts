import type { NotifierEvent } from '../functions/core/events/catalogue.js';
import type { EventSink, Lease, SnapshotWrite, StateStore } from '../functions/cycle/ports.js';

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
  constructor(
    private readonly random: () => number,
    private readonly rate: number,
  ) {}

  /** Called at each point where a real process could die. */
  point(): void {
    if (this.dead) throw new Killed('already dead');
    if (this.armed && this.random() < this.rate) {
      this.kills++;
      this.dead = true;
      throw new Killed('killed');
    }
  }

  reset(armed: boolean): void {
    this.armed = armed;
    this.dead = false;
  }

  store(inner: StateStore): StateStore {
    const around =
      <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
      async (...args: A): Promise<R> => {
        this.point();
        const result = await fn(...args);
        this.point();
        return result;
      };
    return {
      acquireLease: around(inner.acquireLease.bind(inner)),
      assertLease: around(inner.assertLease.bind(inner)),
      // A dead process releases nothing: its lease must expire.
      releaseLease: async (lease: Lease) => {
        if (!this.dead) await inner.releaseLease(lease);
      },
      getCheckpoint: around(inner.getCheckpoint.bind(inner)),
      putCheckpoint: around(inner.putCheckpoint.bind(inner)),
      getSnapshots: around(inner.getSnapshots.bind(inner)),
      listSnapshotIds: inner.listSnapshotIds.bind(inner),
      writeSnapshots: async (writes: SnapshotWrite[], options: { replay: boolean }) => {
        this.point();
        // Die part-way through a batch: some items written, the rest not.
        const cut =
          this.armed && this.random() < this.rate ? Math.floor(this.random() * writes.length) : writes.length;
        await inner.writeSnapshots(writes.slice(0, cut), options);
        if (cut < writes.length) {
          this.kills++;
          this.dead = true;
          throw new Killed('killed mid-batch');
        }
        this.point();
      },
      readJournal: around(inner.readJournal.bind(inner)),
      writeJournal: around(inner.writeJournal.bind(inner)),
      deleteJournal: around(inner.deleteJournal.bind(inner)),
    };
  }

  sink(inner: EventSink): EventSink {
    return {
      publish: async (events: NotifierEvent[]) => {
        this.point();
        const cut =
          this.armed && this.random() < this.rate ? Math.floor(this.random() * events.length) : events.length;
        await inner.publish(events.slice(0, cut));
        if (cut < events.length) {
          this.kills++;
          this.dead = true;
          throw new Killed('killed mid-publish');
        }
        this.point();
      },
    };
  }
}
