import type { LoggedEvent } from '../delivery/delivery.types';
import type { MessageResponse } from '../delivery/queries/dto/message.response';
import { toEvent } from './event-shape';
import { decodeFeedCursor } from './feed/feed-cursor';

const message: MessageResponse = {
  id: '3f1c2a9e-5b7d-4c1e-9a2b-6d8e0f1a2b3c',
  messageSid: 'SM0123456789abcdef0123456789abcdef',
  direction: 'outbound',
  status: 'read',
  from: null,
  to: 'whatsapp:+14155550100',
  body: 'hi',
  contentSid: null,
  contentVariables: null,
  mediaUrls: [],
  reference: 'order-42',
  metadata: { orderId: 42 },
  errorCode: null,
  errorMessage: null,
  attempts: 1,
  createdAt: '2025-01-31T18:00:00.000Z',
  updatedAt: '2025-01-31T18:00:09.000Z',
  sentAt: null,
  deliveredAt: null,
  readAt: null,
  failedAt: null,
};

const logged = (overrides: Partial<LoggedEvent> = {}): LoggedEvent => ({
  id: '1042',
  position: { xid: '756', id: '1042' },
  type: 'message.status',
  messageId: message.id,
  sequence: 3,
  previousStatus: 'sent',
  status: 'undelivered',
  errorCode: 63024,
  errorMessage: 'Invalid message recipient',
  occurredAt: new Date('2025-01-31T18:00:05.000Z'),
  createdAt: new Date('2025-01-31T18:00:05.001Z'),
  message,
  ...overrides,
});

describe('toEvent', () => {
  it("should show a status change with the row's change and the message's SID, reference and metadata now", () => {
    const event = toEvent(logged());
    expect(event).toEqual({
      id: 'evt_1042',
      type: 'message.status',
      createdAt: '2025-01-31T18:00:05.001Z',
      cursor: expect.any(String),
      data: {
        messageId: message.id,
        messageSid: message.messageSid,
        sequence: 3,
        previousStatus: 'sent',
        status: 'undelivered',
        errorCode: 63024,
        errorMessage: 'Invalid message recipient',
        reference: 'order-42',
        metadata: { orderId: 42 },
        occurredAt: '2025-01-31T18:00:05.000Z',
      },
    });
    expect(decodeFeedCursor(event?.cursor ?? '')).toEqual({ xid: '756', id: '1042' });
  });

  it('should show an inbound message as the Message it is now (erased, if erased)', () => {
    const inbound = { ...message, direction: 'inbound' as const, status: 'received', body: null };
    expect(toEvent(logged({ type: 'message.inbound', message: inbound }))?.data).toEqual(inbound);
  });

  it('should show nothing for an event whose message is gone', () => {
    expect(toEvent(logged({ message: null }))).toBeNull();
  });
});
