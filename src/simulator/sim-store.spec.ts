import { newSid, SimStore, type SimMessage } from './sim-store';

function message(mid: string | null, to = 'whatsapp:+14155550100'): SimMessage {
  const now = new Date();
  return {
    sid: newSid('SM'),
    mid,
    accountSid: `AC${'1'.repeat(32)}`,
    to,
    from: 'whatsapp:+14155238886',
    body: 'x',
    mediaUrls: [],
    contentSid: null,
    contentVariables: null,
    messagingServiceSid: null,
    statusCallback: mid === null ? null : `https://h/s?mid=${mid}`,
    status: 'queued',
    errorCode: null,
    errorMessage: null,
    createdAt: now,
    sentAt: null,
    updatedAt: now,
  };
}

describe('SimStore create counts', () => {
  it('should count every create call and, apart, the messages created', () => {
    const store = new SimStore();
    store.recordCreateCall('a', 'whatsapp:+14155550100'); // 429
    store.recordCreateCall('a', 'whatsapp:+14155550100');
    store.add(message('a'));
    store.recordCreateCall('b', 'whatsapp:+15005550001'); // refused
    expect(store.createCounts()).toEqual([
      { mid: 'a', to: 'whatsapp:+14155550100', count: 2, accepted: 1 },
      { mid: 'b', to: 'whatsapp:+15005550001', count: 1, accepted: 0 },
    ]);
  });

  it('should take the first To given, and ignore calls without a mid', () => {
    const store = new SimStore();
    store.recordCreateCall('a', null); // no To: refused with 21604
    store.recordCreateCall('a', 'whatsapp:+14155550100');
    store.recordCreateCall(null, 'whatsapp:+14155550100');
    store.add(message(null));
    expect(store.createCounts()).toEqual([
      { mid: 'a', to: 'whatsapp:+14155550100', count: 2, accepted: 0 },
    ]);
  });

  it('should hand out copies and forget everything on reset', () => {
    const store = new SimStore();
    store.recordCreateCall('a', 'whatsapp:+14155550100');
    store.createCounts()[0].count = 99;
    expect(store.createCounts()[0].count).toBe(1);
    store.reset();
    expect(store.createCounts()).toEqual([]);
  });
});
