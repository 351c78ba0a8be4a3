import type { Counter } from 'prom-client';
import type { AppConfig } from '../../config/app-config';
import type { DeliveryService } from '../delivery/delivery.service';
import type { TwilioClient } from '../twilio/twilio.client';
import type { TwilioMessage } from '../twilio/twilio.types';
import { DispatchService } from './dispatch.service';
import type { OutboundQueue } from './outbound.queue';
import type { ClaimedMessage } from '../delivery/delivery.types';

// Once Twilio has the message, a failure to RECORD it is not a failed send: it must never be
// retried as one (a second create) nor, on the last attempt, marked `failed`. The job fails
// instead and the row stays `dispatching`, for a callback or a takeover that looks first.

const CONFIG = {
  publicBaseUrl: 'https://api.example.com',
  twilio: { messagingServiceSid: null },
  sending: { dispatchStaleMs: 30_000, retryBaseMs: 15_000, retryMaxMs: 900_000 },
} as unknown as AppConfig;

function claimed(overrides: Partial<ClaimedMessage> = {}): ClaimedMessage {
  return {
    id: '5c7c2a54-7f43-4ad4-9d0a-6d4b3b0c0f11',
    from: 'whatsapp:+14155238886',
    to: 'whatsapp:+14155550100',
    body: 'hello',
    contentSid: null,
    contentVariables: null,
    mediaUrls: [],
    maxAttempts: 3,
    attempt: 3, // the last one: a failure here would be final
    uncertainSince: null,
    ...overrides,
  };
}

const atTwilio = (): TwilioMessage => ({
  sid: `SM${'a'.repeat(32)}`,
  status: 'queued',
  to: 'whatsapp:+14155550100',
  from: 'whatsapp:+14155238886',
  body: 'hello',
  messagingServiceSid: null,
  errorCode: null,
  errorMessage: null,
  numMedia: 0,
  dateCreated: new Date(),
  dateSent: null,
  dateUpdated: null,
});

function setUp(message: ClaimedMessage) {
  const delivery = {
    claimForSend: jest.fn().mockResolvedValue(message),
    recordAccepted: jest.fn().mockRejectedValue(new Error('Connection terminated unexpectedly')),
    recordSendFailure: jest.fn().mockResolvedValue(undefined),
    scheduleRetry: jest.fn().mockResolvedValue(4),
    sidTaken: jest.fn().mockResolvedValue(false),
  };
  const twilio = {
    createMessage: jest.fn().mockResolvedValue(atTwilio()),
    listMessages: jest.fn().mockResolvedValue([atTwilio()]),
  };
  const queue = { enqueue: jest.fn().mockResolvedValue(undefined) };
  const attempts = { inc: jest.fn() };
  const service = new DispatchService(
    CONFIG,
    queue as unknown as OutboundQueue,
    twilio as unknown as TwilioClient,
    delivery as unknown as DeliveryService,
    attempts as unknown as Counter<'result' | 'error_code'>,
  );
  return { service, delivery, twilio, queue };
}

describe('DispatchService when recording what Twilio has fails', () => {
  it('should fail the job, not the send, after a create', async () => {
    const { service, delivery, twilio, queue } = setUp(claimed());
    await expect(service.dispatch(claimed().id)).rejects.toThrow('Connection terminated');
    expect(twilio.createMessage).toHaveBeenCalledTimes(1);
    expect(delivery.recordSendFailure).not.toHaveBeenCalled();
    expect(delivery.scheduleRetry).not.toHaveBeenCalled();
    expect(queue.enqueue).not.toHaveBeenCalled();
  });

  it('should fail the job, not the send, after adopting what an earlier attempt created', async () => {
    const uncertain = claimed({ uncertainSince: new Date(Date.now() - 60_000) });
    const { service, delivery, twilio } = setUp(uncertain);
    await expect(service.dispatch(uncertain.id)).rejects.toThrow('Connection terminated');
    expect(twilio.listMessages).toHaveBeenCalledTimes(1);
    expect(twilio.createMessage).not.toHaveBeenCalled();
    expect(delivery.recordSendFailure).not.toHaveBeenCalled();
    expect(delivery.scheduleRetry).not.toHaveBeenCalled();
  });

  it('should still treat a failed look-up as a failed attempt (nothing is known to be at Twilio)', async () => {
    const uncertain = claimed({ uncertainSince: new Date(Date.now() - 60_000) });
    const { service, delivery, twilio } = setUp(uncertain);
    twilio.listMessages.mockRejectedValue(new Error('socket hang up'));
    await expect(service.dispatch(uncertain.id)).resolves.toEqual({});
    expect(twilio.createMessage).not.toHaveBeenCalled();
    expect(delivery.recordSendFailure).toHaveBeenCalledTimes(1);
  });
});
