import type { NotifierEvent } from '../../functions/core/events/catalogue.js';
import { generateOrders } from '../../simulator/generator.js';
import type { LedgerEntry } from '../../simulator/model.js';
import type { RunningSimulator, SimulatorOptions } from '../../simulator/server.js';
import { startSimulator } from '../../simulator/server.js';

export const ORG_A = 35802;
export const ORG_B = 35803;

/** One simulator serving two organisations on one token: each one's orders, by the organisation selected. */
export const twoOrganisations = async (perOrganisation = 8, options: SimulatorOptions = {}) =>
  startSimulator({
    organisations: [
      { id: ORG_A, name: 'Woah2 Fashion' },
      { id: ORG_B, name: 'Second Label' },
    ],
    orders: [ORG_A, ORG_B].flatMap((organisationId, i) =>
      generateOrders({
        count: perOrganisation,
        seed: 7 + i,
        firstId: 40_000 + i * 1_000,
        firstNumber: 5_000 + i * 100,
        watchedShare: 1,
        organisationId,
      }),
    ),
    ...options,
  });

const organisationOf = (sim: RunningSimulator, orderId: number): number =>
  sim.state.get(orderId).raw.organisation_id as number;

export const ordersOf = (sim: RunningSimulator, organisationId: number): number[] =>
  [...sim.state.orders.values()].filter((o) => o.raw.organisation_id === organisationId).map((o) => o.raw.id);

/** Changes on every order of both organisations: a due date and a stage moved on. */
export const changeEveryOrder = (sim: RunningSimulator, round: number): void => {
  for (const order of sim.state.orders.values()) {
    sim.state.setDueDate(order.raw.id, `2027-0${1 + (round % 9)}-1${round % 10}`);
  }
};

/** The ledger's entries of one organisation's orders, from `from`. */
export const ledgerOf = (sim: RunningSimulator, organisationId: number, from = 0): LedgerEntry[] =>
  sim.state.ledger
    .slice(from)
    .filter((e) => sim.state.orders.has(e.orderId) && organisationOf(sim, e.orderId) === organisationId);

/** What an event line printed by the command line (or the stdout sink) holds, as the core's event. */
export const eventOfLine = (line: string): NotifierEvent & { organisationId?: number } => {
  const parsed = JSON.parse(line) as { 'detail-type': string; detail: NotifierEvent['detail'] };
  return { detailType: parsed['detail-type'], detail: parsed.detail } as NotifierEvent;
};
