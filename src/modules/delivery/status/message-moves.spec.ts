import {
  adminRetry,
  answer,
  applyEvent,
  BACKOFF_CLOCK_SKEW_MS,
  claim,
  reconciled,
  retryLater,
  sameState,
  sendFailure,
  statusChange,
  type MessageState,
} from './message-moves';
import { afterInbound, type ContactState } from '../contacts/contact-moves';

const NOW = '2026-12-06T12:00:00.123456+00:00';
const at = (offsetMs: number) => new Date(Date.parse(NOW) + offsetMs).toISOString();

function row(overrides: Partial<MessageState> = {}): MessageState {
  return {
    id: 'm1',
    status: 'pending',
    attempts: 0,
    maxAttempts: 8,
    twilioSid: null,
    errorCode: null,
    errorMessage: null,
    stages: {
      accepted_at: null,
      sent_at: null,
      delivered_at: null,
      read_at: null,
      failed_at: null,
    },
    dispatchStartedAt: null,
    uncertainSince: null,
    nextAttemptAt: null,
    lastErrorRetryable: false,
    reconciledAt: null,
    reconcileLeaseUntil: null,
    eventSequence: 0,
    ...overrides,
  };
}

const queued = { sid: 'SMnew', status: 'queued', errorCode: null, errorMessage: null };

describe('claim', () => {
  it('should take a pending row: attempts + 1, the holder clock starting at the lock time', () => {
    const move = claim(row(), NOW, 30_000);
    expect(move.applied).toBe(true);
    expect(move.row).toMatchObject({
      status: 'dispatching',
      attempts: 1,
      dispatchStartedAt: NOW,
      nextAttemptAt: null,
    });
    expect(move.log).toMatchObject({ status: 'dispatching', attempt: 1, applied: true });
  });

  it.each([
    ['its backoff ended', at(-1), true],
    ['its backoff ends within the clock skew', at(BACKOFF_CLOCK_SKEW_MS - 1), true],
    ['its backoff runs beyond the clock skew', at(BACKOFF_CLOCK_SKEW_MS + 1), false],
  ])('should take a pending row when %s', (_label, nextAttemptAt, taken) => {
    expect(claim(row({ nextAttemptAt }), NOW, 30_000).applied).toBe(taken);
  });

  it.each([
    ['a live holder', at(-29_000), false],
    ['a holder silent for longer than staleMs', at(-31_000), true],
    ['no holder clock at all', null, false],
  ])('should take a dispatching row over from %s only when stale', (_label, started, taken) => {
    const held = row({ status: 'dispatching', attempts: 1, dispatchStartedAt: started });
    expect(claim(held, NOW, 30_000).applied).toBe(taken);
  });

  it("should make a dead holder's start the uncertain mark, keeping an earlier one", () => {
    const dead = row({ status: 'dispatching', attempts: 1, dispatchStartedAt: at(-60_000) });
    expect(claim(dead, NOW, 30_000).row.uncertainSince).toBe(at(-60_000));
    const marked = { ...dead, uncertainSince: at(-120_000) };
    expect(claim(marked, NOW, 30_000).row.uncertainSince).toBe(at(-120_000));
  });

  it.each([['queued'], ['delivered'], ['failed'], ['received']])(
    'should leave a %s row alone',
    (status) => {
      expect(claim(row({ status }), NOW, 30_000)).toEqual({
        row: row({ status }),
        applied: false,
        log: null,
        visible: false,
      });
    },
  );
});

describe('answer', () => {
  const held = row({
    status: 'dispatching',
    attempts: 2,
    dispatchStartedAt: at(-100),
    uncertainSince: at(-90_000),
    errorCode: 20429,
    errorMessage: 'Too Many Requests',
  });

  it("should move the holder's row, clear its clocks, marks and the earlier attempt's error", () => {
    const move = answer(held, 2, queued, NOW);
    expect(move.applied).toBe(true);
    expect(move.row).toMatchObject({
      status: 'queued',
      twilioSid: 'SMnew',
      dispatchStartedAt: null,
      uncertainSince: null,
      errorCode: null,
      errorMessage: null,
    });
    expect(move.row.stages.accepted_at).toBe(NOW);
  });

  it('should keep only the SID of a stale attempt, leaving the holder its clock and mark', () => {
    const move = answer(held, 1, queued, NOW);
    expect(move.applied).toBe(false);
    expect(move.row).toEqual({ ...held, twilioSid: 'SMnew' });
    expect(move.log).toMatchObject({ status: 'queued', attempt: 1, applied: false });
  });

  it('should never move a row back, but still release the holder', () => {
    const ahead = { ...held, status: 'delivered' };
    const move = answer(ahead, 2, queued, NOW);
    expect(move.applied).toBe(false);
    expect(move.row.status).toBe('delivered');
    expect(move.row.dispatchStartedAt).toBeNull();
  });

  it('should never replace a SID the row has', () => {
    expect(answer({ ...held, twilioSid: 'SMold' }, 2, queued, NOW).row.twilioSid).toBe('SMold');
  });
});

describe('sendFailure', () => {
  const failure = { errorCode: 21211, errorMessage: 'Invalid To', retryable: false };

  it('should fail the holder’s row with its error, once', () => {
    const held = row({ status: 'dispatching', attempts: 1, dispatchStartedAt: at(-10) });
    const move = sendFailure(held, 1, failure, NOW);
    expect(move.row).toMatchObject({ status: 'failed', errorCode: 21211, dispatchStartedAt: null });
    expect(move.row.stages.failed_at).toBe(NOW);
  });

  it('should ignore a stale attempt’s failure', () => {
    const held = row({ status: 'dispatching', attempts: 2, dispatchStartedAt: at(-10) });
    expect(sendFailure(held, 1, failure, NOW)).toMatchObject({ applied: false, row: held });
  });
});

describe('retryLater', () => {
  const held = row({ status: 'dispatching', attempts: 1, dispatchStartedAt: at(-5_000) });
  const retry = { delayMs: 2_000, errorCode: 20429, errorMessage: 'x', uncertain: false };

  it('should give the row back, due delayMs after the lock time', () => {
    const move = retryLater(held, 1, retry, NOW);
    expect(move.row).toMatchObject({
      status: 'pending',
      nextAttemptAt: at(2_000),
      dispatchStartedAt: null,
      uncertainSince: null,
    });
  });

  it('should set the uncertain mark from the holder’s start when the attempt may have reached Twilio', () => {
    expect(retryLater(held, 1, { ...retry, uncertain: true }, NOW).row.uncertainSince).toBe(
      at(-5_000),
    );
  });

  it('should refuse a stale attempt and a row that moved on', () => {
    expect(retryLater(held, 2, retry, NOW).applied).toBe(false);
    expect(retryLater({ ...held, status: 'queued' }, 1, retry, NOW).applied).toBe(false);
  });
});

describe('adminRetry', () => {
  const failed = row({
    status: 'failed',
    attempts: 8,
    errorCode: 30008,
    lastErrorRetryable: true,
    stages: { ...row().stages, failed_at: NOW },
  });

  it('should give a failed row with a retryable error a fresh set of attempts', () => {
    const move = adminRetry(failed, 3);
    expect(move.row).toMatchObject({
      status: 'pending',
      maxAttempts: 11,
      errorCode: null,
      lastErrorRetryable: false,
    });
    expect(move.row.stages.failed_at).toBeNull();
    expect(move.log).toMatchObject({ status: 'pending', source: 'api', attempt: 8 });
  });

  it('should refuse an error no retry can fix', () => {
    expect(adminRetry({ ...failed, lastErrorRetryable: false }, 3).applied).toBe(false);
  });
});

describe('applyEvent and reconciled', () => {
  it('should keep the first stamp of a stage, and the stored error on a progress status', () => {
    const sent = row({
      status: 'sent',
      errorCode: 1,
      stages: { ...row().stages, accepted_at: at(-2), sent_at: at(-1) },
    });
    const move = applyEvent(sent, { status: 'read' }, NOW);
    expect(move.row.stages).toEqual({
      accepted_at: at(-2),
      sent_at: at(-1),
      delivered_at: NOW,
      read_at: NOW,
      failed_at: null,
    });
    expect(move.row.errorCode).toBe(1);
  });

  it('should flag a failure after delivery as an anomaly, changing nothing', () => {
    const delivered = row({ status: 'delivered' });
    expect(applyEvent(delivered, { status: 'undelivered' }, NOW)).toEqual({
      row: delivered,
      applied: false,
      anomaly: true,
    });
  });

  it('should end the lease and mark the look', () => {
    const leased = row({ reconcileLeaseUntil: at(60_000) });
    expect(reconciled(leased, NOW)).toEqual({
      ...leased,
      reconciledAt: NOW,
      reconcileLeaseUntil: null,
    });
    expect(sameState(leased, reconciled(leased, NOW))).toBe(false);
    expect(sameState(leased, { ...leased })).toBe(true);
  });
});

describe('statusChange', () => {
  it('should count the sequence and show a claimed message as pending before it', () => {
    const before = row({ status: 'dispatching', attempts: 1, eventSequence: 2 });
    const after = answer(before, 1, queued, NOW).row;
    expect(statusChange(before, after, NOW)).toEqual({
      row: { ...after, eventSequence: 3 },
      change: {
        messageId: 'm1',
        sequence: 3,
        previousStatus: 'pending',
        status: 'queued',
        errorCode: null,
        errorMessage: null,
        occurredAt: NOW,
      },
    });
  });

  it("should carry a failure's error, and mark only visible moves", () => {
    const sent = row({ status: 'sent', eventSequence: 4 });
    const failed = applyEvent(
      sent,
      { status: 'undelivered', errorCode: 30008, errorMessage: 'x' },
      NOW,
    );
    expect(statusChange(sent, failed.row, NOW).change).toMatchObject({
      sequence: 5,
      previousStatus: 'sent',
      errorCode: 30008,
    });
    expect(claim(row(), NOW, 30_000).visible).toBe(false);
    expect(adminRetry(row({ status: 'failed', lastErrorRetryable: true }), 1).visible).toBe(true);
  });
});

describe('afterInbound', () => {
  const contact: ContactState = {
    phone: '+14155550100',
    waId: null,
    profileName: 'Old',
    lastInboundAt: at(-10),
    optedOutAt: null,
  };
  const message = { waId: '14155550100', profileName: null, optOut: undefined, at: NOW };

  it('should open the window from the latest message and keep what the message lacks', () => {
    expect(afterInbound(contact, message)).toEqual({
      ...contact,
      waId: '14155550100',
      lastInboundAt: NOW,
    });
    expect(afterInbound({ ...contact, lastInboundAt: at(10) }, message).lastInboundAt).toBe(at(10));
  });

  it('should keep the first opt-out, and clear it on START', () => {
    const stopped = afterInbound(contact, { ...message, optOut: true });
    expect(stopped.optedOutAt).toBe(NOW);
    expect(afterInbound(stopped, { ...message, optOut: true, at: at(5) }).optedOutAt).toBe(NOW);
    expect(afterInbound(stopped, { ...message, optOut: false }).optedOutAt).toBeNull();
  });
});
