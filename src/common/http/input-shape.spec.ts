import { countFormFields, hasLoneSurrogate, jsonShapeProblem } from './input-shape';

const limits = { maxDepth: 3, maxKeys: 4, maxItems: 4 };

describe('jsonShapeProblem', () => {
  it.each([
    ['{}'],
    ['{"a":{"b":{"c":1}}}'],
    ['[[[1]]]'],
    ['{"a":1,"b":2,"c":3,"d":4}'],
    ['[1,2,3,4]'],
    ['[[1],[2]]'],
    ['{"a":"{{{{[[[[::::::"}'],
    ['{"a":"\\"{{{{:::::"}'],
    ['{"a":"é🙂{{{{"}'],
    ['not json at all {'],
  ])('should let %s through', (text) => {
    expect(jsonShapeProblem(text, limits)).toBeNull();
  });

  it.each([
    ['{"a":{"b":{"c":{}}}}', /nested at most 3/],
    ['[[[[1]]]]', /nested at most 3/],
    ['{"a":[{"b":[]}]}', /nested at most 3/],
    ['{"a":1,"b":2,"c":3,"d":4,"e":5}', /at most 4 keys/],
    ['[{"a":1},{"b":1},{"c":1},{"d":1},{"e":1}]', /at most 4 (keys|items)/],
    ['[1,2,3,4,5]', /at most 4 items/],
    ['{"a":[1,2],"b":[3,4],"c":[5]}', /at most 4 items/],
  ])('should refuse %s', (text, problem) => {
    expect(jsonShapeProblem(text, limits)).toMatch(problem);
  });

  it('should stop a 20,000-deep body at the cap', () => {
    expect(jsonShapeProblem('['.repeat(20_000))).toMatch(/nested at most 32/);
    expect(jsonShapeProblem(`${'['.repeat(32)}${']'.repeat(32)}`)).toBeNull();
  });

  it('should stop 5,000 array items at the cap', () => {
    expect(jsonShapeProblem(`[${'1,'.repeat(4_999)}1]`)).toMatch(/at most 1000 items/);
    expect(jsonShapeProblem(`[${'1,'.repeat(998)}1]`)).toBeNull();
  });

  it('should stop 90,000 keys at the cap', () => {
    const wide = `{${Array.from({ length: 90_000 }, (_, i) => `"k${i}":1`).join(',')}}`;
    expect(jsonShapeProblem(wide)).toMatch(/at most 1000 keys/);
  });
});

describe('countFormFields', () => {
  it.each([
    ['', 0],
    ['a=1', 1],
    ['a=1&b=2', 2],
    ['a=1&&b=2&', 2],
    ['a&b&c', 3],
  ])('should count %j as %d', (text, count) => {
    expect(countFormFields(text)).toBe(count);
  });
});

describe('hasLoneSurrogate', () => {
  const check = (raw: string): boolean => hasLoneSurrogate(raw, JSON.parse(raw));

  it.each([
    ['{"email":"\\udc00"}', true],
    ['{"a":["x","\\ud800"]}', true],
    ['{"\\ud83d":1}', true],
    ['{"a":"\\ud83d\\ude00"}', false],
    ['{"a":"🙂 é"}', false],
    ['{"a":"\\u00e9"}', false],
  ])('%s → %s', (raw, expected) => {
    expect(check(raw)).toBe(expected);
  });
});
