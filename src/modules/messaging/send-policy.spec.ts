import { WINDOW_MS } from '../delivery/contacts/contact-window';
import { decideSend } from './send-policy';

const NOW = Date.parse('2026-11-27T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms);

describe('decideSend', () => {
  it.each([
    // isTemplate, windowCheck, lastInboundAt, optedOutAt, decision
    [false, true, null, null, 'window-closed'],
    [false, true, ago(1000), null, 'allowed'],
    [false, true, ago(WINDOW_MS - 1), null, 'allowed'],
    [false, true, ago(WINDOW_MS), null, 'window-closed'],
    [false, true, ago(WINDOW_MS + 1), null, 'window-closed'],
    [true, true, null, null, 'allowed'],
    [true, true, ago(WINDOW_MS * 10), null, 'allowed'],
    [false, false, null, null, 'allowed'],
    [false, false, ago(WINDOW_MS * 2), null, 'allowed'],
    [false, true, ago(1000), ago(10), 'opted-out'],
    [true, true, ago(1000), ago(10), 'opted-out'],
    [false, false, null, ago(10), 'opted-out'],
  ] as const)(
    'template=%s check=%s lastInbound=%p optedOut=%p → %s',
    (isTemplate, windowCheck, lastInboundAt, optedOutAt, decision) => {
      expect(decideSend({ isTemplate, windowCheck, lastInboundAt, optedOutAt, now: NOW })).toBe(
        decision,
      );
    },
  );
});
