import { TwilioSignatureValidator } from './twilio-signature.validator';

// twilio-node's official vectors (../shared/reference/twilio.md §1.3), through our validator.
const TOKEN = '12345';
const BASE = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const DEFAULT = {
  CallSid: 'CA1234567890ABCDE',
  Caller: '+14158675309',
  Digits: '1234',
  From: '+14158675309',
  To: '+18005551212',
};

describe('TwilioSignatureValidator', () => {
  const validator = new TwilioSignatureValidator(TOKEN, undefined);

  it.each([
    ['A1', BASE, DEFAULT, 'RSOYDt4T1cUTdK1PDd93/VVr8B8=', 'valid'],
    ['A2', BASE, DEFAULT, 'WRONG_SIGNATURE', 'invalid'],
    [
      'A3',
      'https://mycompany.com:1234/myapp.php?foo=1&bar=2',
      DEFAULT,
      'RSOYDt4T1cUTdK1PDd93/VVr8B8=',
      'valid',
    ],
    [
      'A4',
      'http://mycompany.com:1234/myapp.php?foo=1&bar=2',
      DEFAULT,
      'Zmvh+3yNM1Phv2jhDCwEM3q5ebU=',
      'valid',
    ],
    ['A5', BASE, DEFAULT, 'kvajT1Ptam85bY51eRf/AJRuM3w=', 'valid'],
    [
      'A6',
      'http://mycompany.com/myapp.php?foo=1&bar=2',
      DEFAULT,
      '0ZXoZLH/DfblKGATFgpif+LLRf4=',
      'valid',
    ],
    [
      'A7',
      'https://user:pass@mycompany.com/myapp.php?foo=1&bar=2',
      DEFAULT,
      'CukzLTc1tT5dXEDIHm/tKBanW10=',
      'valid',
    ],
    [
      'A8',
      'https://user:pass@mycompany.com/myapp.php?foo=1&bar=2',
      DEFAULT,
      'ZQFR1PTIZXF2MXB8ZnKCvnnA+rI=',
      'valid',
    ],
    [
      'A9',
      'https://user@mycompany.com/myapp.php?foo=1&bar=2',
      DEFAULT,
      '2YRLlVAflCqxaNicjMpJcSTgzSs=',
      'valid',
    ],
    ['A10', `${BASE}&Body=It's+amazing`, DEFAULT, 'TfZzewPq8wqrGlMfyAud8+/IvJ0=', 'valid'],
    [
      'A11',
      BASE,
      { 'MessagingBinding.Address': ['+1325xxxxxxx', '+1415xxxxxxx'] },
      '83O6e2vORAoJHUNzJjDWN1jz+BA=',
      'valid',
    ],
    [
      'A12',
      BASE,
      { Sid: 'CA123', SidAccount: 'AC123', Digits: ['5678', '1234', '1234'] },
      'IK+Dwps556ElfBT0I3Rgjkr1wJU=',
      'valid',
    ],
  ])('%s: %s → %s', (_name, url, params, signature, expected) => {
    expect(validator.check(signature, url, params)).toBe(expected);
  });

  const STATUS_URL = 'https://hooks.example.com/twilio/whatsapp/status?tenant=t1';
  const STATUS = {
    AccountSid: `AC${'a'.repeat(32)}`,
    ApiVersion: '2010-04-01',
    ChannelInstallSid: `XE${'c'.repeat(32)}`,
    ChannelPrefix: 'whatsapp',
    ChannelToAddress: '+14155550100',
    From: 'whatsapp:+14155238886',
    MessageSid: `SM${'d'.repeat(32)}`,
    MessageStatus: 'delivered',
    SmsSid: `SM${'d'.repeat(32)}`,
    SmsStatus: 'delivered',
    To: 'whatsapp:+14155550100',
  };

  it('should accept the WhatsApp status vector and refuse it with another status or the fragment signed', () => {
    expect(validator.check('PpV6iNxhnecJsYXwqsRUpg3rYiE=', STATUS_URL, STATUS)).toBe('valid');
    expect(
      validator.check('PpV6iNxhnecJsYXwqsRUpg3rYiE=', STATUS_URL, {
        ...STATUS,
        MessageStatus: 'read',
      }),
    ).toBe('invalid');
    expect(validator.check('Bojc3sYp9jD4BSqFDxd9yXm9TjQ=', STATUS_URL, STATUS)).toBe('invalid');
  });

  it('should report a missing signature apart from a wrong one', () => {
    expect(validator.check(undefined, STATUS_URL, STATUS)).toBe('missing');
    expect(validator.check('  ', STATUS_URL, STATUS)).toBe('missing');
  });

  it('should accept the previous token during a rotation, and say so', () => {
    const rotating = new TwilioSignatureValidator('the-new-token-000000', TOKEN);
    expect(rotating.check('PpV6iNxhnecJsYXwqsRUpg3rYiE=', STATUS_URL, STATUS)).toBe(
      'valid-previous-token',
    );
    expect(
      new TwilioSignatureValidator('the-new-token-000000', undefined).check(
        'PpV6iNxhnecJsYXwqsRUpg3rYiE=',
        STATUS_URL,
        STATUS,
      ),
    ).toBe('invalid');
  });
});
