import type { AppConfig } from './app-config';

/**
 * What the operator should hear at boot about a configuration that is valid but temporary or
 * pointless: one line each, naming the variable (never a secret's value). Pure, so main.ts
 * logs them once and tests call it with a fixed `now`.
 */
export function configWarnings(
  config: Pick<
    AppConfig,
    'signatureMode' | 'signatureReportUntil' | 'twilio' | 'nodeEnv' | 'eventsAllowPrivate'
  >,
  now: Date,
): string[] {
  const warnings: string[] = [];
  const until = config.signatureReportUntil;
  if (config.signatureMode === 'report') {
    if (until === undefined) {
      warnings.push(
        'config: SIGNATURE_MODE is report with no SIGNATURE_REPORT_UNTIL: webhook signature ' +
          'failures are counted but let through (production refuses this)',
      );
    } else if (now.getTime() < until.getTime()) {
      warnings.push(
        `config: SIGNATURE_MODE is report until ${until.toISOString()} ` +
          '(SIGNATURE_REPORT_UNTIL): webhook signature failures are counted but let through, ' +
          'then enforced',
      );
    } else {
      warnings.push(
        `config: SIGNATURE_REPORT_UNTIL (${until.toISOString()}) has passed: enforcing webhook ` +
          'signatures; set SIGNATURE_MODE=enforce and remove SIGNATURE_REPORT_UNTIL',
      );
    }
  }
  const { authToken, authTokenPrevious } = config.twilio;
  if (authTokenPrevious !== undefined && authTokenPrevious === authToken) {
    warnings.push(
      'config: TWILIO_AUTH_TOKEN_PREVIOUS equals TWILIO_AUTH_TOKEN and adds nothing; ' +
        'remove it once a rotation is done',
    );
  }
  if (config.nodeEnv === 'production' && config.eventsAllowPrivate) {
    warnings.push(
      'config: EVENTS_ALLOW_PRIVATE is on in production: event subscriptions may target plain ' +
        'http and private, loopback and link-local addresses (cloud metadata included)',
    );
  }
  return warnings;
}
