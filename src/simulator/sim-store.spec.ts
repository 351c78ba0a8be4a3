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
    droppedCallbacks: 0,
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

describe('SimStore retire', () => {
  const at = (ms: number) => new Date(1_800_000_000_000 + ms);
  const made = (mid: string, createdMs: number, updatedMs: number, status = 'read') => ({
    ...message(mid),
    status,
    createdAt: at(createdMs),
    updatedAt: at(updatedMs),
  });

  it('should take messages whose life ended before the cutoff out of the resource, keeping their truth', () => {
    const store = new SimStore();
    const old = made('a', 0, 5_000);
    const stillChanging = made('b', 1_000, 20_000, 'delivered');
    const recent = made('c', 15_000, 16_000);
    [old, stillChanging, recent].forEach((entry) => store.add(entry));
    store.recordCreateCall('a', old.to);

    expect(store.retire(at(10_000).getTime())).toBe(1);
    expect(store.get(old.sid)).toBeUndefined();
    expect(store.get(stillChanging.sid)).toBe(stillChanging);
    expect(store.get(recent.sid)).toBe(recent);
    expect(store.all().map((entry) => entry.mid)).toEqual(['b', 'c']);
    expect(store.size).toBe(3);
    expect(store.truth().map((entry) => [entry.mid, entry.status])).toEqual([
      ['a', 'read'],
      ['b', 'delivered'],
      ['c', 'read'],
    ]);
    expect(store.truth()[0]).toEqual({
      sid: old.sid,
      mid: 'a',
      to: old.to,
      from: old.from,
      status: 'read',
      errorCode: null,
      createdAt: old.createdAt,
      droppedCallbacks: 0,
    });
    expect(store.createCounts()).toHaveLength(3);
    expect(store.createCounts()).toContainEqual({ mid: 'a', to: old.to, count: 1, accepted: 1 });
    // Walked once: a later call goes on from the first message not yet due.
    expect(store.retire(at(17_000).getTime())).toBe(1);
    expect(store.all().map((entry) => entry.mid)).toEqual(['b']);
    // The one still changing when walked past is looked at again, and goes once its life ended.
    expect(store.retire(at(20_000).getTime())).toBe(0);
    expect(store.retire(at(20_001).getTime())).toBe(1);
    expect(store.all()).toEqual([]);
    expect(store.truth().map((entry) => [entry.mid, entry.status])).toEqual([
      ['a', 'read'],
      ['c', 'read'],
      ['b', 'delivered'],
    ]);
  });

  it('should forget retired truth and its create calls after their age, keeping the rest', () => {
    const store = new SimStore();
    const first = made('a', 0, 1_000);
    const second = made('b', 2_000, 3_000);
    const live = made('c', 4_000, 4_500);
    store.recordCreateCall('a', first.to, at(0).getTime());
    store.add(first);
    store.recordCreateCall('refused', 'whatsapp:+15005550001', at(1_500).getTime());
    store.recordCreateCall('b', second.to, at(2_000).getTime());
    store.add(second);
    store.recordCreateCall('c', live.to, at(4_000).getTime());
    store.add(live);
    store.retire(at(2_500).getTime(), at(10_000).getTime()); // a (b still changing)
    store.retire(at(4_000).getTime(), at(20_000).getTime()); // b

    // a's truth is past its age, b's is not: a goes with its create calls, and so does the mid
    // whose only call was refused; c, still in the resource, keeps its calls whatever their age.
    expect(store.forget(at(15_000).getTime(), at(15_000).getTime())).toBe(1);
    expect(store.truth().map((entry) => entry.mid)).toEqual(['b', 'c']);
    expect(store.size).toBe(2);
    expect(store.createCounts().map((entry) => entry.mid)).toEqual(['b', 'c']);

    expect(store.forget(at(30_000).getTime(), at(30_000).getTime())).toBe(1);
    expect(store.truth().map((entry) => entry.mid)).toEqual(['c']);
    expect(store.createCounts()).toEqual([{ mid: 'c', to: live.to, count: 1, accepted: 1 }]);

    // A later call for a forgotten mid counts from one again.
    store.recordCreateCall('a', first.to, at(31_000).getTime());
    expect(store.createCounts()[1]).toEqual({ mid: 'a', to: first.to, count: 1, accepted: 0 });
  });

  it('should keep a mid’s create calls as long as its truth, however old its first call', () => {
    const store = new SimStore();
    const late = made('d', 100, 200);
    store.recordCreateCall('d', late.to, at(0).getTime()); // answered 429
    store.recordCreateCall('d', late.to, at(100).getTime());
    store.add(late);
    store.retire(at(300).getTime(), at(50_000).getTime());

    expect(store.forget(at(40_000).getTime(), at(40_000).getTime())).toBe(0);
    expect(store.truth().map((entry) => entry.mid)).toEqual(['d']);
    expect(store.createCounts()).toEqual([{ mid: 'd', to: late.to, count: 2, accepted: 1 }]);

    expect(store.forget(at(50_001).getTime(), at(50_001).getTime())).toBe(1);
    expect(store.truth()).toEqual([]);
    expect(store.createCounts()).toEqual([]);
  });

  it('should forget the retired ones on reset', () => {
    const store = new SimStore();
    store.add(made('a', 0, 1));
    store.retire(at(10).getTime());
    store.reset();
    expect(store.size).toBe(0);
    expect(store.truth()).toEqual([]);
  });
});

describe('SimStore sweep', () => {
  const at = (ms: number) => new Date(1_800_000_000_000 + ms);
  const made = (mid: string, createdMs: number, updatedMs: number) => ({
    ...message(mid),
    status: 'read',
    createdAt: at(createdMs),
    updatedAt: at(updatedMs),
  });

  it('should retire after retainS, forget truthRetainS later, and keep everything at retainS 0', () => {
    const ages = { retainS: 10, truthRetainS: 20 };
    const store = new SimStore();
    const done = made('a', 0, 1_000);
    store.recordCreateCall('a', done.to, at(0).getTime());
    store.add(done);

    store.sweep(ages, at(10_999).getTime());
    expect(store.get(done.sid)).toBe(done); // ended 9.999 s ago
    store.sweep(ages, at(11_001).getTime());
    expect(store.get(done.sid)).toBeUndefined();
    expect(store.truth().map((entry) => entry.mid)).toEqual(['a']);
    store.sweep(ages, at(31_000).getTime()); // retired 19.999 s ago
    expect(store.size).toBe(1);
    store.sweep(ages, at(31_002).getTime());
    expect(store.truth()).toEqual([]);
    expect(store.createCounts()).toEqual([]);

    const keeper = new SimStore();
    keeper.add(made('b', 0, 1_000));
    keeper.sweep({ retainS: 0, truthRetainS: 20 }, at(1_000_000).getTime());
    expect(keeper.all()).toHaveLength(1);
    const truthKept = new SimStore();
    truthKept.add(made('c', 0, 1_000));
    truthKept.sweep({ retainS: 10, truthRetainS: 0 }, at(20_000).getTime());
    truthKept.sweep({ retainS: 10, truthRetainS: 0 }, at(1_000_000).getTime());
    expect(truthKept.all()).toEqual([]);
    expect(truthKept.truth().map((entry) => entry.mid)).toEqual(['c']);
  });
});
