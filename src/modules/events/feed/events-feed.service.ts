import { Injectable } from '@nestjs/common';
import type { EventType } from '../../delivery/delivery.types';
import { EventLogReader } from '../../delivery/queries/event-log.reader';
import { toEvent, type Event } from '../event-shape';
import { decodeFeedCursor, encodeFeedCursor } from './feed-cursor';

export const FEED_DEFAULT_LIMIT = 100;
export const FEED_MAX_LIMIT = 500;

export interface FeedQuery {
  after?: string;
  limit?: number;
  type?: EventType;
}

export interface FeedPage {
  items: Event[];
  nextCursor: string | null;
}

/**
 * The events feed: the event log in commit order, a page at a time. `nextCursor` is where the
 * next call starts: after the last event scanned, or the `after` given when there was none yet
 * (so a client polls with it and never loses its place); null only when the log has been empty
 * from the start of the client's reading.
 */
@Injectable()
export class EventsFeedService {
  constructor(private readonly log: EventLogReader) {}

  async page(query: FeedQuery): Promise<FeedPage> {
    const after = query.after === undefined ? null : decodeFeedCursor(query.after);
    const page = await this.log.page(after, query.limit ?? FEED_DEFAULT_LIMIT, query.type);
    return {
      items: page.events.map(toEvent).filter((event): event is Event => event !== null),
      nextCursor: page.last ? encodeFeedCursor(page.last) : (query.after ?? null),
    };
  }
}
