import twilio from 'twilio';
import { signedString, twilioSignature, type FormParams } from './twilio-signature';

// twilio-node's own vectors (spec/validation.spec.js) and Twilio's documented examples, from
// ../shared/reference/twilio.md §1.3. The simulator's signer is independent of twilio-node;
// each vector is also checked with twilio.validateRequest.
const TOKEN = '12345';
const BASE = 'https://mycompany.com/myapp.php?foo=1&bar=2';
const DEFAULT_PARAMS: FormParams = {
  CallSid: 'CA1234567890ABCDE',
  Caller: '+14158675309',
  Digits: '1234',
  From: '+14158675309',
  To: '+18005551212',
};

describe('twilioSignature (simulator signer)', () => {
  it.each([
    ['A1', BASE, DEFAULT_PARAMS, 'RSOYDt4T1cUTdK1PDd93/VVr8B8='],
    [
      'A4',
      'http://mycompany.com:1234/myapp.php?foo=1&bar=2',
      DEFAULT_PARAMS,
      'Zmvh+3yNM1Phv2jhDCwEM3q5ebU=',
    ],
    [
      'A5',
      'https://mycompany.com:443/myapp.php?foo=1&bar=2',
      DEFAULT_PARAMS,
      'kvajT1Ptam85bY51eRf/AJRuM3w=',
    ],
    [
      'A6',
      'http://mycompany.com:80/myapp.php?foo=1&bar=2',
      DEFAULT_PARAMS,
      '0ZXoZLH/DfblKGATFgpif+LLRf4=',
    ],
    [
      'A7',
      'https://user:pass@mycompany.com/myapp.php?foo=1&bar=2',
      DEFAULT_PARAMS,
      'CukzLTc1tT5dXEDIHm/tKBanW10=',
    ],
    [
      'A8',
      'https://user:pass@mycompany.com:443/myapp.php?foo=1&bar=2',
      DEFAULT_PARAMS,
      'ZQFR1PTIZXF2MXB8ZnKCvnnA+rI=',
    ],
    [
      'A9',
      'https://user@mycompany.com/myapp.php?foo=1&bar=2',
      DEFAULT_PARAMS,
      '2YRLlVAflCqxaNicjMpJcSTgzSs=',
    ],
    ['A10', `${BASE}&Body=It%27s+amazing`, DEFAULT_PARAMS, 'TfZzewPq8wqrGlMfyAud8+/IvJ0='],
    [
      'A11',
      BASE,
      { 'MessagingBinding.Address': ['+1415xxxxxxx', '+1325xxxxxxx'] },
      '83O6e2vORAoJHUNzJjDWN1jz+BA=',
    ],
    [
      'A12',
      BASE,
      { Sid: 'CA123', SidAccount: 'AC123', Digits: ['5678', '1234', '1234'] },
      'IK+Dwps556ElfBT0I3Rgjkr1wJU=',
    ],
    [
      'doc (current)',
      'https://example.com/myapp.php?foo=1&bar=2',
      {
        Digits: '1234',
        To: '+18005551212',
        From: '+14158675310',
        Caller: '+14158675310',
        CallSid: 'CA1234567890ABCDE',
      },
      'L/OH5YylLD5NRKLltdqwSvS0BnU=',
    ],
    [
      'doc (older)',
      BASE,
      {
        CallSid: 'CA1234567890ABCDE',
        Caller: '+12349013030',
        Digits: '1234',
        From: '+12349013030',
        To: '+18005551212',
      },
      '0/KCTR6DLpKmkAf8muzZqo1nDgQ=',
    ],
    [
      'D inbound',
      'https://hooks.example.com/twilio/whatsapp/inbound',
      {
        AccountSid: `AC${'a'.repeat(32)}`,
        ApiVersion: '2010-04-01',
        Body: 'Hello',
        From: 'whatsapp:+14155550100',
        MessageSid: `SM${'b'.repeat(32)}`,
        NumMedia: '0',
        NumSegments: '1',
        ProfileName: 'Test User',
        SmsMessageSid: `SM${'b'.repeat(32)}`,
        SmsSid: `SM${'b'.repeat(32)}`,
        SmsStatus: 'received',
        To: 'whatsapp:+14155238886',
        WaId: '14155550100',
      },
      '9ADOiFksMD4YN93q+7TGz/wV9aY=',
    ],
  ])('should reproduce vector %s', (_name, url, params, expected) => {
    expect(twilioSignature(TOKEN, url, params)).toBe(expected);
    expect(twilio.validateRequest(TOKEN, expected, url, params)).toBe(true);
  });

  const STATUS_URL = 'https://hooks.example.com/twilio/whatsapp/status?tenant=t1';
  const STATUS_PARAMS: FormParams = {
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

  it('should sign a WhatsApp status callback (vector D status) and leave the fragment out', () => {
    expect(twilioSignature(TOKEN, STATUS_URL, STATUS_PARAMS)).toBe('PpV6iNxhnecJsYXwqsRUpg3rYiE=');
    expect(twilioSignature(TOKEN, `${STATUS_URL}#rc=3&rp=all`, STATUS_PARAMS)).toBe(
      'PpV6iNxhnecJsYXwqsRUpg3rYiE=',
    );
    expect(
      twilioSignature(TOKEN, STATUS_URL, { ...STATUS_PARAMS, MessageStatus: 'read' }),
    ).not.toBe('PpV6iNxhnecJsYXwqsRUpg3rYiE=');
  });

  it('should build the signed string as URL + sorted name/value pairs with no separators', () => {
    expect(signedString(BASE, DEFAULT_PARAMS)).toBe(
      `${BASE}CallSidCA1234567890ABCDECaller+14158675309Digits1234From+14158675309To+18005551212`,
    );
  });

  it('should sort names case-sensitively by code unit (upper case first)', () => {
    expect(signedString('u', { b: '1', B: '2', a: '3', A: '4' })).toBe('uA4B2a3b1');
  });
});
