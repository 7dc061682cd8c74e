import { withQueueDb } from '../clock/repair.js';
import { ErrorCode } from '../errors/index.js';

/**
 * Events over the size limit found at send time: queued before kitty checked sizes at enqueue, or
 * moved back by `kitty sync retry-dead`. They become dead here with the reason, as at enqueue,
 * rather than be built into a frame the server would refuse whole.
 */
export function keepTooLarge(queuePath: string, events: readonly { eventId: string; reason: string }[]): void {
  if (events.length === 0) return;
  withQueueDb(queuePath, (db) => {
    const kill = db.prepare("UPDATE events SET state = 'dead', last_error = @error, updated_at = @now WHERE event_id = @id AND state = 'pending'");
    const now = new Date().toISOString();
    db.transaction(() => {
      for (const event of events) kill.run({ id: event.eventId, error: `${ErrorCode.EVENT_TOO_LARGE}: ${event.reason}`, now });
    }).immediate();
  });
}
