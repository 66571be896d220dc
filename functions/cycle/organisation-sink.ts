import type { NotifierEvent } from '../core/events/catalogue.js';
import type { EventSink } from './ports.js';

/** Stamps `detail.organisationId` on an event (the eventId is left as it is: it names the change). */
const stampOrganisation = (event: NotifierEvent, organisationId: number): NotifierEvent =>
  ({ ...event, detail: { ...event.detail, organisationId } }) as NotifierEvent;

/**
 * The sink of one organisation: every event it publishes carries `detail.organisationId`. Replays of a
 * journal go through it as well, so a re-emission is stamped exactly like the first emission; events the
 * bus refuses for good are handed back stamped (and set aside so).
 */
export const organisationSink = (sink: EventSink, organisationId: number): EventSink => ({
  publish: (events, options) =>
    sink.publish(
      events.map((event) => stampOrganisation(event, organisationId)),
      options,
    ),
});
