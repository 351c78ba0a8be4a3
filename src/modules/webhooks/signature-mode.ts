import type { AppConfig, SignatureMode } from '../../config/app-config';

/**
 * The signature mode in force at `now`: report mode ends at SIGNATURE_REPORT_UNTIL, so a running
 * process starts enforcing at that moment without a restart or a config change.
 */
export function effectiveSignatureMode(
  config: Pick<AppConfig, 'signatureMode' | 'signatureReportUntil'>,
  now: Date,
): SignatureMode {
  const until = config.signatureReportUntil;
  if (config.signatureMode !== 'report') return 'enforce';
  return until === undefined || now.getTime() < until.getTime() ? 'report' : 'enforce';
}
