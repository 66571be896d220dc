import { ConfigError } from './config.js';
import type { OrganisationHint } from './cycle/organisation-guard.js';
import type {
  Checkpoint,
  CommitRef,
  Fence,
  Journal,
  JournalPart,
  JournalSeal,
  Lease,
  LeaseClaim,
  LeaseOutcome,
  SetAsideEvent,
  StateStore,
  StateWrites,
} from './cycle/ports.js';

/** Where the state is configured: a file (`--state`) or a table (`--table`, the stack's). */
export type StateSetting = { kind: 'file'; path: string } | { kind: 'dynamodb'; tableName: string };

/** Where one organisation's state is: a file, or a partition of the table (`org#<partition>`). */
export type StateLocation =
  | { kind: 'file'; path: string }
  | { kind: 'dynamodb'; tableName: string; partition: string };

/** The partition an unnamed organisation's state has always had (`org#default`). */
const UNNAMED_PARTITION = 'default';

/** The file of one organisation among several: `state.json` → `state.35802.json`. */
export const organisationFile = (path: string, organisationId: number): string =>
  /\.json$/.test(path) ? path.replace(/\.json$/, `.${organisationId}.json`) : `${path}.${organisationId}`;

/** Where the state of the unnamed organisation, or of the only one before there were several, is. */
const baseLocation = (state: StateSetting): StateLocation =>
  state.kind === 'file' ? state : { ...state, partition: UNNAMED_PARTITION };

/** Where an organisation's own state is, once there are several. */
const ownLocation = (state: StateSetting, organisationId: number): StateLocation =>
  state.kind === 'file'
    ? { kind: 'file', path: organisationFile(state.path, organisationId) }
    : { ...state, partition: String(organisationId) };

const describeLocation = (location: StateLocation): string =>
  location.kind === 'file'
    ? `state file ${location.path}`
    : `state in table ${location.tableName} (partition org#${location.partition})`;

export interface Located {
  location: StateLocation;
  /** Found where an unnamed state was kept, with no record of its organisation: to be confirmed first. */
  probeUnrecorded: boolean;
}

/**
 * Finds an organisation's state, so that a change of configuration never starts a silent new baseline:
 * its own state when it has one (`state.35802.json`, `org#35802`); else the state kept for the unnamed or
 * single organisation (`state.json`, `org#default`) when that one belongs to it (recorded, or recorded by
 * no one yet and this is the only organisation configured: then confirmed before use); else a new state —
 * its own when there are several, the configured file when it is the only one. A file configured for one
 * organisation that belongs to another is a configuration error naming both.
 */
export const locateState = async (
  state: StateSetting,
  organisationId: number | undefined,
  several: boolean,
  checkpointAt: (location: StateLocation) => Promise<Checkpoint | undefined>,
): Promise<Located> => {
  const base = baseLocation(state);
  if (organisationId === undefined) return { location: base, probeUnrecorded: false };
  const own = ownLocation(state, organisationId);
  const ownCheckpoint = await checkpointAt(own);
  if (ownCheckpoint) return { location: own, probeUnrecorded: false };
  const baseCheckpoint = await checkpointAt(base);
  const fresh: Located = {
    location: several || state.kind === 'dynamodb' ? own : base,
    probeUnrecorded: false,
  };
  if (!baseCheckpoint) return fresh;
  const recorded = baseCheckpoint.organisationId;
  if (recorded === organisationId) return { location: base, probeUnrecorded: false };
  if (recorded === undefined) return several ? fresh : { location: base, probeUnrecorded: true };
  if (!several && state.kind === 'file') {
    throw new ConfigError(
      `the ${describeLocation(base)} belongs to organisation ${recorded}, but organisation ${organisationId} is configured: give ${organisationId} another --state, or configure ${recorded}`,
    );
  }
  return fresh;
};

/**
 * An organisation's state store, found (locateState) when first used and kept from then on. It stands for
 * the store of that place in every respect; the cycle learns from `organisation()` which organisation the
 * state is for and whether it must be confirmed.
 */
export class LocatedStateStore implements StateStore {
  #located: Promise<{ store: StateStore; located: Located }> | undefined;
  #resolved: { store: StateStore; located: Located } | undefined;

  constructor(
    private readonly state: StateSetting,
    private readonly organisationId: number | undefined,
    private readonly several: boolean,
    /** The store of a place (one per place: the checkpoint read to find it is not read twice). */
    private readonly open: (location: StateLocation) => StateStore,
  ) {}

  /** The store, found on first use; a failure (a configuration error) is tried again next time. */
  async store(): Promise<StateStore> {
    if (this.#resolved) return this.#resolved.store;
    this.#located ??= (async () => {
      const located = await locateState(this.state, this.organisationId, this.several, (location) =>
        this.open(location).getCheckpoint(),
      );
      return { store: this.open(located.location), located };
    })();
    try {
      this.#resolved = await this.#located;
      return this.#resolved.store;
    } finally {
      this.#located = undefined;
    }
  }

  /** Where the state was found (once it was). */
  async location(): Promise<StateLocation> {
    await this.store();
    return (this.#resolved as { located: Located }).located.location;
  }

  /** The organisation the state is polled for; the cycle asks once it holds the lease (the state is found). */
  organisation(): OrganisationHint {
    const located = this.#resolved?.located ?? { location: baseLocation(this.state), probeUnrecorded: false };
    return {
      id: this.organisationId,
      probeUnrecorded: located.probeUnrecorded,
      where: describeLocation(located.location),
    };
  }

  async acquireLease(claim: LeaseClaim): Promise<LeaseOutcome> {
    return (await this.store()).acquireLease(claim);
  }
  async takeOverLease(claim: LeaseClaim, holder: Lease): Promise<LeaseOutcome> {
    return (await this.store()).takeOverLease(claim, holder);
  }
  async releaseLease(lease: Lease): Promise<void> {
    return (await this.store()).releaseLease(lease);
  }
  async getCheckpoint() {
    return (await this.store()).getCheckpoint();
  }
  async getSnapshots(orderIds: number[]) {
    return (await this.store()).getSnapshots(orderIds);
  }
  async readIndex() {
    return (await this.store()).readIndex();
  }
  async readHistory() {
    return (await this.store()).readHistory();
  }
  async *listSnapshotIds(): AsyncIterable<number[]> {
    yield* (await this.store()).listSnapshotIds();
  }
  snapshotFits(snapshot: Parameters<StateStore['snapshotFits']>[0]): boolean {
    // The kind of store decides, not its place: every place of this setting is of the same kind.
    return (this.#resolved?.store ?? this.open(baseLocation(this.state))).snapshotFits(snapshot);
  }
  async readJournal(): Promise<Journal> {
    return (await this.store()).readJournal();
  }
  async writeJournalPart(fence: Fence, part: JournalPart): Promise<void> {
    return (await this.store()).writeJournalPart(fence, part);
  }
  async sealJournal(fence: Fence, seal: JournalSeal): Promise<void> {
    return (await this.store()).sealJournal(fence, seal);
  }
  async applyWrites(fence: Fence, writes: StateWrites): Promise<void> {
    return (await this.store()).applyWrites(fence, writes);
  }
  async clearJournal(fence: Fence, commit: CommitRef, parts: number[]): Promise<void> {
    return (await this.store()).clearJournal(fence, commit, parts);
  }
  async setAside(fence: Fence, events: SetAsideEvent[]): Promise<void> {
    return (await this.store()).setAside(fence, events);
  }
  async listSetAside(): Promise<SetAsideEvent[]> {
    return (await this.store()).listSetAside();
  }
  async removeSetAside(fence: Fence, eventIds: string[]): Promise<void> {
    return (await this.store()).removeSetAside(fence, eventIds);
  }
}
