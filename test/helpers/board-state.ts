import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { OrderRef } from '../../functions/core/order.js';
import type { Snapshot } from '../../functions/core/snapshot.js';

/** A seeded state for the board and the digest: the clock is 2026-11-30 10:00 UTC. */
export const BOARD_NOW = Date.parse('2026-11-30T10:00:00Z');
const ms = (iso: string) => Date.parse(iso);

/** An order block: PO number = id - 1000, supplier Atelier Nord, season 1, unless `over` says otherwise. */
export const ref = (id: number, over: Partial<OrderRef>): OrderRef => ({
  id,
  number: String(id - 1000),
  status: 'confirmed',
  deliveryStatus: 'not_received',
  companyId: 1,
  companyName: 'Atelier Nord',
  seasonId: 1,
  dueDate: null,
  updatedAt: '2026-11-01T09:00:00.000Z',
  ...over,
});

type Extra = Partial<Pick<Snapshot, 'removed' | 'starts' | 'rolledUp' | 'rolledUpSeen' | 'receivedSeen'>>;
export const snap = (order: OrderRef, stages: Snapshot['stages'], extra: Extra = {}): Snapshot =>
  ({ v: 1, seq: 3, order, stages, ...extra }) as Snapshot;

export const seededSnapshots = (): Snapshot[] => [
  // Overdue 3 days; line item 11 in Sewing for 10 days (stalled, limit 7); line item 12 further on.
  snap(
    ref(2001, { dueDate: '2026-11-27' }),
    { '11': { Cutting: 'c', Sewing: 'p', Packing: 'n' }, '12': { Cutting: 'c', Sewing: 'c', Packing: 'p' } },
    {
      starts: { '11': { Sewing: ms('2026-11-20T08:00:00Z') }, '12': { Packing: ms('2026-11-29T08:00:00Z') } },
    },
  ),
  // Due in 3 days, in Cutting since two days.
  snap(
    ref(2002, { dueDate: '2026-12-03', companyName: 'Tribal Sportswear Inc.', seasonId: 2 }),
    { '21': { Cutting: 'p' } },
    { starts: { '21': { Cutting: ms('2026-11-28T08:00:00Z') } } },
  ),
  // Due later; in Finishing. Cutting was detected completed two days ago, Sewing this morning.
  snap(
    ref(2003, { dueDate: '2027-01-15', seasonId: 2 }),
    { '31': { Cutting: 'c', Sewing: 'c', Finishing: 'p', Packing: 'n' } },
    { rolledUpSeen: { Cutting: ms('2026-11-28T09:00:00Z'), Sewing: ms('2026-11-30T06:00:00Z') } },
  ),
  // Production done, being received; Packing detected completed 5 minutes ago (after the digest's period).
  snap(
    ref(2004, { companyName: 'Tribal Sportswear Inc.', deliveryStatus: 'receiving' }),
    { '41': { Cutting: 'c', Sewing: 'c', Packing: 'c' } },
    { rolledUpSeen: { Packing: ms('2026-11-30T09:55:00Z') } },
  ),
  // Production done, detected all received this morning, order still confirmed (open).
  snap(
    ref(2005, { deliveryStatus: 'all_received', updatedAt: '2026-11-30T08:00:00.000+01:00' }),
    { '51': { Cutting: 'c', Sewing: 'c', Packing: 'c' } },
    { receivedSeen: ms('2026-11-30T07:00:00Z') },
  ),
  // Cancelled, removed and finished orders are not on the board.
  snap(ref(2006, { status: 'cancelled', dueDate: '2026-11-01' }), { '61': { Cutting: 'p' } }),
  snap(ref(2007, { dueDate: '2026-11-01' }), { '71': { Cutting: 'p' } }, { removed: true }),
  snap(
    ref(2008, { status: 'complete', deliveryStatus: 'all_received', updatedAt: '2026-11-30T07:00:00Z' }),
    { '81': { Cutting: 'c', Packing: 'c' } },
    { receivedSeen: ms('2026-11-30T07:30:00Z') },
  ),
  // Quality Check after Packing; the stage was redone once (Packing#2).
  snap(ref(2009, { companyName: 'Tribal Sportswear Inc.', dueDate: '2026-12-30' }), {
    '91': { Cutting: 'c', Packing: 'c', 'Packing#2': 'c', 'Quality Check': 'p' },
  }),
];

/** Writes the seeded snapshots as a state file of the command line (format version 2). */
export const writeSeededState = async (path: string, snapshots = seededSnapshots()): Promise<void> => {
  await mkdir(dirname(path), { recursive: true });
  const state = {
    format: 'uphance-notifier-state',
    version: 2,
    checkpoint: null,
    snapshots: Object.fromEntries(snapshots.map((s) => [String(s.order.id), { rev: 1, snapshot: s }])),
    journal: [],
    seals: [],
    setAside: [],
  };
  await writeFile(path, JSON.stringify(state));
};
