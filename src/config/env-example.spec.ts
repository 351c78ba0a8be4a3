import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from './load-config';

function parseDotEnv(text: string): Record<string, string> {
  const entries = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const eq = line.indexOf('=');
      return [line.slice(0, eq), line.slice(eq + 1)] as const;
    });
  return Object.fromEntries(entries);
}

describe('.env.example', () => {
  const example = parseDotEnv(readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8'));

  it('should list exactly the variables the config reads', () => {
    const read = new Set<string>();
    const recorder = new Proxy<Record<string, string | undefined>>(
      {},
      {
        get: (_target, name) => {
          if (typeof name === 'string') read.add(name);
          return undefined;
        },
      },
    );
    loadConfig(recorder);
    expect(Object.keys(example).sort()).toEqual([...read].sort());
  });

  it('should hold values that pass validation', () => {
    expect(() => loadConfig(example)).not.toThrow();
  });

  it('should comment every variable', () => {
    const text = readFileSync(join(__dirname, '..', '..', '.env.example'), 'utf8').split('\n');
    for (const [index, line] of text.entries()) {
      if (/^[A-Z_]+=/.test(line)) expect(text[index - 1]).toMatch(/^#/);
    }
  });
});
