import {
  DEFAULT_SIM_CONFIG,
  mergeSimConfig,
  SimConfigError,
  simConfigFromEnv,
  simEnvNames,
} from './sim-config';

describe('sim config', () => {
  it('should keep the documented contract defaults', () => {
    expect(DEFAULT_SIM_CONFIG).toEqual({
      callbackDelayMs: { min: 100, max: 500 },
      read: true,
      failRate: 0,
      failCode: 30008,
      dropRate: 0,
      duplicateRate: 0,
      reorderRate: 0,
      fiveXxAfterAcceptRate: 0,
      burst429: { every: 0, retryAfterS: 1 },
      apiDelayMs: 0,
      callbackConcurrency: 1_024,
      retainS: 3_600,
      truthRetainS: 7_200,
    });
  });

  it('should merge partially, nested objects included', () => {
    const merged = mergeSimConfig(DEFAULT_SIM_CONFIG, { failRate: 0.5, burst429: { every: 10 } });
    expect(merged.failRate).toBe(0.5);
    expect(merged.burst429).toEqual({ every: 10, retryAfterS: 1 });
    expect(DEFAULT_SIM_CONFIG.burst429.every).toBe(0);
  });

  it.each([
    [{ failRate: 1.5 }, /failRate/],
    [{ dropRate: 'half' }, /dropRate/],
    [{ read: 'yes' }, /read/],
    [{ callbackDelayMs: { min: 10, max: 5 } }, /min must not exceed max/],
    [{ unknown: 1 }, /unknown: unknown setting/],
    [{ apiDelayMs: 60_001 }, /apiDelayMs/],
    [{ retainS: -1 }, /retainS/],
    [{ retainS: 1.5 }, /retainS/],
    [{ truthRetainS: -5 }, /truthRetainS/],
    [{ apiDelayMs: -1 }, /apiDelayMs/],
    [[1], /JSON object/],
  ])('should refuse %p', (patch, message) => {
    expect(() => mergeSimConfig(DEFAULT_SIM_CONFIG, patch)).toThrow(SimConfigError);
    expect(() => mergeSimConfig(DEFAULT_SIM_CONFIG, patch)).toThrow(message);
  });

  it('should mirror every knob as a SIM_* variable', () => {
    expect(simEnvNames()).toEqual([
      'SIM_CALLBACK_DELAY_MS_MIN',
      'SIM_CALLBACK_DELAY_MS_MAX',
      'SIM_READ',
      'SIM_FAIL_RATE',
      'SIM_FAIL_CODE',
      'SIM_DROP_RATE',
      'SIM_DUPLICATE_RATE',
      'SIM_REORDER_RATE',
      'SIM_FIVE_XX_AFTER_ACCEPT_RATE',
      'SIM_BURST429_EVERY',
      'SIM_BURST429_RETRY_AFTER_S',
      'SIM_API_DELAY_MS',
      'SIM_CALLBACK_CONCURRENCY',
      'SIM_RETAIN_S',
      'SIM_TRUTH_RETAIN_S',
    ]);
    const config = simConfigFromEnv({
      SIM_CALLBACK_DELAY_MS_MIN: '0',
      SIM_CALLBACK_DELAY_MS_MAX: '20',
      SIM_READ: 'off',
      SIM_FAIL_RATE: '0.25',
      SIM_BURST429_EVERY: '5',
    });
    expect(config).toMatchObject({
      callbackDelayMs: { min: 0, max: 20 },
      read: false,
      failRate: 0.25,
      burst429: { every: 5, retryAfterS: 1 },
    });
  });
});
