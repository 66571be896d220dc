import type { OrganisationHint } from '../cycle/organisation-guard.js';
import type { StateStore } from '../cycle/ports.js';
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
  StateWrites,
} from '../cycle/records.js';
import { ConfigError } from './config.js';

/** Where the state is configured: a file (`--state`) or a table (`--table`, the stack's). */
export type StateSetting = { kind: 'file'; path: string } | { kind: 'dynamodb'; tableName: string };

/** Where one organisation's state is: a file, or a partition of the table (`org#<partition>`). */
export type StateLocation =
  | { kind: 'file'; path: string }
  | { kind: 'dynamodb'; tableName: string; partition: string };

/** The partition an unnamed organisation's state has always had (`org#default`). */
export const UNNAMED_PARTITION = 'default';

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
  /** The organisation the state turned out to be for, when it was learnt (polled unnamed). */
  organisationId?: number;
}

/** What finding a state may ask Uphance (under the run's turn on the credentials); read-only commands cannot. */
export interface Discovery {
  /** Whether any of these orders is in the organisation polled (looked up by number, the id decides). */
  ownsSomeOf(orders: Array<{ id: number; number: string }>): Promise<boolean>;
  /** The organisation the credentials answer for now (the first order of a page), if they have any order. */
  currentOrganisation(): Promise<number | undefined>;
}

/** What finding a state reads of each place. */
type Place = Pick<StateStore, 'getCheckpoint' | 'getSnapshots' | 'listSnapshotIds'>;

/** Orders of an unrecorded state looked up to tell whose it is: spread over its watched orders. */
const SAMPLE = 5;

/** Some of a state's orders, to look up: spread over the watched ones, else the first stored. */
const sampleOf = async (
  place: Place,
  checkpoint: Checkpoint,
): Promise<Array<{ id: number; number: string }>> => {
  let ids = [...checkpoint.watched].sort((a, b) => a - b);
  if (ids.length === 0) {
    for await (const batch of place.listSnapshotIds()) {
      ids = batch.sort((a, b) => a - b);
      break;
    }
  }
  const step = Math.max(1, Math.floor(ids.length / SAMPLE));
  const chosen = ids.filter((_, i) => i % step === 0).slice(0, SAMPLE);
  const snapshots = await place.getSnapshots(chosen);
  return chosen.flatMap((id) => {
    const number = snapshots.get(id)?.snapshot.order.number;
    return number === undefined ? [] : [{ id, number }];
  });
};

/**
 * Finds an organisation's state, so that a change of configuration never starts a silent new baseline:
 * - its own state when it has one (`state.35802.json`, `org#35802`);
 * - else the state kept for the unnamed or the only organisation (`state.json`, `org#default`) when that
 *   one is its own: recorded so, or recorded by no one yet (written before organisations were) and some of
 *   its orders found in this organisation (with `discovery`; without it, a read-only command takes it
 *   when this is the only organisation configured);
 * - else a new state: its own file when there are several, the configured file when it is the only one,
 *   its own partition of a table. A file configured for one organisation that belongs to another (recorded
 *   so, or unrecorded and none of its orders in this one) is a configuration error naming both.
 * Polled unnamed, the state is `state.json` / `org#default`; when that is empty, the organisation the
 * credentials answer for is learnt and its own state used if it has one (polled named before).
 */
export const locateState = async (
  state: StateSetting,
  organisationId: number | undefined,
  several: boolean,
  open: (location: StateLocation) => Place,
  discovery?: Discovery,
): Promise<Located> => {
  const base = baseLocation(state);
  if (organisationId === undefined) {
    if ((await open(base).getCheckpoint()) || !discovery) return { location: base };
    const current = await discovery.currentOrganisation();
    if (current === undefined) return { location: base };
    const own = ownLocation(state, current);
    return (await open(own).getCheckpoint())
      ? { location: own, organisationId: current }
      : { location: base, organisationId: current };
  }
  const own = ownLocation(state, organisationId);
  if (await open(own).getCheckpoint()) return { location: own };
  const baseCheckpoint = await open(base).getCheckpoint();
  const fresh: Located = { location: several || state.kind === 'dynamodb' ? own : base };
  if (!baseCheckpoint) return fresh;
  const refuse = (whose: string) =>
    new ConfigError(
      `the ${describeLocation(base)} belongs to ${whose}, but organisation ${organisationId} is configured: give ${organisationId} another --state, or configure the organisation it belongs to`,
    );
  const recorded = baseCheckpoint.organisationId;
  if (recorded === organisationId) return { location: base };
  if (recorded !== undefined) {
    if (!several && state.kind === 'file') throw refuse(`organisation ${recorded}`);
    return fresh;
  }
  // Written before states recorded their organisation: whose is it?
  if (!discovery) return several ? fresh : { location: base };
  const sample = await sampleOf(open(base), baseCheckpoint);
  // A state without orders is no one's: shared by several, it could end up anyone's.
  if (sample.length === 0) return several ? fresh : { location: base };
  if (await discovery.ownsSomeOf(sample)) return { location: base };
  if (!several && state.kind === 'file') {
    throw refuse(
      `another organisation (recorded by an earlier version without its organisation; none of its orders ${sample.map((o) => o.number).join(', ')} is in organisation ${organisationId})`,
    );
  }
  return fresh;
};

/**
 * An organisation's state store, found (locateState) when first used and kept from then on. It stands for
 * the store of that place in every respect; the cycle learns from `organisation()` which organisation the
 * state is for. A run finds it when it takes the state's lease, after its turn on the credentials: what
 * finding it asks Uphance is answered for the organisation polled.
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
    /** What finding it may ask Uphance; absent for read-only commands. */
    private readonly discovery?: Discovery,
  ) {}

  /** The store, found on first use; a failure (a configuration error) is tried again next time. */
  async store(): Promise<StateStore> {
    if (this.#resolved) return this.#resolved.store;
    this.#located ??= (async () => {
      const located = await locateState(
        this.state,
        this.organisationId,
        this.several,
        this.open,
        this.discovery,
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
    const located = this.#resolved?.located ?? { location: baseLocation(this.state) };
    return { id: this.organisationId, where: describeLocation(located.location) };
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
